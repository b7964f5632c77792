-- Strata security (3/3): an append-only, tamper-evident audit trail.
--   * The application cannot write config_audit at all: the engine's audit trigger function now
--     runs as its owner (SECURITY DEFINER), so a console user cannot forge history. For a role
--     mapped to a directory user, the guard trigger (0100) sets strata.operator to that user, so
--     changed_by names who really made the change whatever the client claimed.
--   * Nobody edits history: UPDATE, DELETE and TRUNCATE are revoked from the application and
--     refused by triggers, for the table owner too (only disabling the trigger, which needs
--     ownership, gets past them).
--   * Every row carries prev_hash and hash, so an edited, deleted or reordered row breaks the
--     chain from that row on; the newest (seq, hash) is kept in strata_audit_head, so deleting the
--     newest rows shows too. src-main/services/audit-verify.ts recomputes the chain independently.
--   * A push (strata.push_id set) to a database labelled production (strata_settings
--     environment = production) must give a reason.
--
-- hash = hex(sha256(UTF-8 of prev_hash || '\n' || 'strata-audit-v1' || '\n' || fields)), where
-- fields are seq, id, config_table, config_id, key, old_value, new_value, value_type, encrypted
-- ('t'/'f'), change_type, changed_by, changed_at (integer epoch microseconds), ip_address
-- (inet::text, with its mask), user_agent, reason, push_id, each written '<number of
-- characters>:<text>;' or '~;' for NULL. The first row's prev_hash is 64 zeros. sha256() is built
-- in from PostgreSQL 11; pgcrypto is not needed.

ALTER FUNCTION strata_audit_statement() SECURITY DEFINER;
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_audit_statement() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;

ALTER TABLE config_audit ADD COLUMN prev_hash TEXT, ADD COLUMN hash TEXT;

-- The canonical text and hash, as SQL (used for existing rows) ...
CREATE FUNCTION strata_audit_hash(prev text, a config_audit) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(prev || chr(10) || 'strata-audit-v1' || chr(10)
    || char_length(a.seq::text) || ':' || a.seq::text || ';'
    || coalesce(char_length(a.id::text) || ':' || a.id::text || ';', '~;')
    || coalesce(char_length(a.config_table) || ':' || a.config_table || ';', '~;')
    || coalesce(char_length(a.config_id) || ':' || a.config_id || ';', '~;')
    || coalesce(char_length(a.key) || ':' || a.key || ';', '~;')
    || coalesce(char_length(a.old_value) || ':' || a.old_value || ';', '~;')
    || coalesce(char_length(a.new_value) || ':' || a.new_value || ';', '~;')
    || coalesce(char_length(a.value_type) || ':' || a.value_type || ';', '~;')
    || CASE WHEN a.encrypted THEN '1:t;' ELSE '1:f;' END
    || coalesce(char_length(a.change_type) || ':' || a.change_type || ';', '~;')
    || coalesce(char_length(a.changed_by) || ':' || a.changed_by || ';', '~;')
    || coalesce(char_length(((extract(epoch FROM a.changed_at) * 1000000)::bigint)::text) || ':'
                || ((extract(epoch FROM a.changed_at) * 1000000)::bigint)::text || ';', '~;')
    || coalesce(char_length(a.ip_address::text) || ':' || a.ip_address::text || ';', '~;')
    || coalesce(char_length(a.user_agent) || ':' || a.user_agent || ';', '~;')
    || coalesce(char_length(a.reason) || ':' || a.reason || ';', '~;')
    || coalesce(char_length(a.push_id) || ':' || a.push_id || ';', '~;'),
    'UTF8')), 'hex')
$$;

-- Chain existing history (a database that had audit rows before this migration).
DO $$
DECLARE
  r config_audit;
  prev text := repeat('0', 64);
BEGIN
  FOR r IN SELECT * FROM config_audit ORDER BY seq LOOP
    UPDATE config_audit SET prev_hash = prev, hash = strata_audit_hash(prev, r) WHERE seq = r.seq;
    prev := strata_audit_hash(prev, r);
  END LOOP;
END $$;

ALTER TABLE config_audit ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

-- The newest link, updated once per INSERT statement on config_audit.
CREATE TABLE strata_audit_head (
    id        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO strata_audit_head (id, last_seq, last_hash)
SELECT TRUE, coalesce(max(seq), 0),
       coalesce((SELECT hash FROM config_audit ORDER BY seq DESC LIMIT 1), repeat('0', 64))
FROM config_audit;

-- The chain is extended under an advisory transaction lock taken once per INSERT statement
-- (BEFORE STATEMENT), which also locks the head row: a REPEATABLE READ or SERIALIZABLE writer
-- that could not see a concurrent writer's rows then fails with a serialization error (retry)
-- instead of forking the chain. The statement's tail hash travels from row to row in a
-- transaction-local setting; the BEFORE STATEMENT trigger always resets it from the head, and no
-- client code runs between the rows of one INSERT, so a client cannot plant a value there.
-- seq is drawn again under the lock, so chain order is seq order even when transactions took
-- their default seq in another order. The per-row work is one plpgsql expression (no queries):
-- a 10,000-row push adds tens of milliseconds, not seconds.
CREATE FUNCTION strata_audit_chain_begin() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  tail text;
BEGIN
  PERFORM pg_advisory_xact_lock(727351120);
  SELECT h.last_hash INTO tail FROM strata_audit_head h WHERE h.id FOR UPDATE;
  PERFORM set_config('strata.audit_tail', tail, true);
  RETURN NULL;
END $$;

DO $do$
BEGIN
  -- The sequence is named by oid so the trigger does not depend on the inserting session's
  -- search_path (it is not SECURITY DEFINER: only the owner and superusers insert here).
  EXECUTE format($f$
CREATE FUNCTION strata_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $b$
DECLARE
  prev text := current_setting('strata.audit_tail', true);
  ignored text;
BEGIN
  IF prev IS NULL OR prev !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'The audit chain tail is missing; config_audit rows must be inserted by an INSERT statement.';
  END IF;
  NEW.seq := nextval(%s::regclass);
  IF NEW.ip_address IS NULL THEN
    NEW.ip_address := inet_client_addr();
  END IF;
  IF NEW.user_agent IS NULL THEN
    NEW.user_agent := nullif(current_setting('application_name', true), '');
  END IF;
  NEW.prev_hash := prev;
  NEW.hash := encode(sha256(convert_to(prev || chr(10) || 'strata-audit-v1' || chr(10)
    || char_length(NEW.seq::text) || ':' || NEW.seq::text || ';'
    || coalesce(char_length(NEW.id::text) || ':' || NEW.id::text || ';', '~;')
    || coalesce(char_length(NEW.config_table) || ':' || NEW.config_table || ';', '~;')
    || coalesce(char_length(NEW.config_id) || ':' || NEW.config_id || ';', '~;')
    || coalesce(char_length(NEW.key) || ':' || NEW.key || ';', '~;')
    || coalesce(char_length(NEW.old_value) || ':' || NEW.old_value || ';', '~;')
    || coalesce(char_length(NEW.new_value) || ':' || NEW.new_value || ';', '~;')
    || coalesce(char_length(NEW.value_type) || ':' || NEW.value_type || ';', '~;')
    || CASE WHEN NEW.encrypted THEN '1:t;' ELSE '1:f;' END
    || coalesce(char_length(NEW.change_type) || ':' || NEW.change_type || ';', '~;')
    || coalesce(char_length(NEW.changed_by) || ':' || NEW.changed_by || ';', '~;')
    || coalesce(char_length(((extract(epoch FROM NEW.changed_at) * 1000000)::bigint)::text) || ':'
                || ((extract(epoch FROM NEW.changed_at) * 1000000)::bigint)::text || ';', '~;')
    || coalesce(char_length(NEW.ip_address::text) || ':' || NEW.ip_address::text || ';', '~;')
    || coalesce(char_length(NEW.user_agent) || ':' || NEW.user_agent || ';', '~;')
    || coalesce(char_length(NEW.reason) || ':' || NEW.reason || ';', '~;')
    || coalesce(char_length(NEW.push_id) || ':' || NEW.push_id || ';', '~;'),
    'UTF8')), 'hex');
  ignored := set_config('strata.audit_tail', NEW.hash, true);
  RETURN NEW;
END $b$
$f$, pg_get_serial_sequence(format('%I.config_audit', current_schema()), 'seq')::regclass::oid);
END $do$;

CREATE FUNCTION strata_audit_advance_head() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  UPDATE strata_audit_head h SET last_seq = a.seq, last_hash = a.hash
  FROM (SELECT seq, hash FROM config_audit ORDER BY seq DESC LIMIT 1) a
  WHERE h.id AND a.seq > h.last_seq;
  RETURN NULL;
END $$;

-- Refuses any change to history. The head may be advanced only from inside the chain's own
-- trigger (trigger depth > 1); a direct UPDATE of it is refused like any other edit.
CREATE FUNCTION strata_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'strata_audit_head' AND TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION USING
    ERRCODE = 'insufficient_privilege',
    MESSAGE = format('%s is append-only: %s is not allowed.', TG_TABLE_NAME, TG_OP),
    HINT = 'Audit history cannot be changed or removed; corrections are new configuration changes.';
END $$;

CREATE TRIGGER strata_chain_begin BEFORE INSERT ON config_audit
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_chain_begin();
CREATE TRIGGER strata_chain BEFORE INSERT ON config_audit
  FOR EACH ROW EXECUTE FUNCTION strata_audit_chain();
CREATE TRIGGER strata_head AFTER INSERT ON config_audit
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_advance_head();
CREATE TRIGGER strata_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON config_audit
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_append_only();
CREATE TRIGGER strata_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON strata_audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_append_only();

-- Readers see the audit of what they may read (same tenant isolation as the config tables).
-- Not forced: the owner writes it through the definer functions above.
ALTER TABLE config_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY strata_read ON config_audit FOR SELECT USING (
  (SELECT strata_reads_all())
  OR (config_table = 'global' AND (SELECT strata_reads_global()))
  OR (config_table = 'tenant' AND config_id = (SELECT strata_read_tenant()))
  OR (config_table = 'department' AND regexp_replace(config_id, '/[^/]*$', '') = (SELECT strata_read_tenant()))
  OR (config_table = 'group' AND config_id IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant()))))
  OR (config_table = 'user' AND config_id IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant()))))
);

REVOKE ALL ON config_audit, strata_audit_head FROM PUBLIC;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON config_audit FROM strata_app;
GRANT SELECT ON config_audit, strata_audit_head TO strata_app;

-- A push to production needs a reason: checked once per statement on the config tables (the
-- audit rows get strata.reason) and on the push record itself.
CREATE FUNCTION strata_production_label() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT EXISTS (SELECT 1 FROM strata_settings s
                 WHERE s.key = 'environment' AND lower(btrim(s.value)) = 'production')
$$;

CREATE FUNCTION strata_require_push_reason() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  push text := nullif(current_setting('strata.push_id', true), '');
  why text := nullif(btrim(coalesce(current_setting('strata.reason', true), '')), '');
BEGIN
  IF TG_TABLE_NAME = 'config_pushes' THEN
    push := NEW.id;
    why := nullif(btrim(coalesce(NEW.reason, '')), '');
  END IF;
  IF push IS NOT NULL AND why IS NULL AND strata_production_label() THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'A reason is required for every push to a production database.',
      HINT = 'Give the push a reason; it is stored with every audit row of the push.';
  END IF;
  RETURN CASE WHEN TG_LEVEL = 'ROW' THEN NEW ELSE NULL END;
END $$;

DO $$
DECLARE
  lvl text;
BEGIN
  FOREACH lvl IN ARRAY ARRAY['global', 'tenant', 'department', 'group', 'user'] LOOP
    EXECUTE format('CREATE TRIGGER strata_push_reason BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION strata_require_push_reason()',
                   'config_' || lvl);
  END LOOP;
END $$;
CREATE TRIGGER strata_push_reason BEFORE INSERT ON config_pushes
  FOR EACH ROW EXECUTE FUNCTION strata_require_push_reason();

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY['strata_audit_chain_begin()', 'strata_audit_advance_head()', 'strata_production_label()'] LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, current_schema());
  END LOOP;
  EXECUTE 'REVOKE ALL ON FUNCTION strata_production_label() FROM PUBLIC';
  EXECUTE 'GRANT EXECUTE ON FUNCTION strata_production_label() TO strata_app';
END $$;

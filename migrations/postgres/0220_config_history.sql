-- Strata point in time: the state of every configuration slot after every change, so the
-- effective configuration of any user or scope can be rebuilt as it was at a past moment and a
-- whole past push can be reverted as one staged change set (src-main/services/history-*.ts).
--
-- Why a companion to config_audit instead of reading config_audit alone: an audit row keeps the
-- old and new value, but not the lock flag (a lock change shows as an update with equal values),
-- not the old value type, and for secrets only a fingerprint, so neither a lock's history nor a
-- secret can be restored from it. config_history keeps, per change, the row as stored afterwards:
-- value (secrets as their ciphertext envelope, never plaintext, exactly as the config tables hold
-- them), value_type, encrypted and locked, or present = false for a removal. It is written by
-- statement-level triggers in the same transaction as the change and the audit rows, stamped with
-- the same operator, push id and transaction time (changed_at = now(), as in config_audit).
--
-- Rebuilding the state at time T is one query: per slot, the newest row with changed_at <= T.
-- Rows that existed when this migration ran are recorded with the migration's time, and
-- strata_settings 'history_since' says from when the history is complete; the service refuses
-- earlier moments with that date instead of guessing.
--
-- Readers see the rows of the slots they may read (same isolation as config_audit); nobody edits
-- or deletes history (the append-only trigger of 0120).

CREATE TABLE config_history (
    seq        BIGSERIAL PRIMARY KEY,
    level      VARCHAR(20) NOT NULL CHECK (level IN ('global', 'tenant', 'department', 'group', 'user')),
    scope      TEXT NOT NULL,
    key        VARCHAR(200) NOT NULL,
    present    BOOLEAN NOT NULL,
    value      TEXT,
    value_type VARCHAR(20) NOT NULL,
    encrypted  BOOLEAN NOT NULL DEFAULT FALSE,
    locked     BOOLEAN NOT NULL DEFAULT FALSE,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    changed_by TEXT NOT NULL,
    push_id    TEXT,
    CHECK (present = (value IS NOT NULL))
);
CREATE INDEX idx_config_history_slot ON config_history(level, scope, key, seq);
CREATE INDEX idx_config_history_time ON config_history(changed_at);
CREATE INDEX idx_config_history_push ON config_history(push_id) WHERE push_id IS NOT NULL;

-- One set-based INSERT per statement. An UPDATE is matched old-to-new by slot (scope + key), so
-- an UPDATE that moves a row to another scope records a removal and an addition.
CREATE FUNCTION strata_history_statement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  lvl text := TG_ARGV[0];
  op text := coalesce(nullif(current_setting('strata.operator', true), ''), session_user);
  push text := nullif(current_setting('strata.push_id', true), '');
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'r.tenant_id::text'
    WHEN 'department' THEN '(r.tenant_id || ''/'' || r.department)::text'
    WHEN 'group' THEN 'r.group_id::text'
    ELSE 'r.user_id::text' END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format(
      'INSERT INTO config_history (level, scope, key, present, value, value_type, encrypted, locked, changed_by, push_id)
       SELECT %L, %s, r.key, true, r.value, r.value_type, r.encrypted, r.locked, $1, $2
       FROM new_rows r ORDER BY 2, 3', lvl, scope_expr)
    USING op, push;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format(
      'INSERT INTO config_history (level, scope, key, present, value, value_type, encrypted, locked, changed_by, push_id)
       SELECT %L, %s, r.key, false, NULL, r.value_type, r.encrypted, false, $1, $2
       FROM old_rows r ORDER BY 2, 3', lvl, scope_expr)
    USING op, push;
  ELSE
    EXECUTE format(
      'INSERT INTO config_history (level, scope, key, present, value, value_type, encrypted, locked, changed_by, push_id)
       SELECT %L, coalesce(n.scope, o.scope), coalesce(n.key, o.key), n.key IS NOT NULL, n.value,
              coalesce(n.value_type, o.value_type), coalesce(n.encrypted, o.encrypted), coalesce(n.locked, false), $1, $2
       FROM (SELECT %s AS scope, r.key::text AS key, r.value, r.value_type::text AS value_type, r.encrypted, r.locked FROM new_rows r) n
       FULL JOIN (SELECT %s AS scope, r.key::text AS key, r.value, r.value_type::text AS value_type, r.encrypted, r.locked FROM old_rows r) o
         ON n.scope = o.scope AND n.key = o.key
       WHERE n.key IS NULL OR o.key IS NULL
          OR n.value IS DISTINCT FROM o.value OR n.value_type IS DISTINCT FROM o.value_type
          OR n.encrypted IS DISTINCT FROM o.encrypted OR n.locked IS DISTINCT FROM o.locked
       ORDER BY 2, 3', lvl, scope_expr, scope_expr)
    USING op, push;
  END IF;
  RETURN NULL;
END $$;

-- Today's rows open the history. Row-level security is FORCED on the config tables (0100), which
-- binds their owner too, so it is lifted for this transaction's reads only; the ALTERs hold an
-- exclusive lock until COMMIT, so no other session ever sees the tables without it.
DO $$
DECLARE
  spec text[];
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ARRAY['config_global', 'global', $q$''$q$],
    ARRAY['config_tenant', 'tenant', 'tenant_id'],
    ARRAY['config_department', 'department', $q$(tenant_id || '/' || department)$q$],
    ARRAY['config_group', 'group', 'group_id'],
    ARRAY['config_user', 'user', 'user_id']
  ] LOOP
    EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', spec[1]);
    EXECUTE format(
      'INSERT INTO config_history (level, scope, key, present, value, value_type, encrypted, locked, changed_by)
       SELECT %L, %s, key, true, value, value_type, encrypted, locked, %L FROM %I ORDER BY 2, 3',
      spec[2], spec[3], 'strata:history-start', spec[1]);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', spec[1]);
    EXECUTE format('CREATE TRIGGER strata_history_ins AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_history_statement(%L)',
                   spec[1], spec[2]);
    EXECUTE format('CREATE TRIGGER strata_history_upd AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_history_statement(%L)',
                   spec[1], spec[2]);
    EXECUTE format('CREATE TRIGGER strata_history_del AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_history_statement(%L)',
                   spec[1], spec[2]);
  END LOOP;
END $$;

INSERT INTO strata_settings (key, value)
VALUES ('history_since', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
ON CONFLICT (key) DO NOTHING;

CREATE TRIGGER strata_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON config_history
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_append_only();

-- Not forced: the owner writes it through the definer function above.
ALTER TABLE config_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY strata_read ON config_history FOR SELECT USING (
  (SELECT strata_reads_all())
  OR (level = 'global' AND (SELECT strata_reads_global()))
  OR (level = 'tenant' AND scope = (SELECT strata_read_tenant()))
  OR (level = 'department' AND regexp_replace(scope, '/[^/]*$', '') = (SELECT strata_read_tenant()))
  OR (level = 'group' AND scope IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant()))))
  OR (level = 'user' AND scope IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant()))))
);

REVOKE ALL ON config_history FROM PUBLIC;
GRANT SELECT ON config_history TO strata_app;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_history_statement() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;

-- Strata security (4/4): every reveal of a secret's plaintext is recorded, append-only.
--
-- A reveal (the console's Reveal button, `strata resolve/effective --reveal`, a library read with
-- revealSecrets) releases plaintext that the database never holds: the console decrypts it with
-- CONFIG_ENCRYPTION_KEY. So the database cannot see a reveal happen; the service records it
-- here BEFORE it returns the value, and refuses the reveal when the record cannot be written.
--
-- config_reveals is a table of its own rather than config_audit rows with a new change_type:
-- config_audit records changes (its hash chain, live notifications and point-in-time history all
-- assume that a row is a change), a reveal changes nothing.
--
--   * Who: the directory user mapped to the connected role (users.db_role), decided by the
--     database, never by the client. A role that bypasses row-level security (superuser,
--     BYPASSRLS) is the DBA: the client's operator name is recorded for it, next to db_role.
--   * What: level, scope and key of each slot revealed, and the fingerprint of the envelope the
--     client decrypted (so after a rotation it is clear whether the exposed secret is still in
--     use). Never the value, never the ciphertext.
--   * When, from where, why: revealed_at, ip_address, user_agent (application_name), reason,
--     and via (console, cli or api).
--
-- The application cannot write the table: rows come only from strata_record_reveals(), a
-- SECURITY DEFINER function run as the owner, which checks that the caller may read each slot
-- (the read side of the access matrix of 0100) before it records anything. UPDATE, DELETE and
-- TRUNCATE are refused for everyone, the owner included (the append-only trigger of 0120).
-- Readers see the reveals of the slots they may read, like config_audit.

CREATE TABLE config_reveals (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         BIGSERIAL UNIQUE,
    level       VARCHAR(20) NOT NULL
                CHECK (level IN ('global', 'tenant', 'department', 'group', 'user', 'default', 'env_legacy')),
    scope       TEXT NOT NULL CHECK (char_length(scope) <= 201),
    key         VARCHAR(200) NOT NULL CHECK (char_length(key) >= 1),
    fingerprint VARCHAR(16) CHECK (fingerprint ~ '^[0-9a-f]{16}$'),
    revealed_by TEXT NOT NULL,
    db_role     TEXT NOT NULL,
    revealed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    reason      TEXT CHECK (char_length(reason) <= 2000),
    via         VARCHAR(20) NOT NULL CHECK (via IN ('console', 'cli', 'api')),
    ip_address  INET,
    user_agent  TEXT
);
CREATE INDEX idx_config_reveals_key_time ON config_reveals(key, revealed_at DESC);
CREATE INDEX idx_config_reveals_user_time ON config_reveals(revealed_by, revealed_at DESC);

CREATE TRIGGER strata_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON config_reveals
  FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_append_only();

-- Records the reveal of one or more slots for the role p_current and returns the rows' seq and
-- time. p_current must be a role the session may act as (its own, or one it may SET ROLE to), so
-- a caller cannot have a reveal recorded under somebody else's name. p_operator is used only for
-- roles that bypass row-level security and map to no directory user.
CREATE FUNCTION strata_record_reveals(p_current text, p_levels text[], p_scopes text[],
                                      p_keys text[], p_fingerprints text[], p_operator text,
                                      p_reason text, p_via text)
RETURNS TABLE (out_seq bigint, out_revealed_by text, out_revealed_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  n integer := coalesce(array_length(p_keys, 1), 0);
  op record;
  who text;
  bypass boolean;
  why text := nullif(btrim(coalesce(p_reason, '')), '');
  lvl text;
  scp text;
  owner_tenant text;
BEGIN
  -- Two steps: pg_has_role() raises for a role that does not exist.
  IF p_current IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_current) THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = 'A reveal can be recorded only for the connected database role.';
  END IF;
  IF NOT pg_has_role(session_user, p_current, 'MEMBER') THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = 'A reveal can be recorded only for the connected database role.';
  END IF;
  IF n < 1 OR n > 1000
     OR coalesce(array_length(p_levels, 1), 0) <> n
     OR coalesce(array_length(p_scopes, 1), 0) <> n
     OR coalesce(array_length(p_fingerprints, 1), 0) <> n THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'A reveal names 1 to 1000 slots, each with a level, a scope, a key and a fingerprint (or null).';
  END IF;
  IF p_via IS NULL OR p_via NOT IN ('console', 'cli', 'api') THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'A reveal comes through the console, the cli or the api.';
  END IF;
  IF char_length(why) > 2000 THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'The reason for a reveal is longer than 2000 characters.';
  END IF;

  op := strata_lookup_operator(p_current, session_user::text);
  IF op.id IS NULL THEN
    SELECT coalesce(bool_or(r.rolsuper OR r.rolbypassrls), false) INTO bypass
    FROM pg_roles r WHERE r.rolname IN (p_current, session_user::text);
    IF NOT bypass THEN
      RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('Database role %s is not mapped to a directory user (users.db_role), so it cannot reveal secrets.', p_current);
    END IF;
    who := coalesce(nullif(btrim(coalesce(p_operator, '')), ''), p_current);
  ELSE
    who := op.id;
    IF NOT ('admin_capable' = ANY (op.traits)) THEN
      RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('%s lacks the admin_capable trait required for any configuration access.', who);
    END IF;
  END IF;

  FOR i IN 1 .. n LOOP
    lvl := p_levels[i];
    scp := p_scopes[i];
    IF lvl IS NULL OR scp IS NULL OR p_keys[i] IS NULL OR p_keys[i] = ''
       OR lvl NOT IN ('global', 'tenant', 'department', 'group', 'user', 'default', 'env_legacy') THEN
      RAISE EXCEPTION USING
        ERRCODE = 'invalid_parameter_value',
        MESSAGE = 'Every revealed slot needs a known level, a scope and a key.';
    END IF;
    -- The read side of the matrix (strata_can_read), for the operator found above.
    IF op.id IS NOT NULL AND NOT ('super_admin' = ANY (op.traits))
       AND lvl NOT IN ('global', 'default', 'env_legacy') THEN
      owner_tenant := CASE lvl
        WHEN 'tenant' THEN scp
        WHEN 'department' THEN regexp_replace(scp, '/[^/]*$', '')
        WHEN 'group' THEN strata_group_tenant(scp)
        ELSE strata_user_tenant(scp) END;
      IF owner_tenant IS NULL OR owner_tenant IS DISTINCT FROM op.tenant_id THEN
        RAISE EXCEPTION USING
          ERRCODE = 'insufficient_privilege',
          MESSAGE = format('Permission denied: %s may not read %s %s.', who, lvl, scp);
      END IF;
    END IF;
  END LOOP;

  RETURN QUERY
  INSERT INTO config_reveals AS r (level, scope, key, fingerprint, revealed_by, db_role, reason, via,
                                   ip_address, user_agent)
  SELECT u.u_level, u.u_scope, u.u_key, u.u_fp, who, session_user::text, why, p_via,
         inet_client_addr(), nullif(current_setting('application_name', true), '')
  FROM unnest(p_levels, p_scopes, p_keys, p_fingerprints) WITH ORDINALITY
       AS u(u_level, u_scope, u_key, u_fp, u_ord)
  ORDER BY u.u_ord
  RETURNING r.seq, r.revealed_by, r.revealed_at;
END $$;

-- What the application calls: records the reveal for the caller's own role (current_user here is
-- the caller's, since this function is not a definer).
CREATE FUNCTION strata_reveal(p_levels text[], p_scopes text[], p_keys text[],
                              p_fingerprints text[], p_operator text, p_reason text, p_via text)
RETURNS TABLE (out_seq bigint, out_revealed_by text, out_revealed_at timestamptz)
LANGUAGE sql AS $$
  SELECT * FROM strata_record_reveals(current_user::text, p_levels, p_scopes, p_keys,
                                      p_fingerprints, p_operator, p_reason, p_via)
$$;

-- Not forced: the owner writes it through the definer function above.
ALTER TABLE config_reveals ENABLE ROW LEVEL SECURITY;
CREATE POLICY strata_read ON config_reveals FOR SELECT USING (
  (SELECT strata_reads_all())
  OR (level IN ('global', 'default', 'env_legacy') AND (SELECT strata_reads_global()))
  OR (level = 'tenant' AND scope = (SELECT strata_read_tenant()))
  OR (level = 'department' AND regexp_replace(scope, '/[^/]*$', '') = (SELECT strata_read_tenant()))
  OR (level = 'group' AND scope IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant()))))
  OR (level = 'user' AND scope IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant()))))
);

REVOKE ALL ON config_reveals FROM PUBLIC;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON config_reveals FROM strata_app;
GRANT SELECT ON config_reveals TO strata_app;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_record_reveals(text, text[], text[], text[], text[], text, text, text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION strata_reveal(text[], text[], text[], text[], text, text, text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
REVOKE ALL ON FUNCTION strata_record_reveals(text, text[], text[], text[], text[], text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION strata_reveal(text[], text[], text[], text[], text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION strata_record_reveals(text, text[], text[], text[], text[], text, text, text) TO strata_app;
GRANT EXECUTE ON FUNCTION strata_reveal(text[], text[], text[], text[], text, text, text) TO strata_app;

-- Console users connect as their own roles, and the service checks the migration status before
-- anything else (PostgresStore.open): the application may read which migrations were applied.
-- strata_migrations is created by the migration runner, not by a migration file.
DO $$
BEGIN
  IF to_regclass('strata_migrations') IS NOT NULL THEN
    EXECUTE 'GRANT SELECT ON strata_migrations TO strata_app';
  END IF;
END $$;

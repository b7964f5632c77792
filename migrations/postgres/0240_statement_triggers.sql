-- Strata set-based write checks: the per-row triggers of 0001, 0100, 0110 and 0120 become
-- statement-level work, so a push of 10,000 rows costs a handful of set-based statements instead
-- of 10,000 calls of four trigger functions (each with its own queries). Same guarantees, same
-- refusals (SQLSTATE and sentence), word for word:
--
--   * Versions. strata_bump_version still runs BEFORE each UPDATE row, but only WHEN the writer
--     did not already set version = old version + 1 and updated_at = now(). The condition is
--     evaluated without calling a function; the push sets both itself. Any other UPDATE (psql,
--     a script) is bumped exactly as before.
--   * Rights. A BEFORE STATEMENT trigger (strata_05_operator) records the mapped directory user as
--     strata.operator, so audit and history rows name who really wrote them. The row-level
--     security write checks (WITH CHECK) now pass rows inside the writer's read scope at once
--     (the read policy's expression, evaluated once per statement) and call the matrix only for
--     rows outside it, raising the matrix's own sentence there. AFTER STATEMENT guards
--     (strata_10_guard_ins/_upd/_del) then apply the whole matrix to every distinct scope the
--     statement touched (old and new rows), once per scope, and refuse the whole statement with
--     the first reason. A mapped super_admin is checked for malformed scopes only, set-based.
--   * Values. AFTER STATEMENT validation (strata_20_validate_ins/_upd) checks every new row
--     against its type and its key's configuration_metadata in ONE query (metadata read and
--     decoded once per distinct key), with the sentences of strata_value_problem().
--   * Audit chain. The audit trigger of each config table now writes its rows already chained:
--     it takes the chain lock, reads the head, draws seq in key order and computes every row's
--     hash with an ordered running aggregate over seq (strata_audit_chain_agg), in the same
--     INSERT. The chain's shape is unchanged (hash = sha256(prev_hash || '\n' || canonical row),
--     prev_hash = the hash of the row before), so rows written before and after this migration
--     verify the same way. strata_chain, the per-row trigger, now runs only for rows inserted
--     directly (psql by the owner), which it chains exactly as before.
-- Triggers on a config table fire AFTER STATEMENT in name order: the audit trigger
-- (config_*_audit_*) first, then strata_10_guard, strata_20_validate, strata_history,
-- strata_lock_guard. A refusal by any of them rolls the whole statement back, audit rows included.

-- ---------------------------------------------------------------------------------------------
-- Versions

DO $$
DECLARE
  lvl text;
BEGIN
  FOREACH lvl IN ARRAY ARRAY['global', 'tenant', 'department', 'group', 'user'] LOOP
    EXECUTE format('DROP TRIGGER config_%s_version ON %I', lvl, 'config_' || lvl);
    EXECUTE format(
      'CREATE TRIGGER config_%s_version BEFORE UPDATE ON %I FOR EACH ROW
         WHEN (NEW.version IS DISTINCT FROM OLD.version + 1 OR NEW.updated_at IS DISTINCT FROM now())
         EXECUTE FUNCTION strata_bump_version()', lvl, 'config_' || lvl);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Rights

-- The matrix's refusal as an exception (the guard's sentence and hint); true when allowed.
CREATE FUNCTION strata_write_allowed_or_raise(p_level text, p_scope text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  why text := (strata_role_write_check(current_user::text, session_user::text, p_level, p_scope)).reason;
BEGIN
  IF why IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Permission denied: ' || why,
      HINT = 'Configuration rights come from the directory traits of the database role''s user (users.db_role).';
  END IF;
  RETURN true;
END $$;

-- The first (scope, reason) the connected role may not write at p_level among p_scopes, in
-- array order; no row when every scope is allowed. SECURITY DEFINER like strata_role_write_check:
-- the matrix reads groups and users whatever their policies show the caller.
CREATE FUNCTION strata_role_write_denial(p_current text, p_session text, p_level text, p_scopes text[],
  OUT denied_scope text, OUT reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  op record;
  s text;
BEGIN
  op := strata_lookup_operator(p_current, p_session);
  IF op.id IS NOT NULL AND op.traits @> ARRAY['admin_capable', 'config_write', 'super_admin'] THEN
    -- A super_admin may write any well-formed scope: only the few scopes that could be
    -- malformed (the matrix's scope rule, widened) go through the matrix.
    FOR s IN
      SELECT x.s FROM unnest(p_scopes) WITH ORDINALITY AS x(s, n)
      WHERE x.s IS NULL OR x.s = '' OR p_level NOT IN ('global', 'tenant', 'department', 'group', 'user')
         OR (p_level = 'global') <> (x.s = '')
         OR (p_level = 'department' AND (x.s NOT LIKE '%/%' OR x.s LIKE '/%' OR x.s LIKE '%/'))
      ORDER BY x.n
    LOOP
      reason := strata_matrix(op.id, op.tenant_id, op.department, op.traits, p_level, s);
      IF reason IS NOT NULL THEN
        denied_scope := s;
        RETURN;
      END IF;
    END LOOP;
    RETURN;
  END IF;
  FOREACH s IN ARRAY p_scopes LOOP
    reason := strata_matrix(op.id, op.tenant_id, op.department, op.traits, p_level, s);
    IF reason IS NOT NULL THEN
      denied_scope := s;
      RETURN;
    END IF;
  END LOOP;
END $$;

-- Who writes: the mapped directory user, for the audit and history triggers of this statement.
CREATE FUNCTION strata_statement_operator() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_user text;
BEGIN
  IF row_security_active(TG_RELID) THEN
    v_user := (strata_lookup_operator(current_user::text, session_user::text)).id;
    IF v_user IS NOT NULL AND current_setting('strata.operator', true) IS DISTINCT FROM v_user THEN
      PERFORM set_config('strata.operator', v_user, true);
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- The guard, once per statement over its transition tables.
CREATE FUNCTION strata_guard_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'r.tenant_id::text'
    WHEN 'department' THEN '(r.tenant_id || ''/'' || r.department)::text'
    WHEN 'group' THEN 'r.group_id::text'
    ELSE 'r.user_id::text' END;
  scopes text[];
  chk record;
BEGIN
  IF NOT row_security_active(TG_RELID) THEN
    RETURN NULL;
  END IF;
  -- Old scopes first (what a row is taken from), then new ones, each once.
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT array_agg(s ORDER BY s) FROM (SELECT DISTINCT %s AS s FROM new_rows r) x', scope_expr)
      INTO scopes;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT array_agg(s ORDER BY s) FROM (SELECT DISTINCT %s AS s FROM old_rows r) x', scope_expr)
      INTO scopes;
  ELSE
    EXECUTE format(
      'SELECT array_agg(s ORDER BY o, s) FROM (
         SELECT s, min(o) AS o FROM (SELECT %s AS s, 0 AS o FROM old_rows r
                                     UNION ALL SELECT %s, 1 FROM new_rows r) y GROUP BY s) x',
      scope_expr, scope_expr)
      INTO scopes;
  END IF;
  IF scopes IS NULL THEN
    RETURN NULL;
  END IF;
  chk := strata_role_write_denial(current_user::text, session_user::text, lvl, scopes);
  IF chk.reason IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Permission denied: ' || chk.reason,
      HINT = 'Configuration rights come from the directory traits of the database role''s user (users.db_role).';
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  spec text[];
  tbl text;
  lvl text;
  scope_expr text;
  read_expr text;
BEGIN
  FOREACH spec SLICE 1 IN ARRAY ARRAY[
    ARRAY['config_global', 'global', $q$''$q$],
    ARRAY['config_tenant', 'tenant', 'tenant_id'],
    ARRAY['config_department', 'department', $q$(tenant_id || '/' || department)$q$],
    ARRAY['config_group', 'group', 'group_id'],
    ARRAY['config_user', 'user', 'user_id']
  ] LOOP
    tbl := spec[1];
    lvl := spec[2];
    scope_expr := spec[3];
    -- The read policy of 0100, unchanged: evaluated once per statement (init plans).
    read_expr := CASE lvl
      WHEN 'global' THEN '(SELECT strata_reads_global())'
      WHEN 'tenant' THEN '(SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant())'
      WHEN 'department' THEN '(SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant())'
      WHEN 'group' THEN '(SELECT strata_reads_all()) OR group_id IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant())))'
      ELSE '(SELECT strata_reads_all()) OR user_id IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant())))'
    END;
    EXECUTE format('DROP POLICY strata_insert ON %I', tbl);
    EXECUTE format('DROP POLICY strata_update ON %I', tbl);
    -- Inside the writer's read scope the statement guard below decides (with its sentence);
    -- outside it the matrix decides here, row by row, and raises its sentence.
    EXECUTE format('CREATE POLICY strata_insert ON %I FOR INSERT WITH CHECK ((%s) OR strata_write_allowed_or_raise(%L, %s))',
                   tbl, read_expr, lvl, scope_expr);
    EXECUTE format('CREATE POLICY strata_update ON %I FOR UPDATE USING (%s) WITH CHECK ((%s) OR strata_write_allowed_or_raise(%L, %s))',
                   tbl, read_expr, read_expr, lvl, scope_expr);

    EXECUTE format('DROP TRIGGER strata_10_guard ON %I', tbl);
    EXECUTE format('CREATE TRIGGER strata_05_operator BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION strata_statement_operator()', tbl);
    EXECUTE format('CREATE TRIGGER strata_10_guard_ins AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_guard_statement(%L)', tbl, lvl);
    EXECUTE format('CREATE TRIGGER strata_10_guard_upd AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_guard_statement(%L)', tbl, lvl);
    EXECUTE format('CREATE TRIGGER strata_10_guard_del AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_guard_statement(%L)', tbl, lvl);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Values

-- Whether a validation_rules pattern compiles as a PostgreSQL regular expression (a JavaScript-
-- only construct is left to the console, as in strata_value_problem()).
CREATE FUNCTION strata_regex_ok(p_pattern text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM '' ~ p_pattern;
  RETURN true;
EXCEPTION WHEN invalid_regular_expression THEN
  RETURN false;
END $$;

-- strata_value_problem() for every new row of a statement at once. Metadata is read once per
-- distinct key; the rules are tried in the same order with the same sentences. Conditions that
-- guard a cast are never NULL, because AND goes on evaluating after a NULL operand.
-- The CTEs are MATERIALIZED on purpose: inlined, the rules were decoded again for every row, and
-- the final LIMIT 1 (stop at the first problem) made the planner pick nested loops comparing
-- every row with every key on the bet that a problem turns up early; on a valid push none does.
-- Materialized, each key's rules are decoded once and every row is checked once via hash joins.
CREATE FUNCTION strata_validate_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'n.tenant_id::text'
    WHEN 'department' THEN '(n.tenant_id || ''/'' || n.department)::text'
    WHEN 'group' THEN 'n.group_id::text'
    ELSE 'n.user_id::text' END;
  bad record;
BEGIN
  EXECUTE format($q$
    WITH meta AS MATERIALIZED (
      -- Each key's rules, decoded once: per row only comparisons remain.
      SELECT m.key, m.value_type::text AS mtype, m.input_type::text AS minput,
             coalesce(r.rules->'required' = 'true'::jsonb, false) OR coalesce(m.is_required, false) AS req,
             CASE WHEN jsonb_typeof(r.rules->'minLength') = 'number' THEN r.rules->>'minLength' END AS min_len,
             CASE WHEN jsonb_typeof(r.rules->'maxLength') = 'number' THEN r.rules->>'maxLength' END AS max_len,
             CASE WHEN jsonb_typeof(r.rules->'min') = 'number' THEN r.rules->>'min' END AS min_v,
             CASE WHEN jsonb_typeof(r.rules->'max') = 'number' THEN r.rules->>'max' END AS max_v,
             CASE WHEN jsonb_typeof(r.rules->'pattern') = 'string' AND r.rules->>'pattern' <> ''
                       AND strata_regex_ok(r.rules->>'pattern') THEN r.rules->>'pattern' END AS pattern,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array' AND jsonb_array_length(r.rules->'options') > 0
                  THEN ARRAY(SELECT CASE WHEN jsonb_typeof(o) = 'string' THEN o #>> '{}' ELSE o::text END
                             FROM jsonb_array_elements(r.rules->'options') o) END AS opt_text,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array'
                  THEN ARRAY(SELECT o::text::numeric FROM jsonb_array_elements(r.rules->'options') o
                             WHERE jsonb_typeof(o) = 'number') END AS opt_num,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array'
                  THEN (SELECT string_agg(o::text, ', ') FROM jsonb_array_elements(r.rules->'options') o) END AS opt_list
      FROM configuration_metadata m
      CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(coalesce(m.validation_rules, '{}'::jsonb)) = 'object'
                                      THEN coalesce(m.validation_rules, '{}'::jsonb) ELSE '{}'::jsonb END AS rules) r
      WHERE m.key IN (SELECT DISTINCT x.key FROM new_rows x)
    ),
    keys AS MATERIALIZED (
      SELECT k.key, strata_is_secret_key(k.key) AS secret FROM (SELECT DISTINCT x.key FROM new_rows x) k
    ),
    checked AS MATERIALIZED (
      SELECT n.key::text AS key, %s AS scope,
        CASE
          WHEN n.encrypted THEN CASE
            WHEN n.value !~ '^enc:v1:[0-9a-f]{8}:[0-9a-f]{16}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}$'
              THEN 'rule encrypted: an encrypted value must be an enc:v1 envelope written by Strata'
            WHEN m.key IS NOT NULL AND m.mtype IS DISTINCT FROM n.value_type::text
              THEN format('rule type: the key is declared as %%s, not %%s', m.mtype, n.value_type)
            END
          WHEN k.secret OR (m.key IS NOT NULL AND m.minput = 'password')
            THEN 'rule secret: secrets must be stored encrypted (the console encrypts them with CONFIG_ENCRYPTION_KEY)'
          WHEN m.key IS NOT NULL AND m.req AND btrim(n.value) = ''
            THEN 'rule required: a value is required'
          WHEN m.key IS NOT NULL AND m.mtype IS DISTINCT FROM n.value_type::text
            THEN format('rule type: the key is declared as %%s, not %%s', m.mtype, n.value_type)
          WHEN n.value_type = 'number' AND btrim(n.value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            THEN 'rule type: expected a decimal number such as 42 or 3.5'
          WHEN n.value_type = 'boolean' AND n.value NOT IN ('true', 'false')
            THEN 'rule type: expected true or false'
          WHEN n.value_type = 'json' AND NOT strata_is_json(n.value)
            THEN 'rule type: expected valid JSON'
          WHEN m.key IS NULL THEN NULL
          WHEN m.min_len IS NOT NULL AND char_length(n.value) < m.min_len::numeric
            THEN format('rule minLength: must be at least %%s characters long', m.min_len)
          WHEN m.max_len IS NOT NULL AND char_length(n.value) > m.max_len::numeric
            THEN format('rule maxLength: must be at most %%s characters long', m.max_len)
          WHEN (m.min_v IS NOT NULL OR m.max_v IS NOT NULL)
               AND btrim(n.value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            THEN 'rule type: expected a decimal number such as 42 or 3.5'
          WHEN m.min_v IS NOT NULL AND btrim(n.value)::numeric < m.min_v::numeric
            THEN format('rule min: must be at least %%s', m.min_v)
          WHEN m.max_v IS NOT NULL AND btrim(n.value)::numeric > m.max_v::numeric
            THEN format('rule max: must be at most %%s', m.max_v)
          WHEN m.pattern IS NOT NULL AND NOT (n.value ~ m.pattern)
            THEN format('rule pattern: must match /%%s/', m.pattern)
          WHEN m.opt_text IS NOT NULL
               AND NOT (n.value = ANY (m.opt_text)
                        OR (n.value_type = 'number' AND btrim(n.value)::numeric = ANY (m.opt_num)))
            THEN format('rule options: must be one of %%s', m.opt_list)
        END AS problem
      FROM new_rows n JOIN keys k ON k.key = n.key LEFT JOIN meta m ON m.key = n.key
    )
    SELECT key, scope, problem FROM checked WHERE problem IS NOT NULL LIMIT 1
  $q$, scope_expr) INTO bad;
  IF bad.problem IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('Key ''%s'' at %s rejects the value (%s).',
                       bad.key, btrim(lvl || ' ' || bad.scope), bad.problem);
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  lvl text;
BEGIN
  FOREACH lvl IN ARRAY ARRAY['global', 'tenant', 'department', 'group', 'user'] LOOP
    EXECUTE format('DROP TRIGGER strata_20_validate ON %I', 'config_' || lvl);
    -- Named to fire after the guard (strata_10_guard_*): a refused writer learns nothing about
    -- the rules of a slot it may not touch.
    EXECUTE format('CREATE TRIGGER strata_20_validate_ins AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_validate_statement(%L)',
                   'config_' || lvl, lvl);
    EXECUTE format('CREATE TRIGGER strata_20_validate_upd AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_validate_statement(%L)',
                   'config_' || lvl, lvl);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Audit chain

-- One link of the chain: hash = sha256(prev || '\n' || canonical row), where the running state
-- is the previous row's hash and the first row of a statement starts from p_tail (the head).
CREATE FUNCTION strata_audit_chain_step(state text, p_tail text, p_canonical text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN encode(sha256(convert_to(coalesce(state, p_tail) || chr(10) || p_canonical, 'UTF8')), 'hex');
END $$;

CREATE AGGREGATE strata_audit_chain_agg(text, text) (
  SFUNC = strata_audit_chain_step,
  STYPE = text
);

-- One field of the canonical text of an audit row (0120): '<characters>:<text>;' or '~;' for NULL.
-- Every operator in the body is immutable (the length is cast to text before it is concatenated;
-- integer || text is only STABLE), so the planner inlines it into the audit INSERT instead of
-- calling a SQL function ten times per row.
CREATE FUNCTION strata_audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(char_length(v)::text || ':' || v || ';', '~;')
$$;

-- Rows inserted by the audit trigger below arrive chained; only direct inserts (trigger depth 0,
-- i.e. the owner in psql) or rows without a hash still go through the per-row chain trigger.
DROP TRIGGER strata_chain ON config_audit;
CREATE TRIGGER strata_chain BEFORE INSERT ON config_audit
  FOR EACH ROW WHEN (NEW.hash IS NULL OR pg_trigger_depth() = 0)
  EXECUTE FUNCTION strata_audit_chain();

-- The audit trigger of 0001, now writing chained rows: under the chain lock (as
-- strata_audit_chain_begin takes it) the head is read, seq is drawn in key order, and every
-- row's hash is the running chain aggregate over seq, all in one INSERT.
DO $do$
BEGIN
  EXECUTE format($f$
CREATE OR REPLACE FUNCTION strata_audit_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $b$
DECLARE
  lvl text := TG_ARGV[0];
  op text := coalesce(nullif(current_setting('strata.operator', true), ''), session_user);
  why text := nullif(current_setting('strata.reason', true), '');
  push text := nullif(current_setting('strata.push_id', true), '');
  agent text := nullif(current_setting('application_name', true), '');
  tail text;
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'r.tenant_id::text'
    WHEN 'department' THEN '(r.tenant_id || ''/'' || r.department)::text'
    WHEN 'group' THEN 'r.group_id::text'
    ELSE 'r.user_id::text' END;
  join_expr text := CASE lvl
    WHEN 'global' THEN 'r.key = o.key'
    WHEN 'tenant' THEN 'r.tenant_id = o.tenant_id AND r.key = o.key'
    WHEN 'department' THEN 'r.tenant_id = o.tenant_id AND r.department = o.department AND r.key = o.key'
    WHEN 'group' THEN 'r.group_id = o.group_id AND r.key = o.key'
    ELSE 'r.user_id = o.user_id AND r.key = o.key' END;
  changes text;
  stamp timestamptz := now();
  ip inet := inet_client_addr();
  -- The fields every row of the statement shares, encoded once: config_table, and changed_by ..
  -- push_id (changed_at as integer epoch microseconds, ip_address as inet::text).
  table_field text := strata_audit_field(lvl);
  tail_fields text;
BEGIN
  tail_fields := strata_audit_field(op) || strata_audit_field(((extract(epoch FROM stamp) * 1000000)::bigint)::text)
    || strata_audit_field(ip::text) || strata_audit_field(agent) || strata_audit_field(why)
    || strata_audit_field(push);
  IF TG_OP = 'INSERT' THEN
    changes := format(
      'SELECT %%s AS config_id, r.key::text AS key, NULL::text AS old_value, strata_audit_value(r.value, r.encrypted) AS new_value,
              r.value_type::text AS value_type, r.encrypted, ''create''::text AS change_type
       FROM new_rows r ORDER BY r.key', scope_expr);
  ELSIF TG_OP = 'DELETE' THEN
    changes := format(
      'SELECT %%s AS config_id, r.key::text AS key, strata_audit_value(r.value, r.encrypted) AS old_value, NULL::text AS new_value,
              r.value_type::text AS value_type, r.encrypted, ''delete''::text AS change_type
       FROM old_rows r ORDER BY r.key', scope_expr);
  ELSE
    changes := format(
      'SELECT %%s AS config_id, r.key::text AS key, strata_audit_value(o.value, o.encrypted) AS old_value,
              strata_audit_value(r.value, r.encrypted) AS new_value, r.value_type::text AS value_type,
              r.encrypted OR o.encrypted AS encrypted, ''update''::text AS change_type
       FROM new_rows r JOIN old_rows o ON %%s
       WHERE r.value IS DISTINCT FROM o.value OR r.value_type IS DISTINCT FROM o.value_type
          OR r.encrypted IS DISTINCT FROM o.encrypted OR r.locked IS DISTINCT FROM o.locked
       ORDER BY r.key', scope_expr, join_expr);
  END IF;
  PERFORM pg_advisory_xact_lock(727351120);
  SELECT h.last_hash INTO tail FROM strata_audit_head h WHERE h.id FOR UPDATE;
  EXECUTE format(
    'INSERT INTO config_audit (seq, id, config_table, config_id, key, old_value, new_value, value_type, encrypted,
                               change_type, changed_by, changed_at, ip_address, user_agent, reason, push_id, prev_hash, hash)
     SELECT seq, id, $1, config_id, key, old_value, new_value, value_type, encrypted, change_type, $2, $6, $7, $8, $3, $4,
            coalesce(lag(hash) OVER (ORDER BY seq), $5), hash
     FROM (
       SELECT c.*, strata_audit_chain_agg($5, ''strata-audit-v1'' || chr(10) || strata_audit_field(c.seq::text)
                 || strata_audit_field(c.id::text) || $9 || strata_audit_field(c.config_id) || strata_audit_field(c.key)
                 || strata_audit_field(c.old_value) || strata_audit_field(c.new_value) || strata_audit_field(c.value_type)
                 || CASE WHEN c.encrypted THEN ''1:t;'' ELSE ''1:f;'' END || strata_audit_field(c.change_type) || $10)
                 OVER (ORDER BY c.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hash
       FROM (SELECT nextval(%%s::regclass) AS seq, gen_random_uuid() AS id, x.* FROM (%%s) x) c
     ) chained
     ORDER BY seq', %s, changes)
  USING lvl, op, why, push, tail, stamp, ip, agent, table_field, tail_fields;
  RETURN NULL;
END $b$
$f$, pg_get_serial_sequence(format('%I.config_audit', current_schema()), 'seq')::regclass::oid);
  EXECUTE format('ALTER FUNCTION strata_audit_statement() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $do$;

-- ---------------------------------------------------------------------------------------------
-- Grants and pinned search paths, as for the functions they stand beside.

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_role_write_denial(text, text, text, text[]) SET search_path = pg_catalog, %I, pg_temp', current_schema());
  REVOKE ALL ON FUNCTION strata_role_write_denial(text, text, text, text[]) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION strata_role_write_denial(text, text, text, text[]) TO strata_app;
END $$;

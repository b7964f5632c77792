-- Strata audit gaps: two ways a configuration change could leave no audit row.
--
--   * Moved rows. An UPDATE that changes a row's scope or key (possible in SQL, never done by the
--     console) is recorded as what it is, a removal from one slot and a value in another. The
--     audit trigger matched old and new rows by slot with an inner join, so such a row matched
--     nothing and the change left no audit row, while config_history (0220) already recorded both
--     sides. strata_audit_statement() of 0240 is restated below with a full join in its UPDATE
--     branch; everything else (chain lock, seq order, hash) is unchanged.
--   * TRUNCATE. It fires no DELETE trigger, so emptying a config table with it left neither audit
--     nor history rows. The application role was never granted TRUNCATE (0100); now the owner is
--     refused too, as for the audit tables (0120): DELETE removes the same rows, audited.

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
    -- Old and new rows are matched by slot. A row whose scope or key the UPDATE changed matches
    -- nothing: it left one slot (a delete there) and arrived in another (a create there), and
    -- both are recorded. (0001 and 0240 joined with an inner join, so such a move left no audit
    -- row at all.)
    changes := format(
      'SELECT coalesce(n.config_id, o.config_id) AS config_id, coalesce(n.key, o.key) AS key,
              strata_audit_value(o.value, o.encrypted) AS old_value,
              strata_audit_value(n.value, n.encrypted) AS new_value,
              coalesce(n.value_type, o.value_type) AS value_type,
              coalesce(n.encrypted, false) OR coalesce(o.encrypted, false) AS encrypted,
              CASE WHEN o.key IS NULL THEN ''create'' WHEN n.key IS NULL THEN ''delete'' ELSE ''update'' END::text AS change_type
       FROM (SELECT %%1$s AS config_id, r.key::text AS key, r.value, r.value_type::text AS value_type, r.encrypted, r.locked
             FROM new_rows r) n
       FULL JOIN (SELECT %%1$s AS config_id, r.key::text AS key, r.value, r.value_type::text AS value_type, r.encrypted, r.locked
                  FROM old_rows r) o
         ON n.config_id = o.config_id AND n.key = o.key
       WHERE n.key IS NULL OR o.key IS NULL
          OR n.value IS DISTINCT FROM o.value OR n.value_type IS DISTINCT FROM o.value_type
          OR n.encrypted IS DISTINCT FROM o.encrypted OR n.locked IS DISTINCT FROM o.locked
       ORDER BY 2, 1', scope_expr);
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

CREATE FUNCTION strata_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING
    ERRCODE = 'insufficient_privilege',
    MESSAGE = format('TRUNCATE of %s is not allowed: it would remove values without audit rows.', TG_TABLE_NAME),
    HINT = format('DELETE FROM %s removes the same rows, and each removal is audited.', TG_TABLE_NAME);
END $$;

DO $$
DECLARE
  tbl text;
BEGIN
  EXECUTE format('ALTER FUNCTION strata_refuse_truncate() SET search_path = pg_catalog, %I, pg_temp', current_schema());
  FOREACH tbl IN ARRAY ARRAY['config_global', 'config_tenant', 'config_department', 'config_group', 'config_user'] LOOP
    EXECUTE format('CREATE TRIGGER strata_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION strata_refuse_truncate()', tbl);
  END LOOP;
END $$;

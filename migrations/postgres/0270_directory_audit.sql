-- Strata directory audit: changes to the directory (tenants, departments, groups, users and
-- group memberships) are audited like configuration changes. They decide whose values apply to
-- whom (a user moved into a group takes that group's values; traits decide rights), yet until
-- now only config_pushes recorded that a push happened, not which directory rows it changed.
--
--   * strata_audit_statement() (0240, restated by 0260) learns five more kinds, written to
--     config_audit in the same hash chain, with config_table 'dir:tenant', 'dir:department',
--     'dir:group', 'dir:user' and 'dir:membership' (never a level name, so no configuration
--     reader mistakes them for values):
--       - a tenant, department, group or user that appears or disappears is one row, key '(row)',
--         with the row as JSON (created_at left out) as the new or old value;
--       - an update is one row per changed column, keyed by the column name;
--       - a membership is config_id = user, key = group, value = position; a reorder is an update.
--     Every row carries who, when, from where, why and the push, as configuration rows do.
--   * Statement-level triggers on the five tables call it (one audit INSERT per statement).
--   * TRUNCATE of a directory table is refused, as for the config tables (0260).
--   * Readers see the directory audit of what they may read: a tenant's readers see the rows of
--     their tenant, its departments, groups, users and those users' memberships.

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
  IF lvl = 'dir:membership' THEN
    -- A membership is (user, group) at a position: config_id is the user, key the group, the
    -- value the position (0 = first group, whose values win).
    changes := 'SELECT coalesce(n.user_id, o.user_id)::text AS config_id, coalesce(n.group_id, o.group_id)::text AS key,
                       o.position::text AS old_value, n.position::text AS new_value, NULL::text AS value_type, false AS encrypted,
                       CASE WHEN o.user_id IS NULL THEN ''create'' WHEN n.user_id IS NULL THEN ''delete'' ELSE ''update'' END::text AS change_type
                FROM ' || CASE TG_OP
                  WHEN 'INSERT' THEN 'new_rows n FULL JOIN (SELECT * FROM new_rows WHERE false) o ON false'
                  WHEN 'DELETE' THEN '(SELECT * FROM old_rows WHERE false) n FULL JOIN old_rows o ON false'
                  ELSE 'new_rows n FULL JOIN old_rows o ON n.user_id = o.user_id AND n.group_id = o.group_id
                        WHERE n.position IS DISTINCT FROM o.position' END || '
                ORDER BY 1, 2';
  ELSIF lvl LIKE 'dir:%%' THEN
    -- A directory row (tenant, department, group, user): its creation and removal are one row
    -- each, with the row as JSON under the key ''(row)''; an update is one row per changed
    -- column, keyed by the column. created_at is left out (it never changes the directory).
    scope_expr := CASE lvl
      WHEN 'dir:department' THEN '(r.tenant_id || ''/'' || r.id)::text'
      ELSE 'r.id::text' END;
    changes := format(
      'WITH n AS (SELECT %%1$s AS cid, to_jsonb(r) - ''created_at'' AS j FROM %%2$s r),
            o AS (SELECT %%1$s AS cid, to_jsonb(r) - ''created_at'' AS j FROM %%3$s r)
       SELECT n.cid AS config_id, f.key::text AS key, o.j ->> f.key AS old_value, n.j ->> f.key AS new_value,
              NULL::text AS value_type, false AS encrypted, ''update''::text AS change_type
       FROM n JOIN o ON o.cid = n.cid CROSS JOIN LATERAL jsonb_each(n.j) f
       WHERE f.value IS DISTINCT FROM o.j -> f.key
       UNION ALL
       SELECT n.cid, ''(row)'', NULL, n.j::text, NULL, false, ''create'' FROM n WHERE NOT EXISTS (SELECT FROM o WHERE o.cid = n.cid)
       UNION ALL
       SELECT o.cid, ''(row)'', o.j::text, NULL, NULL, false, ''delete'' FROM o WHERE NOT EXISTS (SELECT FROM n WHERE n.cid = o.cid)
       ORDER BY 1, 2',
      scope_expr,
      CASE WHEN TG_OP = 'DELETE' THEN '(SELECT * FROM old_rows WHERE false)' ELSE 'new_rows' END,
      CASE WHEN TG_OP = 'INSERT' THEN '(SELECT * FROM new_rows WHERE false)' ELSE 'old_rows' END);
  ELSIF TG_OP = 'INSERT' THEN
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

-- The audit triggers of each directory table (one audit INSERT per statement), and no TRUNCATE.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('tenants', 'dir:tenant'), ('departments', 'dir:department'),
                                 ('groups', 'dir:group'), ('users', 'dir:user'),
                                 ('group_members', 'dir:membership')) AS v(tbl, kind) LOOP
    EXECUTE format('CREATE TRIGGER strata_audit_ins AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement(%L)', t.tbl, t.kind);
    EXECUTE format('CREATE TRIGGER strata_audit_upd AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement(%L)', t.tbl, t.kind);
    EXECUTE format('CREATE TRIGGER strata_audit_del AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement(%L)', t.tbl, t.kind);
    EXECUTE format('CREATE TRIGGER strata_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION strata_refuse_truncate()', t.tbl);
  END LOOP;
END $$;

-- The read policy of 0120 with the directory kinds added, each read as its level is.
DROP POLICY strata_read ON config_audit;
CREATE POLICY strata_read ON config_audit FOR SELECT USING (
  (SELECT strata_reads_all())
  OR (config_table = 'global' AND (SELECT strata_reads_global()))
  OR (config_table IN ('tenant', 'dir:tenant') AND config_id = (SELECT strata_read_tenant()))
  OR (config_table IN ('department', 'dir:department')
      AND regexp_replace(config_id, '/[^/]*$', '') = (SELECT strata_read_tenant()))
  OR (config_table IN ('group', 'dir:group')
      AND config_id IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant()))))
  OR (config_table IN ('user', 'dir:user', 'dir:membership')
      AND config_id IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant()))))
);

-- Read performance for mapped application roles (found by the benchmark suite).
--
-- 1. current_user::text carries collation "C", so `db_role = p_current` could not use the
--    unique index on users.db_role and every rights check scanned the users table.
-- 2. The directory's write policies were FOR ALL. Permissive policies are OR'ed for SELECT, so
--    every row read also evaluated the write check, row by row. Writes keep exactly the same
--    rules, now as separate INSERT / UPDATE / DELETE policies; reads are decided by the read
--    policy alone, as intended.

CREATE OR REPLACE FUNCTION strata_lookup_operator(p_current text, p_session text,
  OUT id text, OUT tenant_id text, OUT department text, OUT traits text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
  SELECT u.id, u.tenant_id, u.department, u.traits INTO id, tenant_id, department, traits
  FROM users u WHERE u.db_role = p_current COLLATE "default";
  IF NOT FOUND AND p_session IS DISTINCT FROM p_current THEN
    SELECT u.id, u.tenant_id, u.department, u.traits INTO id, tenant_id, department, traits
    FROM users u WHERE u.db_role = p_session COLLATE "default";
  END IF;
END $$;

DO $$
DECLARE
  spec record;
BEGIN
  FOR spec IN
    SELECT * FROM (VALUES
      ('tenants', 'strata_can_manage_directory(NULL)'),
      ('departments', 'strata_can_manage_directory(tenant_id)'),
      ('groups', 'strata_can_manage_directory(tenant_id)'),
      ('users', 'strata_can_manage_directory(NULL)'),
      ('group_members', 'strata_can_manage_directory(strata_group_tenant(group_id)) AND strata_can_manage_directory(strata_user_tenant(user_id))'),
      ('configuration_metadata', 'strata_can_manage_directory(NULL)'),
      ('config_templates', 'strata_can_manage_directory(NULL)'),
      ('template_applications', 'strata_can_write(level, scope)')
    ) AS t(tbl, rule)
  LOOP
    EXECUTE format('DROP POLICY strata_write ON %I', spec.tbl);
    EXECUTE format('CREATE POLICY strata_insert ON %I FOR INSERT WITH CHECK (%s)', spec.tbl, spec.rule);
    EXECUTE format('CREATE POLICY strata_update ON %I FOR UPDATE USING (%s) WITH CHECK (%s)', spec.tbl, spec.rule, spec.rule);
    EXECUTE format('CREATE POLICY strata_delete ON %I FOR DELETE USING (%s)', spec.tbl, spec.rule);
  END LOOP;
END $$;

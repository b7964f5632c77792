-- Strata locked keys, enforced by the database as well: a value set below a lock ("final"
-- value at a more general level) is refused with the same sentence the console uses, e.g.
--   compliance.hipaa.enabled is locked at tenant mercy_hospital; department overrides are not allowed.
-- so psql, scripts, template applications, imports and pushes all meet the same wall, and a push
-- re-checks every lock against the live rows inside its own transaction.
--
-- What counts as "below": for a tenant row, a lock at global; for a department row, global and
-- its tenant; for a group row, global and the tenant and department the directory gives the
-- group; for a user row, global, the user's tenant and department, and the user's groups.
-- Removing a value below a lock is always allowed (it only removes a shadowed override).
--
-- A lock written in the same transaction does not refuse rows of that transaction: bulk loads
-- (the demo, a restore) may legitimately carry overrides that a lock shadows, and the console
-- itself refuses "add a lock and override it" change sets before they are sent (core/impact.ts).
-- "Written in this transaction" is updated_at = now(): now() is the transaction's start time,
-- and every insert and update of a config row stamps updated_at with it (0001).
--
-- The check runs once per statement over its new rows (set-based, partial indexes on locked
-- rows), as the writer: a writer always sees global and its own tenant's rows, which is where
-- any lock above its own rows lives. Superusers bypass row-level security and see all.

CREATE INDEX idx_config_global_locked ON config_global(key) WHERE locked;
CREATE INDEX idx_config_tenant_locked ON config_tenant(key, tenant_id) WHERE locked;
CREATE INDEX idx_config_department_locked ON config_department(key, tenant_id, department) WHERE locked;
CREATE INDEX idx_config_group_locked ON config_group(key, group_id) WHERE locked;

CREATE FUNCTION strata_lock_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  v record;
BEGIN
  IF lvl = 'tenant' THEN
    SELECT n.key AS key, 'global'::text AS lock_level, ''::text AS lock_scope INTO v
    FROM new_rows n JOIN config_global g ON g.key = n.key
    WHERE g.locked AND g.updated_at <> now()
    LIMIT 1;
  ELSIF lvl = 'department' THEN
    SELECT x.* INTO v FROM (
      SELECT n.key AS key, 'global'::text AS lock_level, ''::text AS lock_scope
      FROM new_rows n JOIN config_global g ON g.key = n.key
      WHERE g.locked AND g.updated_at <> now()
      UNION ALL
      SELECT n.key, 'tenant', t.tenant_id::text
      FROM new_rows n JOIN config_tenant t ON t.key = n.key AND t.tenant_id = n.tenant_id
      WHERE t.locked AND t.updated_at <> now()
    ) x LIMIT 1;
  ELSIF lvl = 'group' THEN
    SELECT x.* INTO v FROM (
      SELECT n.key AS key, 'global'::text AS lock_level, ''::text AS lock_scope
      FROM new_rows n JOIN config_global g ON g.key = n.key
      WHERE g.locked AND g.updated_at <> now()
      UNION ALL
      SELECT n.key, 'tenant', t.tenant_id::text
      FROM new_rows n JOIN groups gr ON gr.id = n.group_id
      JOIN config_tenant t ON t.key = n.key AND t.tenant_id = gr.tenant_id
      WHERE t.locked AND t.updated_at <> now()
      UNION ALL
      SELECT n.key, 'department', (d.tenant_id || '/' || d.department)::text
      FROM new_rows n JOIN groups gr ON gr.id = n.group_id
      JOIN config_department d ON d.key = n.key AND d.tenant_id = gr.tenant_id AND d.department = gr.department
      WHERE d.locked AND d.updated_at <> now()
    ) x LIMIT 1;
  ELSIF lvl = 'user' THEN
    SELECT x.* INTO v FROM (
      SELECT n.key AS key, 'global'::text AS lock_level, ''::text AS lock_scope
      FROM new_rows n JOIN config_global g ON g.key = n.key
      WHERE g.locked AND g.updated_at <> now()
      UNION ALL
      SELECT n.key, 'tenant', t.tenant_id::text
      FROM new_rows n JOIN users u ON u.id = n.user_id
      JOIN config_tenant t ON t.key = n.key AND t.tenant_id = u.tenant_id
      WHERE t.locked AND t.updated_at <> now()
      UNION ALL
      SELECT n.key, 'department', (d.tenant_id || '/' || d.department)::text
      FROM new_rows n JOIN users u ON u.id = n.user_id
      JOIN config_department d ON d.key = n.key AND d.tenant_id = u.tenant_id AND d.department = u.department
      WHERE d.locked AND d.updated_at <> now()
      UNION ALL
      SELECT n.key, 'group', cg.group_id::text
      FROM new_rows n JOIN group_members m ON m.user_id = n.user_id
      JOIN config_group cg ON cg.key = n.key AND cg.group_id = m.group_id
      WHERE cg.locked AND cg.updated_at <> now()
    ) x LIMIT 1;
  END IF;
  IF v.key IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = format('%s is locked at %s; %s overrides are not allowed.', v.key,
                       CASE WHEN v.lock_level = 'global' THEN 'global' ELSE v.lock_level || ' ' || v.lock_scope END,
                       lvl),
      HINT = 'Change or unlock the value where it is locked, or remove this override.';
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  lvl text;
BEGIN
  FOREACH lvl IN ARRAY ARRAY['tenant', 'department', 'group', 'user'] LOOP
    EXECUTE format('CREATE TRIGGER strata_lock_guard_ins AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_lock_guard(%L)',
                   'config_' || lvl, lvl);
    EXECUTE format('CREATE TRIGGER strata_lock_guard_upd AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_lock_guard(%L)',
                   'config_' || lvl, lvl);
  END LOOP;
  EXECUTE format('ALTER FUNCTION strata_lock_guard() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;

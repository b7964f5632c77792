-- Strata security (1/3): database-enforced access control.
--
-- Every console user connects as their own PostgreSQL LOGIN role, a member of the group role
-- strata_app, and users.db_role maps that role to a directory user. The database then applies
-- the same access matrix as src-main/services/access.ts, so psql, scripts and a compromised
-- client get no more than the console would allow:
--   * row-level security, ENABLED and FORCED on config_global .. config_user: rows are visible
--     to mapped admin_capable users (super_admin: everything; others: global plus their own
--     tenant's rows), and a new or changed row must pass strata_can_write();
--   * a BEFORE ROW guard trigger that refuses, with the matrix's own one-sentence reason
--     (SQLSTATE 42501), any insert, update or delete the matrix does not allow, because a policy
--     alone silently skips rows an UPDATE or DELETE may not touch;
--   * directory and catalogue tables: readable within the reader's tenant, writable by a
--     super_admin (departments, groups and memberships also by the tenant's tenant_admin).
-- Superusers and BYPASSRLS roles bypass all of this, as PostgreSQL intends. The migration owner
-- (the DBA) owns the tables and could disable any of it; the application must never connect as
-- the owner, and because RLS is FORCED on the config tables even that mistake stays governed.

-- The application group role. Roles are cluster-wide, so it may already exist (another database
-- on the same server, or a concurrent migration of one).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'strata_app') THEN
    CREATE ROLE strata_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Who is connected. current_user is tried first (so `SET ROLE mapped_role` works for a DBA),
-- then session_user (so a login role that did `SET ROLE strata_app` is still itself).
-- SECURITY DEFINER: it must read users whatever that table's policies say. Functions called once
-- per row are plpgsql returning one composite, which is far cheaper than a set-returning SQL call.
CREATE FUNCTION strata_lookup_operator(p_current text, p_session text,
  OUT id text, OUT tenant_id text, OUT department text, OUT traits text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
  SELECT u.id, u.tenant_id, u.department, u.traits INTO id, tenant_id, department, traits
  FROM users u WHERE u.db_role = p_current;
  IF NOT FOUND AND p_session IS DISTINCT FROM p_current THEN
    SELECT u.id, u.tenant_id, u.department, u.traits INTO id, tenant_id, department, traits
    FROM users u WHERE u.db_role = p_session;
  END IF;
END $$;

-- The directory user id of the connected role, or NULL when the role is not mapped.
CREATE FUNCTION strata_current_user() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT (strata_lookup_operator(current_user::text, session_user::text)).id
$$;

-- Read scope of the connected role: everything (super_admin), or global plus one tenant.
CREATE FUNCTION strata_reads_all() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT 'admin_capable' = ANY (o.traits) AND 'super_admin' = ANY (o.traits)
                   FROM strata_lookup_operator(current_user::text, session_user::text) o), false)
$$;

CREATE FUNCTION strata_reads_global() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT 'admin_capable' = ANY (o.traits)
                   FROM strata_lookup_operator(current_user::text, session_user::text) o), false)
$$;

CREATE FUNCTION strata_read_tenant() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN 'admin_capable' = ANY (o.traits) THEN o.tenant_id END
  FROM strata_lookup_operator(current_user::text, session_user::text) o
$$;

-- Groups and users of a tenant, for set-based read policies (evaluated once per statement).
CREATE FUNCTION strata_tenant_group_ids(p_tenant text) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT g.id FROM groups g WHERE g.tenant_id = p_tenant
$$;

CREATE FUNCTION strata_tenant_user_ids(p_tenant text) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT u.id FROM users u WHERE u.tenant_id = p_tenant
$$;

CREATE FUNCTION strata_group_tenant(p_group text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT g.tenant_id FROM groups g WHERE g.id = p_group
$$;

CREATE FUNCTION strata_user_tenant(p_user text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT u.tenant_id FROM users u WHERE u.id = p_user
$$;

-- ---------------------------------------------------------------------------------------------
-- The write matrix for one operator. Returns NULL when the operator may change configuration at
-- (p_level, p_scope), otherwise the reason, word for word what checkWrite() in
-- src-main/services/access.ts says. Reads groups/users for group and user targets, so it is
-- called from the SECURITY DEFINER functions below (called directly it sees what its caller sees).
CREATE FUNCTION strata_matrix(op_id text, op_tenant text, op_department text, op_traits text[],
                              p_level text, p_scope text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pos integer;
  t text;
  d text;
BEGIN
  IF op_id IS NULL THEN
    RETURN format('Database role %s is not mapped to a directory user (users.db_role).', session_user);
  END IF;
  IF NOT ('admin_capable' = ANY (op_traits)) THEN
    RETURN format('%s lacks the admin_capable trait required for any configuration access.', op_id);
  END IF;
  IF NOT ('config_write' = ANY (op_traits)) THEN
    RETURN format('%s lacks the config_write trait required to change configuration.', op_id);
  END IF;
  IF p_level IS NULL OR p_level NOT IN ('global', 'tenant', 'department', 'group', 'user') THEN
    RETURN format('Unknown configuration level %s.', p_level);
  END IF;
  IF p_level = 'department' THEN
    -- tenant/department, split at the last '/' (department ids never contain one).
    pos := CASE WHEN strpos(reverse(coalesce(p_scope, '')), '/') = 0 THEN 0
                ELSE length(p_scope) - strpos(reverse(p_scope), '/') + 1 END;
    IF pos <= 1 OR pos = length(p_scope) THEN
      RETURN format('"%s" is not a valid %s scope.', p_scope, p_level);
    END IF;
    t := left(p_scope, pos - 1);
    d := substr(p_scope, pos + 1);
  ELSIF p_scope IS NULL OR (p_level = 'global') <> (p_scope = '') THEN
    RETURN format('"%s" is not a valid %s scope.', p_scope, p_level);
  END IF;

  IF 'super_admin' = ANY (op_traits) THEN
    RETURN NULL;
  END IF;
  IF p_level = 'global' THEN
    RETURN 'Changing global configuration requires super_admin.';
  END IF;
  IF p_level = 'tenant' THEN
    IF 'tenant_admin' = ANY (op_traits) AND op_tenant = p_scope THEN
      RETURN NULL;
    END IF;
    RETURN format('Changing tenant %s requires super_admin or tenant_admin of %s.', p_scope, p_scope);
  END IF;
  IF p_level = 'group' THEN
    SELECT g.tenant_id, CASE WHEN g.tenant_id IS NOT NULL THEN g.department END INTO t, d
    FROM groups g WHERE g.id = p_scope;
  ELSIF p_level = 'user' THEN
    SELECT u.tenant_id, CASE WHEN u.tenant_id IS NOT NULL THEN u.department END INTO t, d
    FROM users u WHERE u.id = p_scope;
  END IF;
  IF t IS NULL THEN
    RETURN format('%s %s is not in the directory or belongs to no tenant; only a super_admin may configure it.',
                  CASE p_level WHEN 'group' THEN 'Group' ELSE 'User' END, p_scope);
  END IF;
  IF ('tenant_admin' = ANY (op_traits) AND op_tenant = t)
     OR ('dept_admin' = ANY (op_traits) AND d IS NOT NULL AND op_tenant = t AND op_department = d) THEN
    RETURN NULL;
  END IF;
  RETURN format('Changing %s %s requires %s.', p_level, p_scope,
                CASE WHEN d IS NULL THEN format('super_admin or tenant_admin of %s', t)
                     ELSE format('super_admin, tenant_admin of %s or dept_admin of %s/%s', t, t, d) END);
END $$;

-- The matrix for a directory user id (what an administrator asks: "may alice change X?").
CREATE FUNCTION strata_write_denial(p_user text, p_level text, p_scope text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  op record;
BEGIN
  IF p_user IS NULL THEN
    RETURN strata_matrix(NULL, NULL, NULL, NULL, p_level, p_scope);
  END IF;
  SELECT u.id, u.tenant_id, u.department, u.traits INTO op FROM users u WHERE u.id = p_user;
  IF NOT FOUND THEN
    RETURN format('User %s is not in the directory.', p_user);
  END IF;
  RETURN strata_matrix(op.id, op.tenant_id, op.department, op.traits, p_level, p_scope);
END $$;

-- The matrix for the connected role: its directory user and, when refused, the reason.
CREATE FUNCTION strata_role_write_check(p_current text, p_session text, p_level text, p_scope text,
  OUT user_id text, OUT reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
  op record;
BEGIN
  op := strata_lookup_operator(p_current, p_session);
  user_id := op.id;
  reason := strata_matrix(op.id, op.tenant_id, op.department, op.traits, p_level, p_scope);
END $$;

-- May the connected role change configuration at (level, scope)?
CREATE FUNCTION strata_can_write(p_level text, p_scope text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT (strata_role_write_check(current_user::text, session_user::text, p_level, p_scope)).reason IS NULL
$$;

-- May the connected role read configuration at (level, scope)? (Same rule as the read policies.)
CREATE FUNCTION strata_can_read(p_level text, p_scope text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN strata_reads_all() THEN true
    WHEN NOT strata_reads_global() THEN false
    WHEN p_level = 'global' THEN true
    WHEN p_level = 'tenant' THEN p_scope = strata_read_tenant()
    WHEN p_level = 'department' THEN regexp_replace(p_scope, '/[^/]*$', '') = strata_read_tenant()
    WHEN p_level = 'group' THEN strata_group_tenant(p_scope) = strata_read_tenant()
    WHEN p_level = 'user' THEN strata_user_tenant(p_scope) = strata_read_tenant()
    ELSE false END
$$;

-- May the connected role change the directory or catalogue of p_tenant (NULL: super_admin only)?
CREATE FUNCTION strata_can_manage_directory(p_tenant text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce((
    SELECT 'admin_capable' = ANY (o.traits) AND 'config_write' = ANY (o.traits)
       AND ('super_admin' = ANY (o.traits)
            OR (p_tenant IS NOT NULL AND 'tenant_admin' = ANY (o.traits) AND o.tenant_id = p_tenant))
    FROM strata_lookup_operator(current_user::text, session_user::text) o), false)
$$;

-- ---------------------------------------------------------------------------------------------
-- Guard trigger: the clear refusal. Policies filter rows a role may not see; this trigger names
-- the reason for every row a role may see but not change (and for every refused insert).
CREATE FUNCTION strata_guard_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  old_scope text;
  new_scope text;
  chk record;
  v_user text;
  why text;
BEGIN
  -- Exactly the roles PostgreSQL applies row-level security to (FORCE includes the owner).
  IF NOT row_security_active(TG_RELID) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    IF lvl = 'global' THEN old_scope := '';
    ELSIF lvl = 'tenant' THEN old_scope := OLD.tenant_id;
    ELSIF lvl = 'department' THEN old_scope := OLD.tenant_id || '/' || OLD.department;
    ELSIF lvl = 'group' THEN old_scope := OLD.group_id;
    ELSE old_scope := OLD.user_id;
    END IF;
    chk := strata_role_write_check(current_user::text, session_user::text, lvl, old_scope);
    v_user := chk.user_id;
    why := chk.reason;
  END IF;
  IF TG_OP <> 'DELETE' AND why IS NULL THEN
    IF lvl = 'global' THEN new_scope := '';
    ELSIF lvl = 'tenant' THEN new_scope := NEW.tenant_id;
    ELSIF lvl = 'department' THEN new_scope := NEW.tenant_id || '/' || NEW.department;
    ELSIF lvl = 'group' THEN new_scope := NEW.group_id;
    ELSE new_scope := NEW.user_id;
    END IF;
    IF TG_OP = 'INSERT' OR new_scope IS DISTINCT FROM old_scope THEN
      chk := strata_role_write_check(current_user::text, session_user::text, lvl, new_scope);
      v_user := chk.user_id;
      why := chk.reason;
    END IF;
  END IF;
  IF why IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Permission denied: ' || why,
      HINT = 'Configuration rights come from the directory traits of the database role''s user (users.db_role).';
  END IF;
  -- The audit trigger records strata.operator: for a mapped role that is the mapped user,
  -- whatever the client set.
  IF current_setting('strata.operator', true) IS DISTINCT FROM v_user THEN
    PERFORM set_config('strata.operator', v_user, true);
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Row-level security on the five config tables, with the guard trigger beside it.
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
    read_expr := CASE lvl
      WHEN 'global' THEN '(SELECT strata_reads_global())'
      WHEN 'tenant' THEN '(SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant())'
      WHEN 'department' THEN '(SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant())'
      WHEN 'group' THEN '(SELECT strata_reads_all()) OR group_id IN (SELECT strata_tenant_group_ids((SELECT strata_read_tenant())))'
      ELSE '(SELECT strata_reads_all()) OR user_id IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant())))'
    END;
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY strata_read ON %I FOR SELECT USING (%s)', tbl, read_expr);
    EXECUTE format('CREATE POLICY strata_insert ON %I FOR INSERT WITH CHECK (strata_can_write(%L, %s))',
                   tbl, lvl, scope_expr);
    EXECUTE format('CREATE POLICY strata_update ON %I FOR UPDATE USING (%s) WITH CHECK (strata_can_write(%L, %s))',
                   tbl, read_expr, lvl, scope_expr);
    -- Rows a role may see reach the guard trigger, which refuses with a reason; rows it may not
    -- see are not there for it, as with any RLS table.
    EXECUTE format('CREATE POLICY strata_delete ON %I FOR DELETE USING (%s)', tbl, read_expr);
    EXECUTE format('CREATE TRIGGER strata_10_guard BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION strata_guard_write(%L)',
                   tbl, lvl);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Directory and catalogue. RLS is enabled but not forced: the SECURITY DEFINER lookups above run
-- as the owner and must see every row (forcing it would make the users policy recurse).
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE departments ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE configuration_metadata ENABLE ROW LEVEL SECURITY;
ALTER TABLE config_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE template_applications ENABLE ROW LEVEL SECURITY;

CREATE POLICY strata_read ON tenants FOR SELECT
  USING ((SELECT strata_reads_all()) OR id = (SELECT strata_read_tenant()));
CREATE POLICY strata_write ON tenants FOR ALL
  USING (strata_can_manage_directory(NULL)) WITH CHECK (strata_can_manage_directory(NULL));

CREATE POLICY strata_read ON departments FOR SELECT
  USING ((SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant()));
CREATE POLICY strata_write ON departments FOR ALL
  USING (strata_can_manage_directory(tenant_id)) WITH CHECK (strata_can_manage_directory(tenant_id));

CREATE POLICY strata_read ON groups FOR SELECT
  USING ((SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant()));
CREATE POLICY strata_write ON groups FOR ALL
  USING (strata_can_manage_directory(tenant_id)) WITH CHECK (strata_can_manage_directory(tenant_id));

-- Users carry the traits and db_role that all rights derive from: only a super_admin edits them.
CREATE POLICY strata_read ON users FOR SELECT
  USING ((SELECT strata_reads_all()) OR tenant_id = (SELECT strata_read_tenant())
         OR id = (SELECT strata_current_user()));
CREATE POLICY strata_write ON users FOR ALL
  USING (strata_can_manage_directory(NULL)) WITH CHECK (strata_can_manage_directory(NULL));

CREATE POLICY strata_read ON group_members FOR SELECT
  USING ((SELECT strata_reads_all())
         OR user_id IN (SELECT strata_tenant_user_ids((SELECT strata_read_tenant()))));
CREATE POLICY strata_write ON group_members FOR ALL
  USING (strata_can_manage_directory(strata_group_tenant(group_id))
         AND strata_can_manage_directory(strata_user_tenant(user_id)))
  WITH CHECK (strata_can_manage_directory(strata_group_tenant(group_id))
              AND strata_can_manage_directory(strata_user_tenant(user_id)));

-- Metadata decides validation and which keys are secrets: only a super_admin changes it.
-- Readable by every application role: the validation trigger reads it while checking any write.
CREATE POLICY strata_read ON configuration_metadata FOR SELECT USING (true);
CREATE POLICY strata_write ON configuration_metadata FOR ALL
  USING (strata_can_manage_directory(NULL)) WITH CHECK (strata_can_manage_directory(NULL));

CREATE POLICY strata_read ON config_templates FOR SELECT USING ((SELECT strata_reads_global()));
CREATE POLICY strata_write ON config_templates FOR ALL
  USING (strata_can_manage_directory(NULL)) WITH CHECK (strata_can_manage_directory(NULL));

CREATE POLICY strata_read ON template_applications FOR SELECT USING (strata_can_read(level, scope));
CREATE POLICY strata_write ON template_applications FOR ALL
  USING (strata_can_write(level, scope)) WITH CHECK (strata_can_write(level, scope));

-- ---------------------------------------------------------------------------------------------
-- Grants. No TRUNCATE, REFERENCES or TRIGGER anywhere; the environment label (strata_settings)
-- is read-only to the application.
REVOKE ALL ON config_global, config_tenant, config_department, config_group, config_user,
  tenants, departments, groups, users, group_members, configuration_metadata, config_templates,
  template_applications, config_pushes, strata_settings FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON config_global, config_tenant, config_department,
  config_group, config_user TO strata_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, departments, groups, users, group_members,
  configuration_metadata, config_templates, template_applications TO strata_app;
GRANT USAGE ON SEQUENCE configuration_metadata_id_seq TO strata_app;
GRANT SELECT, INSERT ON config_pushes TO strata_app;
GRANT SELECT ON strata_settings TO strata_app;

-- Definer functions: callable by the application only, with a pinned search_path so a temporary
-- or user-created object cannot stand in for a table they read.
DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'strata_lookup_operator(text, text)', 'strata_tenant_group_ids(text)', 'strata_tenant_user_ids(text)',
    'strata_group_tenant(text)', 'strata_user_tenant(text)', 'strata_write_denial(text, text, text)',
    'strata_role_write_check(text, text, text, text)'
  ] LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, current_schema());
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO strata_app', f);
  END LOOP;
  -- Only ever called from the definer functions above.
  REVOKE ALL ON FUNCTION strata_matrix(text, text, text, text[], text, text) FROM PUBLIC;
END $$;

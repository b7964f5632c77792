-- Strata core schema: the directory, the five configuration levels, metadata, templates and the
-- audit trail. Table and column names follow the platform's hierarchical configuration plan so
-- services written against it read these tables unchanged. Identifiers are text (slugs or UUIDs).
-- Differences from the plan, and why:
--   * created_by / changed_by are text without a foreign key: the audit trail must outlive the
--     removal of a directory user, and the operator may be a database role.
--   * config_group.group_id has no foreign key so that configuration can be drafted before the
--     directory row exists; `strata lint` reports scopes that name no directory entry.
--   * every config table gains `version` (optimistic concurrency), `locked` (a "final" value that
--     more specific levels cannot override) and `updated_by`.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    tenant_type TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE departments (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         TEXT NOT NULL CHECK (position('/' in id) = 0),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    department TEXT,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, department) REFERENCES departments(tenant_id, id) ON DELETE SET NULL (department)
);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants(id) ON DELETE SET NULL,
    department   TEXT,
    display_name TEXT,
    email        TEXT,
    traits       TEXT[] NOT NULL DEFAULT '{}',
    db_role      TEXT UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, department) REFERENCES departments(tenant_id, id) ON DELETE SET NULL (department)
);

-- Group membership with order: among a user's groups the lowest position that sets a key wins.
CREATE TABLE group_members (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (user_id, group_id),
    UNIQUE (user_id, position)
);
CREATE INDEX idx_group_members_group ON group_members(group_id);

CREATE TABLE config_global (
    key         VARCHAR(200) PRIMARY KEY,
    value       TEXT NOT NULL,
    value_type  VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted   BOOLEAN NOT NULL DEFAULT FALSE,
    description TEXT,
    category    VARCHAR(50),
    locked      BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by  TEXT,
    updated_by  TEXT
);

CREATE TABLE config_tenant (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        VARCHAR(100) NOT NULL,
    key              VARCHAR(200) NOT NULL,
    value            TEXT NOT NULL,
    value_type       VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted        BOOLEAN NOT NULL DEFAULT FALSE,
    overrides_global BOOLEAN NOT NULL DEFAULT TRUE,
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by       TEXT,
    updated_by       TEXT,
    UNIQUE (tenant_id, key)
);

CREATE TABLE config_department (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  VARCHAR(100) NOT NULL,
    department VARCHAR(100) NOT NULL,
    key        VARCHAR(200) NOT NULL,
    value      TEXT NOT NULL,
    value_type VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  BOOLEAN NOT NULL DEFAULT FALSE,
    locked     BOOLEAN NOT NULL DEFAULT FALSE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (tenant_id, department, key)
);

CREATE TABLE config_group (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id   VARCHAR(100) NOT NULL,
    key        VARCHAR(200) NOT NULL,
    value      TEXT NOT NULL,
    value_type VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  BOOLEAN NOT NULL DEFAULT FALSE,
    locked     BOOLEAN NOT NULL DEFAULT FALSE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (group_id, key)
);

CREATE TABLE config_user (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    VARCHAR(100) NOT NULL,
    key        VARCHAR(200) NOT NULL,
    value      TEXT NOT NULL,
    value_type VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  BOOLEAN NOT NULL DEFAULT FALSE,
    locked     BOOLEAN NOT NULL DEFAULT FALSE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (user_id, key)
);

-- Pushes from draft workspaces: one row per applied push, written in the push's transaction so
-- a retry after a lost COMMIT can tell whether it landed.
CREATE TABLE config_pushes (
    id         TEXT PRIMARY KEY,
    operator   TEXT NOT NULL,
    reason     TEXT,
    item_count INTEGER NOT NULL,
    source     TEXT,
    pushed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Audit trail. Written by a trigger on every config table, so changes made outside the console
-- are recorded too; the console sets strata.operator / strata.reason / strata.push_id for its
-- transaction. Secret values are never written here in plaintext (see 0002).
CREATE TABLE config_audit (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         BIGSERIAL UNIQUE,
    config_table VARCHAR(50) NOT NULL,
    config_id   VARCHAR(200),
    key         VARCHAR(200) NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    value_type  VARCHAR(20),
    encrypted   BOOLEAN NOT NULL DEFAULT FALSE,
    change_type VARCHAR(20) NOT NULL CHECK (change_type IN ('create', 'update', 'delete')),
    changed_by  TEXT NOT NULL,
    changed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip_address  INET,
    user_agent  TEXT,
    reason      TEXT,
    push_id     TEXT
);
CREATE INDEX idx_config_audit_user_time ON config_audit(changed_by, changed_at DESC);
CREATE INDEX idx_config_audit_key_time ON config_audit(key, changed_at DESC);
CREATE INDEX idx_config_audit_push ON config_audit(push_id) WHERE push_id IS NOT NULL;

CREATE TABLE configuration_metadata (
    id               BIGSERIAL PRIMARY KEY,
    key              VARCHAR(200) NOT NULL UNIQUE,
    category         VARCHAR(50) NOT NULL,
    config_key       VARCHAR(200) NOT NULL,
    display_name     VARCHAR(200) NOT NULL,
    description      TEXT,
    input_type       VARCHAR(20) NOT NULL DEFAULT 'text' CHECK (input_type IN ('text', 'password', 'number', 'select', 'textarea', 'checkbox', 'radio')),
    value_type       VARCHAR(20) NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    validation_rules JSONB NOT NULL DEFAULT '{}',
    default_value    TEXT,
    is_required      BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order       INTEGER NOT NULL DEFAULT 0,
    group_name       VARCHAR(100),
    help_text        TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_configuration_metadata_category ON configuration_metadata(category, sort_order);

CREATE TABLE config_templates (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name          VARCHAR(100) NOT NULL UNIQUE,
    description   TEXT,
    target_level  VARCHAR(20) NOT NULL CHECK (target_level IN ('global', 'tenant', 'department', 'group', 'user')),
    template_data JSONB NOT NULL,
    traits        TEXT[] NOT NULL DEFAULT '{}',
    version       INTEGER NOT NULL DEFAULT 1,
    provider_name VARCHAR(50),
    category      VARCHAR(50),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by    TEXT
);

-- Which template version was applied where (for template upgrades).
CREATE TABLE template_applications (
    template_name VARCHAR(100) NOT NULL,
    version       INTEGER NOT NULL,
    level         VARCHAR(20) NOT NULL,
    scope         TEXT NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_by    TEXT,
    PRIMARY KEY (template_name, level, scope)
);

-- Workspace-wide settings, e.g. environment = production | staging | development.
CREATE TABLE strata_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Row versions: every UPDATE of a config row bumps version and updated_at.
CREATE FUNCTION strata_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER config_global_version BEFORE UPDATE ON config_global FOR EACH ROW EXECUTE FUNCTION strata_bump_version();
CREATE TRIGGER config_tenant_version BEFORE UPDATE ON config_tenant FOR EACH ROW EXECUTE FUNCTION strata_bump_version();
CREATE TRIGGER config_department_version BEFORE UPDATE ON config_department FOR EACH ROW EXECUTE FUNCTION strata_bump_version();
CREATE TRIGGER config_group_version BEFORE UPDATE ON config_group FOR EACH ROW EXECUTE FUNCTION strata_bump_version();
CREATE TRIGGER config_user_version BEFORE UPDATE ON config_user FOR EACH ROW EXECUTE FUNCTION strata_bump_version();

-- Audit: statement-level triggers with transition tables, so a push of thousands of rows writes
-- its audit rows in one set-based INSERT per statement instead of one trigger call per row.
-- config_id is the scope: '' for global, tenant id, 'tenant/department', group id, user id.
CREATE FUNCTION strata_audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  op text := coalesce(nullif(current_setting('strata.operator', true), ''), session_user);
  why text := nullif(current_setting('strata.reason', true), '');
  push text := nullif(current_setting('strata.push_id', true), '');
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'r.tenant_id::text'
    WHEN 'department' THEN '(r.tenant_id || ''/'' || r.department)::text'
    WHEN 'group' THEN 'r.group_id::text'
    ELSE 'r.user_id::text' END;
  join_expr text := CASE lvl
    WHEN 'global' THEN 'n.key = o.key'
    WHEN 'tenant' THEN 'n.tenant_id = o.tenant_id AND n.key = o.key'
    WHEN 'department' THEN 'n.tenant_id = o.tenant_id AND n.department = o.department AND n.key = o.key'
    WHEN 'group' THEN 'n.group_id = o.group_id AND n.key = o.key'
    ELSE 'n.user_id = o.user_id AND n.key = o.key' END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format(
      'INSERT INTO config_audit (config_table, config_id, key, old_value, new_value, value_type, encrypted, change_type, changed_by, reason, push_id)
       SELECT %L, %s, r.key, NULL, strata_audit_value(r.value, r.encrypted), r.value_type, r.encrypted, ''create'', $1, $2, $3
       FROM new_rows r ORDER BY r.key', lvl, scope_expr)
    USING op, why, push;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format(
      'INSERT INTO config_audit (config_table, config_id, key, old_value, new_value, value_type, encrypted, change_type, changed_by, reason, push_id)
       SELECT %L, %s, r.key, strata_audit_value(r.value, r.encrypted), NULL, r.value_type, r.encrypted, ''delete'', $1, $2, $3
       FROM old_rows r ORDER BY r.key', lvl, scope_expr)
    USING op, why, push;
  ELSE
    EXECUTE format(
      'INSERT INTO config_audit (config_table, config_id, key, old_value, new_value, value_type, encrypted, change_type, changed_by, reason, push_id)
       SELECT %L, %s, r.key, strata_audit_value(o.value, o.encrypted), strata_audit_value(r.value, r.encrypted), r.value_type, r.encrypted OR o.encrypted, ''update'', $1, $2, $3
       FROM new_rows r JOIN old_rows o ON %s
       WHERE r.value IS DISTINCT FROM o.value OR r.value_type IS DISTINCT FROM o.value_type
          OR r.encrypted IS DISTINCT FROM o.encrypted OR r.locked IS DISTINCT FROM o.locked
       ORDER BY r.key', lvl, scope_expr, replace(join_expr, 'n.', 'r.'))
    USING op, why, push;
  END IF;
  RETURN NULL;
END $$;

-- What the audit trail stores for a value: plaintext values as they are; encrypted values only as
-- their keyed fingerprint (the envelope carries it), never the ciphertext or the plaintext.
CREATE FUNCTION strata_audit_value(v text, enc boolean) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN v IS NULL THEN NULL
    WHEN NOT enc THEN v
    WHEN v LIKE 'enc:v1:%' THEN 'secret:fp=' || split_part(v, ':', 4)
    ELSE 'secret:changed' END
$$;

CREATE TRIGGER config_global_audit_ins AFTER INSERT ON config_global REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('global');
CREATE TRIGGER config_global_audit_upd AFTER UPDATE ON config_global REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('global');
CREATE TRIGGER config_global_audit_del AFTER DELETE ON config_global REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('global');
CREATE TRIGGER config_tenant_audit_ins AFTER INSERT ON config_tenant REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('tenant');
CREATE TRIGGER config_tenant_audit_upd AFTER UPDATE ON config_tenant REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('tenant');
CREATE TRIGGER config_tenant_audit_del AFTER DELETE ON config_tenant REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('tenant');
CREATE TRIGGER config_department_audit_ins AFTER INSERT ON config_department REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('department');
CREATE TRIGGER config_department_audit_upd AFTER UPDATE ON config_department REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('department');
CREATE TRIGGER config_department_audit_del AFTER DELETE ON config_department REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('department');
CREATE TRIGGER config_group_audit_ins AFTER INSERT ON config_group REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('group');
CREATE TRIGGER config_group_audit_upd AFTER UPDATE ON config_group REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('group');
CREATE TRIGGER config_group_audit_del AFTER DELETE ON config_group REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('group');
CREATE TRIGGER config_user_audit_ins AFTER INSERT ON config_user REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('user');
CREATE TRIGGER config_user_audit_upd AFTER UPDATE ON config_user REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('user');
CREATE TRIGGER config_user_audit_del AFTER DELETE ON config_user REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION strata_audit_statement('user');

-- Strata draft workspace (SQLite): the same logical schema as migrations/postgres/0001_core.sql,
-- plus the draft's own tables. Text ids, traits as JSON text, booleans as 0/1, timestamps as ISO
-- 8601 text (UTC). In a draft the config_* tables hold the BASE snapshot (what the draft was
-- pulled from, with each row's version at pull); writes are staged in staged_changes and reads
-- resolve base + staged. There are no audit or version triggers here: the draft's history is its
-- staged-change log, and versions are those of the source database. The config tables' `id`
-- holds the source row's id after a pull (NULL for rows the draft created); it is deliberately
-- not a key, so bulk loads do not pay for a random-key index nobody reads.

-- What this file is. A file without the 'strata-draft' marker is not opened as a workspace.
CREATE TABLE draft_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO draft_meta (key, value) VALUES ('format', 'strata-draft');

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    tenant_type TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE departments (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id         TEXT NOT NULL CHECK (instr(id, '/') = 0),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    department TEXT,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants(id) ON DELETE SET NULL,
    department   TEXT,
    display_name TEXT,
    email        TEXT,
    traits       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(traits) AND json_type(traits) = 'array'),
    db_role      TEXT UNIQUE,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Group membership with order: among a user's groups the lowest position that sets a key wins.
CREATE TABLE group_members (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (user_id, group_id),
    UNIQUE (user_id, position)
) STRICT;
CREATE INDEX idx_group_members_group ON group_members(group_id);

CREATE TABLE config_global (
    key         TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    value       TEXT NOT NULL,
    value_type  TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted   INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    description TEXT,
    category    TEXT,
    locked      INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by  TEXT,
    updated_by  TEXT
) STRICT;

CREATE TABLE config_tenant (
    id               TEXT,
    tenant_id        TEXT NOT NULL CHECK (length(tenant_id) <= 100),
    key              TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    value            TEXT NOT NULL,
    value_type       TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted        INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    overrides_global INTEGER NOT NULL DEFAULT 1 CHECK (overrides_global IN (0, 1)),
    locked           INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by       TEXT,
    updated_by       TEXT,
    UNIQUE (tenant_id, key)
) STRICT;

CREATE TABLE config_department (
    id         TEXT,
    tenant_id  TEXT NOT NULL CHECK (length(tenant_id) <= 100),
    department TEXT NOT NULL CHECK (length(department) <= 100),
    key        TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    value      TEXT NOT NULL,
    value_type TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (tenant_id, department, key)
) STRICT;

CREATE TABLE config_group (
    id         TEXT,
    group_id   TEXT NOT NULL CHECK (length(group_id) <= 100),
    key        TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    value      TEXT NOT NULL,
    value_type TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (group_id, key)
) STRICT;

CREATE TABLE config_user (
    id         TEXT,
    user_id    TEXT NOT NULL CHECK (length(user_id) <= 100),
    key        TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    value      TEXT NOT NULL,
    value_type TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted  INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by TEXT,
    updated_by TEXT,
    UNIQUE (user_id, key)
) STRICT;

-- Kept for schema parity with PostgreSQL (a draft does not copy the audit history).
CREATE TABLE config_pushes (
    id         TEXT PRIMARY KEY,
    operator   TEXT NOT NULL,
    reason     TEXT,
    item_count INTEGER NOT NULL,
    source     TEXT,
    pushed_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE config_audit (
    id           TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
    seq          INTEGER NOT NULL UNIQUE,
    config_table TEXT NOT NULL,
    config_id    TEXT,
    key          TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    value_type   TEXT,
    encrypted    INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    change_type  TEXT NOT NULL CHECK (change_type IN ('create', 'update', 'delete')),
    changed_by   TEXT NOT NULL,
    changed_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ip_address   TEXT,
    user_agent   TEXT,
    reason       TEXT,
    push_id      TEXT
) STRICT;

CREATE TABLE configuration_metadata (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    key              TEXT NOT NULL UNIQUE,
    category         TEXT NOT NULL,
    config_key       TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    description      TEXT,
    input_type       TEXT NOT NULL DEFAULT 'text' CHECK (input_type IN ('text', 'password', 'number', 'select', 'textarea', 'checkbox', 'radio')),
    value_type       TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    validation_rules TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(validation_rules)),
    default_value    TEXT,
    is_required      INTEGER NOT NULL DEFAULT 0 CHECK (is_required IN (0, 1)),
    sort_order       INTEGER NOT NULL DEFAULT 0,
    group_name       TEXT,
    help_text        TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX idx_configuration_metadata_category ON configuration_metadata(category, sort_order);

CREATE TABLE config_templates (
    id            TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
    name          TEXT NOT NULL UNIQUE,
    description   TEXT,
    target_level  TEXT NOT NULL CHECK (target_level IN ('global', 'tenant', 'department', 'group', 'user')),
    template_data TEXT NOT NULL CHECK (json_valid(template_data)),
    traits        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(traits)),
    version       INTEGER NOT NULL DEFAULT 1,
    provider_name TEXT,
    category      TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by    TEXT
) STRICT;

CREATE TABLE template_applications (
    template_name TEXT NOT NULL,
    version       INTEGER NOT NULL,
    level         TEXT NOT NULL,
    scope         TEXT NOT NULL,
    applied_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    applied_by    TEXT,
    PRIMARY KEY (template_name, level, scope)
) STRICT;

CREATE TABLE strata_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Staged changes: the draft's pending writes and its history. At most one 'staged' row per slot
-- (restaging a slot marks the previous row 'discarded'). `value` is the stored form (a
-- ciphertext envelope when encrypted); `old_value` is what the slot showed before, in audit form
-- (secrets only as fingerprints). `base_version` is the base row's version when the change was
-- staged (NULL when the base had no row): push checks production against it.
CREATE TABLE staged_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    level        TEXT NOT NULL CHECK (level IN ('global', 'tenant', 'department', 'group', 'user')),
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    action       TEXT NOT NULL CHECK (action IN ('set', 'unset')),
    value        TEXT,
    value_type   TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'number', 'boolean', 'json')),
    encrypted    INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    locked       INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    reason       TEXT,
    author       TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    status       TEXT NOT NULL DEFAULT 'staged' CHECK (status IN ('staged', 'pushed', 'discarded')),
    base_version INTEGER,
    old_value    TEXT,
    push_id      TEXT,
    CHECK ((action = 'set') = (value IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX idx_staged_changes_active ON staged_changes(level, scope, key) WHERE status = 'staged';
CREATE INDEX idx_staged_changes_key ON staged_changes(key, id);

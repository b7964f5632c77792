-- Strata draft lifecycle (docs/DRAFTS.md): what a plan, a conflict resolution, a staged directory
-- change and a push need to remember between runs of `strata`, so a draft can be planned on one
-- day, resolved on the next and pushed after a crash without losing or repeating anything.

-- The base a staged change was made against, kept only when a rebase (`strata pull` into an
-- existing draft) moved the base under it. Without this row the base is the config_* row of the
-- draft; with it, the plan still shows (and compares with) what the change was based on, and
-- the staged change's base_version keeps pointing at that row's version.
CREATE TABLE staged_base (
    level      TEXT NOT NULL CHECK (level IN ('global', 'tenant', 'department', 'group', 'user')),
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    present    INTEGER NOT NULL CHECK (present IN (0, 1)),
    value      TEXT,
    value_type TEXT,
    encrypted  INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    version    INTEGER,
    updated_at TEXT,
    updated_by TEXT,
    PRIMARY KEY (level, scope, key),
    CHECK ((present = 1) = (value IS NOT NULL))
) STRICT;

-- How the operator settled a conflict: keep mine, take theirs, or edit (the edited value is the
-- staged change itself). A resolution is bound to the live state it was made against
-- (live_token: row version and content, or 'absent'); when production moves again the item is
-- a conflict again. item_kind 'config' uses level/scope/key; 'directory' uses level = the
-- directory kind (tenant, department, group, user), scope = its id and key = ''.
CREATE TABLE draft_resolutions (
    item_kind  TEXT NOT NULL CHECK (item_kind IN ('config', 'directory')),
    level      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('mine', 'theirs', 'edit')),
    live_token TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (item_kind, level, scope, key)
) STRICT;

-- Staged directory changes (tenant provisioning, promotions): the row as it will be pushed
-- (`data`, JSON) and the draft's base row it replaces (`before`, JSON; NULL when it is new).
-- The row is also written into the draft's directory tables so reads of the draft see it; a
-- rebase writes it again over the refreshed base. At most one active row per (kind, ref).
CREATE TABLE staged_directory (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('tenant', 'department', 'group', 'user')),
    ref        TEXT NOT NULL,
    data       TEXT NOT NULL CHECK (json_valid(data)),
    before     TEXT CHECK (before IS NULL OR json_valid(before)),
    reason     TEXT,
    author     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    status     TEXT NOT NULL DEFAULT 'staged' CHECK (status IN ('staged', 'pushed', 'discarded')),
    push_id    TEXT
) STRICT;
CREATE UNIQUE INDEX idx_staged_directory_active ON staged_directory(kind, ref) WHERE status = 'staged';

-- Pushes of this draft. A row is written ('pending', with the push id and the staged rows it
-- settles) and made durable BEFORE anything is sent to PostgreSQL; it becomes 'applied' once
-- the draft has recorded the outcome. A retry after a lost connection or a killed process finds
-- the pending row, asks the target's config_pushes whether that id landed, and never applies a
-- push twice. `settles` is JSON: {"written":[ids],"noop":[ids],"theirs":[ids],
-- "dirWritten":[ids],"dirNoop":[ids],"dirTheirs":[ids]}.
CREATE TABLE draft_pushes (
    id          TEXT PRIMARY KEY,
    target      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'abandoned')),
    settles     TEXT NOT NULL CHECK (json_valid(settles)),
    item_count  INTEGER NOT NULL,
    fresh       INTEGER NOT NULL DEFAULT 0 CHECK (fresh IN (0, 1)),
    operator    TEXT NOT NULL,
    reason      TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
) STRICT;
CREATE INDEX idx_draft_pushes_pending ON draft_pushes(state) WHERE state = 'pending';

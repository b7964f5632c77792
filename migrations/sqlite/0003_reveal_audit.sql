-- Reveals of secret plaintext in a draft workspace (docs/SECURITY.md, "Audited reveal"): one row
-- per slot whose plaintext the console, the CLI or a library read released, written BEFORE the
-- value is returned (the reveal is refused when the row cannot be written). Never the value or
-- the ciphertext: the slot, the envelope's fingerprint, who (the operator and the OS account),
-- when, why and through which front door. A draft holds production ciphertext and its key may
-- be on the same laptop, so the log stays in the file with the drafts it belongs to.
-- Append-only: UPDATE and DELETE are refused by triggers. A draft file belongs to the person who
-- holds it, who could drop the triggers; the PostgreSQL log (config_reveals) is the one a user
-- cannot edit.
CREATE TABLE draft_reveals (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    level       TEXT NOT NULL
                CHECK (level IN ('global', 'tenant', 'department', 'group', 'user', 'default', 'env_legacy')),
    scope       TEXT NOT NULL CHECK (length(scope) <= 201),
    key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    fingerprint TEXT CHECK (fingerprint IS NULL OR (length(fingerprint) = 16 AND fingerprint NOT GLOB '*[^0-9a-f]*')),
    revealed_by TEXT NOT NULL,
    db_role     TEXT NOT NULL,
    revealed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    reason      TEXT CHECK (reason IS NULL OR length(reason) <= 2000),
    via         TEXT NOT NULL CHECK (via IN ('console', 'cli', 'api'))
) STRICT;
CREATE INDEX idx_draft_reveals_key ON draft_reveals(key, seq);

CREATE TRIGGER draft_reveals_no_update BEFORE UPDATE ON draft_reveals
BEGIN
    SELECT RAISE(ABORT, 'draft_reveals is append-only: UPDATE is not allowed.');
END;

CREATE TRIGGER draft_reveals_no_delete BEFORE DELETE ON draft_reveals
BEGIN
    SELECT RAISE(ABORT, 'draft_reveals is append-only: DELETE is not allowed.');
END;

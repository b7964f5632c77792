-- Strata push speed: the audit and history tables carry only indexes a query needs, and the
-- config tables leave room for in-place updates. Same guarantees, same chain.
--
--   * config_audit is keyed by seq instead of its random UUID, and config_history's time index is
--     a BRIN index (below, with the queries each remaining index serves).
--   * The config tables leave 10% of each page free, so a push's updates stay on their page
--     (HOT) and skip the index inserts.
-- The push itself (src-main/services/push-sql.ts) also sets random_page_cost = 1.1 for its
-- transaction, so its UPDATE / DELETE ... FROM unnest() use the (scope, key) index.

-- ---------------------------------------------------------------------------------------------
-- Indexes on the append-only tables: each one costs every pushed row an index insert, so each
-- must serve a query the code runs. What reads config_audit: the chain walk and the live feed
-- (seq ranges), `strata history` / audit:list (key, changed_by, config_table/config_id,
-- changed_at ranges; newest seq first), the revert fallback and the benchmark (push_id). What
-- reads config_history: point-in-time rebuilds (changed_at <= T, per slot newest seq first),
-- slot look-ups (level, scope, key, seq) and push reverts (push_id).
--
-- config_audit.id is a random UUID: its primary-key index took one insert at a random place of
-- the tree per row (the most expensive index of the table) and no query looks a row up by id.
-- seq, unique already, becomes the primary key (ever increasing: inserts append); id stays a
-- random UUID, part of every row's hash, so it is still tamper-evident.
ALTER TABLE config_audit DROP CONSTRAINT config_audit_pkey;
ALTER TABLE config_audit DROP CONSTRAINT config_audit_seq_key;
ALTER TABLE config_audit ADD CONSTRAINT config_audit_pkey PRIMARY KEY (seq);

-- config_history rows are appended in about changed_at order (the writing transaction's start
-- time; transactions commit in about the order they start), which is what a BRIN index is for:
-- a few pages instead of a B-tree entry per row. It only narrows which blocks a point-in-time
-- query reads; rows a block range holds out of order are still found, as BRIN ranges are lossy.
DROP INDEX idx_config_history_time;
CREATE INDEX idx_config_history_time ON config_history USING brin (changed_at);

-- ---------------------------------------------------------------------------------------------
-- Room for HOT updates: a push rewrites value, version and updated_at, none of them indexed, so
-- with free space on the row's page PostgreSQL keeps the new version on the same page and skips
-- every index insert (and the later cleanup). Applies to pages written from now on.
ALTER TABLE config_global SET (fillfactor = 90);
ALTER TABLE config_tenant SET (fillfactor = 90);
ALTER TABLE config_department SET (fillfactor = 90);
ALTER TABLE config_group SET (fillfactor = 90);
ALTER TABLE config_user SET (fillfactor = 90);

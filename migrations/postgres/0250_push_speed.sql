-- Strata push speed: the set-based triggers of 0240 did the right amount of work per statement,
-- but two functions still cost per row what should cost per statement or nothing, and the audit
-- and history tables carried indexes no query needs. Same guarantees, same sentences, same chain.
--
--   * strata_audit_field() (0240) was declared IMMUTABLE but its body used integer || text, a
--     STABLE operator, so PostgreSQL refused to inline it: every audit row paid ten calls of a SQL
--     function through the executor (about a third of a 10,000-row push). The body now casts the
--     length to text first (immutable), so it is inlined into the audit INSERT and each row's
--     canonical text is one plain expression. The text it returns is unchanged.
--   * strata_validate_statement() (0240) meant to decode each key's rules once ("metadata read
--     once per distinct key"), but PostgreSQL inlined its CTEs into the join, so the rules were
--     decoded again for every row, and the final LIMIT 1 (stop at the first problem) made the
--     planner pick nested loops that compare every row with every key (1.7 million comparisons
--     for 5,000 rows) on the bet that a problem turns up early; on a valid push none does. The
--     CTEs are now MATERIALIZED: rules decoded once per distinct key, every row checked once
--     through hash joins, then the first problem taken. Rules, order and sentences are exactly
--     those of 0240.
--   * config_audit is keyed by seq instead of its random UUID, and config_history's time index is
--     a BRIN index (below, with the queries each remaining index serves).
--   * The config tables leave 10% of each page free, so a push's updates stay on their page
--     (HOT) and skip the index inserts.
-- The push itself (src-main/services/push-sql.ts) also sets random_page_cost = 1.1 for its
-- transaction, so its UPDATE / DELETE ... FROM unnest() use the (scope, key) index.

-- ---------------------------------------------------------------------------------------------
-- The canonical field, inlinable: every operator in the body is immutable (the length is cast to
-- text before it is concatenated), so the planner folds this into the calling expression.

CREATE OR REPLACE FUNCTION strata_audit_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(char_length(v)::text || ':' || v || ';', '~;')
$$;

-- ---------------------------------------------------------------------------------------------
-- Values: the validation of 0240 with its per-key work really done once per key.

CREATE OR REPLACE FUNCTION strata_validate_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lvl text := TG_ARGV[0];
  scope_expr text := CASE lvl
    WHEN 'global' THEN '''''::text'
    WHEN 'tenant' THEN 'n.tenant_id::text'
    WHEN 'department' THEN '(n.tenant_id || ''/'' || n.department)::text'
    WHEN 'group' THEN 'n.group_id::text'
    ELSE 'n.user_id::text' END;
  bad record;
BEGIN
  EXECUTE format($q$
    WITH meta AS MATERIALIZED (
      -- Each key's rules, decoded once: per row only comparisons remain.
      SELECT m.key, m.value_type::text AS mtype, m.input_type::text AS minput,
             coalesce(r.rules->'required' = 'true'::jsonb, false) OR coalesce(m.is_required, false) AS req,
             CASE WHEN jsonb_typeof(r.rules->'minLength') = 'number' THEN r.rules->>'minLength' END AS min_len,
             CASE WHEN jsonb_typeof(r.rules->'maxLength') = 'number' THEN r.rules->>'maxLength' END AS max_len,
             CASE WHEN jsonb_typeof(r.rules->'min') = 'number' THEN r.rules->>'min' END AS min_v,
             CASE WHEN jsonb_typeof(r.rules->'max') = 'number' THEN r.rules->>'max' END AS max_v,
             CASE WHEN jsonb_typeof(r.rules->'pattern') = 'string' AND r.rules->>'pattern' <> ''
                       AND strata_regex_ok(r.rules->>'pattern') THEN r.rules->>'pattern' END AS pattern,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array' AND jsonb_array_length(r.rules->'options') > 0
                  THEN ARRAY(SELECT CASE WHEN jsonb_typeof(o) = 'string' THEN o #>> '{}' ELSE o::text END
                             FROM jsonb_array_elements(r.rules->'options') o) END AS opt_text,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array'
                  THEN ARRAY(SELECT o::text::numeric FROM jsonb_array_elements(r.rules->'options') o
                             WHERE jsonb_typeof(o) = 'number') END AS opt_num,
             CASE WHEN jsonb_typeof(r.rules->'options') = 'array'
                  THEN (SELECT string_agg(o::text, ', ') FROM jsonb_array_elements(r.rules->'options') o) END AS opt_list
      FROM configuration_metadata m
      CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(coalesce(m.validation_rules, '{}'::jsonb)) = 'object'
                                      THEN coalesce(m.validation_rules, '{}'::jsonb) ELSE '{}'::jsonb END AS rules) r
      WHERE m.key IN (SELECT DISTINCT x.key FROM new_rows x)
    ),
    keys AS MATERIALIZED (
      SELECT k.key, strata_is_secret_key(k.key) AS secret FROM (SELECT DISTINCT x.key FROM new_rows x) k
    ),
    checked AS MATERIALIZED (
      SELECT n.key::text AS key, %s AS scope,
        CASE
          WHEN n.encrypted THEN CASE
            WHEN n.value !~ '^enc:v1:[0-9a-f]{8}:[0-9a-f]{16}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}$'
              THEN 'rule encrypted: an encrypted value must be an enc:v1 envelope written by Strata'
            WHEN m.key IS NOT NULL AND m.mtype IS DISTINCT FROM n.value_type::text
              THEN format('rule type: the key is declared as %%s, not %%s', m.mtype, n.value_type)
            END
          WHEN k.secret OR (m.key IS NOT NULL AND m.minput = 'password')
            THEN 'rule secret: secrets must be stored encrypted (the console encrypts them with CONFIG_ENCRYPTION_KEY)'
          WHEN m.key IS NOT NULL AND m.req AND btrim(n.value) = ''
            THEN 'rule required: a value is required'
          WHEN m.key IS NOT NULL AND m.mtype IS DISTINCT FROM n.value_type::text
            THEN format('rule type: the key is declared as %%s, not %%s', m.mtype, n.value_type)
          WHEN n.value_type = 'number' AND btrim(n.value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            THEN 'rule type: expected a decimal number such as 42 or 3.5'
          WHEN n.value_type = 'boolean' AND n.value NOT IN ('true', 'false')
            THEN 'rule type: expected true or false'
          WHEN n.value_type = 'json' AND NOT strata_is_json(n.value)
            THEN 'rule type: expected valid JSON'
          WHEN m.key IS NULL THEN NULL
          WHEN m.min_len IS NOT NULL AND char_length(n.value) < m.min_len::numeric
            THEN format('rule minLength: must be at least %%s characters long', m.min_len)
          WHEN m.max_len IS NOT NULL AND char_length(n.value) > m.max_len::numeric
            THEN format('rule maxLength: must be at most %%s characters long', m.max_len)
          WHEN (m.min_v IS NOT NULL OR m.max_v IS NOT NULL)
               AND btrim(n.value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            THEN 'rule type: expected a decimal number such as 42 or 3.5'
          WHEN m.min_v IS NOT NULL AND btrim(n.value)::numeric < m.min_v::numeric
            THEN format('rule min: must be at least %%s', m.min_v)
          WHEN m.max_v IS NOT NULL AND btrim(n.value)::numeric > m.max_v::numeric
            THEN format('rule max: must be at most %%s', m.max_v)
          WHEN m.pattern IS NOT NULL AND NOT (n.value ~ m.pattern)
            THEN format('rule pattern: must match /%%s/', m.pattern)
          WHEN m.opt_text IS NOT NULL
               AND NOT (n.value = ANY (m.opt_text)
                        OR (n.value_type = 'number' AND btrim(n.value)::numeric = ANY (m.opt_num)))
            THEN format('rule options: must be one of %%s', m.opt_list)
        END AS problem
      FROM new_rows n JOIN keys k ON k.key = n.key LEFT JOIN meta m ON m.key = n.key
    )
    SELECT key, scope, problem FROM checked WHERE problem IS NOT NULL LIMIT 1
  $q$, scope_expr) INTO bad;
  IF bad.problem IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('Key ''%s'' at %s rejects the value (%s).',
                       bad.key, btrim(lvl || ' ' || bad.scope), bad.problem);
  END IF;
  RETURN NULL;
END $$;

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

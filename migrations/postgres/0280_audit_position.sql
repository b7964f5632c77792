-- Strata audit position: lets a draft tell, after its push, whether anything but that push has
-- changed the target's values or directory since the draft's base was read.
--
-- Every change to a config table or a directory table writes config_audit rows in the hash
-- chain, in the order the changes commit (seq is drawn under the chain lock, held until
-- COMMIT). A draft records the chain's head (last_seq, last_hash of strata_audit_head, which
-- strata_app may read) in the same snapshot as its base. After a push, the refresh asks this
-- function how many rows came after that head from anything else than the push:
--   * 0: the base plus the push's own rows (which the draft writes into its base when it
--     records the push) IS the target's state, so the values and the directory are not read
--     again (src-main/services/draft-pull.ts, refreshAfterPush);
--   * more than 0: someone else changed something, and the whole base is read again;
--   * NULL: the recorded head is not a link of this database's chain (another database at the
--     same address, or one restored from an older backup): the whole base is read again.
-- It runs as its owner because a reader's row-level security hides other tenants' audit rows,
-- and those changes must count too. It returns a number only, never a row.

CREATE FUNCTION strata_audit_changes_since(p_seq bigint, p_hash text, p_push text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT CASE
    WHEN p_seq = 0 AND p_hash = repeat('0', 64)
      OR EXISTS (SELECT 1 FROM config_audit WHERE seq = p_seq AND hash = p_hash)
    THEN (SELECT count(*) FROM config_audit
          WHERE seq > p_seq AND (p_push IS NULL OR push_id IS DISTINCT FROM p_push))
  END
$$;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_audit_changes_since(bigint, text, text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
  REVOKE ALL ON FUNCTION strata_audit_changes_since(bigint, text, text) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION strata_audit_changes_since(bigint, text, text) TO strata_app;
END $$;

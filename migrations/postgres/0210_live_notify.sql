-- Strata live updates: every committed configuration change is announced on the channel
-- `strata_config` with LISTEN/NOTIFY, so a console shows changes made by others within a second
-- and services that read the configuration can refresh without a restart (docs/LIVE-UPDATES.md).
--
-- The notification comes from the audit trail itself: one per INSERT statement on config_audit
-- (one per changed level per statement on the config tables), sent only when the transaction
-- commits. Its payload names the audit rows, not their content:
--     {"v":1,"kind":"config","first_seq":1041,"last_seq":1043,"count":3}
-- A listener reads those rows from config_audit, where row-level security shows each reader
-- only what it may see; NOTIFY reaches every listener of the database regardless of rights, so
-- keys, scopes and operators stay out of the payload. Audit seqs are drawn under the chain lock
-- of 0120, so they grow in commit order and `seq > last seen` catches up after a reconnect.
-- Policy rule changes are announced too ({"v":1,"kind":"rules"}) so Lint panels can refresh.

CREATE FUNCTION strata_notify_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  SELECT json_build_object('v', 1, 'kind', 'config', 'first_seq', min(r.seq), 'last_seq', max(r.seq),
                           'count', count(*))::text
    INTO payload
  FROM new_rows r
  HAVING count(*) > 0;
  IF payload IS NOT NULL THEN
    PERFORM pg_notify('strata_config', payload);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER strata_notify AFTER INSERT ON config_audit
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION strata_notify_audit();

CREATE FUNCTION strata_notify_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('strata_config', '{"v":1,"kind":"rules"}');
  RETURN NULL;
END $$;

CREATE TRIGGER strata_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON config_policy_rules
  FOR EACH STATEMENT EXECUTE FUNCTION strata_notify_rules();

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION strata_notify_audit() SET search_path = pg_catalog, %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION strata_notify_rules() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;

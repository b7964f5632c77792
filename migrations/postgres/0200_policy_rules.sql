-- Strata guardrails: policy rules stored in the database, evaluated by `strata lint`, the
-- console's Lint panel, and every plan and push (src-main/core/lint.ts). A rule reads
-- "where <when> holds for a user's effective value, <require> must hold too", e.g. the customer's
-- HIPAA / marketing split: where compliance.hipaa.enabled is true, the effective
-- features.email_gateway.enabled must be false. A push that makes a user break an error-level
-- rule is refused unless a super_admin overrides it with a reason.
--
-- Conditions: op is equals | not_equals (value: a JSON string), in | not_in (value: a JSON array
-- of strings), is_set | is_unset (no value). Values compare under the key's value type, so
-- 'true' matches a boolean stored as true. tenant_id restricts a rule to one tenant's users.
-- Readable by every admin_capable user, written by super_admin only (same functions as 0100).

CREATE TABLE config_policy_rules (
    id            TEXT PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    description   TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
    severity      VARCHAR(10) NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warning')),
    when_key      VARCHAR(200),
    when_op       VARCHAR(20) CHECK (when_op IN ('equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_unset')),
    when_value    JSONB,
    require_key   VARCHAR(200) NOT NULL,
    require_op    VARCHAR(20) NOT NULL CHECK (require_op IN ('equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_unset')),
    require_value JSONB,
    tenant_id     TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_by    TEXT,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by    TEXT,
    CONSTRAINT config_policy_rules_when_pair CHECK ((when_key IS NULL) = (when_op IS NULL)),
    CONSTRAINT config_policy_rules_when_value CHECK (
        when_op IS NULL
        OR (when_op IN ('equals', 'not_equals') AND jsonb_typeof(when_value) = 'string')
        OR (when_op IN ('in', 'not_in') AND jsonb_typeof(when_value) = 'array' AND jsonb_array_length(when_value) BETWEEN 1 AND 100)
        OR (when_op IN ('is_set', 'is_unset') AND when_value IS NULL)),
    CONSTRAINT config_policy_rules_require_value CHECK (
        (require_op IN ('equals', 'not_equals') AND jsonb_typeof(require_value) = 'string')
        OR (require_op IN ('in', 'not_in') AND jsonb_typeof(require_value) = 'array' AND jsonb_array_length(require_value) BETWEEN 1 AND 100)
        OR (require_op IN ('is_set', 'is_unset') AND require_value IS NULL))
);

-- Who changed a rule and when (the operator the console sets, else the database role).
CREATE FUNCTION strata_policy_rule_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op text := coalesce(nullif(current_setting('strata.operator', true), ''), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.created_at := now();
    NEW.created_by := op;
  ELSE
    NEW.created_at := OLD.created_at;
    NEW.created_by := OLD.created_by;
  END IF;
  NEW.updated_at := now();
  NEW.updated_by := op;
  RETURN NEW;
END $$;

CREATE TRIGGER strata_stamp BEFORE INSERT OR UPDATE ON config_policy_rules
  FOR EACH ROW EXECUTE FUNCTION strata_policy_rule_stamp();

ALTER TABLE config_policy_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY strata_read ON config_policy_rules FOR SELECT USING ((SELECT strata_reads_global()));
CREATE POLICY strata_write ON config_policy_rules FOR ALL
  USING (strata_can_manage_directory(NULL)) WITH CHECK (strata_can_manage_directory(NULL));

REVOKE ALL ON config_policy_rules FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON config_policy_rules TO strata_app;

-- The customer's first rule (hierarchical-config-plan.md: HIPAA users and the email gateway).
INSERT INTO config_policy_rules (id, description, severity, when_key, when_op, when_value,
                                 require_key, require_op, require_value)
VALUES ('hipaa-no-email-gateway',
        'Users under HIPAA must not send faxes by email: turn the email gateway off where HIPAA applies.',
        'error',
        'compliance.hipaa.enabled', 'equals', '"true"'::jsonb,
        'features.email_gateway.enabled', 'equals', '"false"'::jsonb)
ON CONFLICT (id) DO NOTHING;

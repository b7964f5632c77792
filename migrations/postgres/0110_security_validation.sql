-- Strata security (2/3): values are checked by the database too, so a psql session or a script
-- cannot store what the console would refuse. Mirrors validateValue() in src-main/core/validation.ts:
--   * the row's value_type: number must be a decimal number, boolean exactly true or false (the
--     console stores canonical text), json must parse;
--   * configuration_metadata for the key: declared value_type, required / is_required,
--     minLength, maxLength (characters), min, max, pattern (PostgreSQL regular expression) and
--     options;
--   * secrets (the key matches a secret pattern, or metadata says input_type = password) must be
--     stored encrypted; an encrypted value is checked only as an envelope (enc:v1:...), since the
--     database holds no key and cannot decrypt it.
-- Differences from the customer's validate_configuration_value(), which this replaces:
--   * it read v_metadata.value_type, a column its configuration_metadata did not have, so every
--     key with metadata failed at run time ("record v_metadata has no field value_type"); ours
--     has the column and it is used;
--   * it returned a bare boolean and was never called by anything; this is a trigger and says
--     which rule failed;
--   * it ignored options, the row's own value_type and NULL rules, and its number pattern refused
--     1e3, +1 and .5;
--   * it looked metadata up by (category, config_key); Strata keys are unique in `key`.
-- Refusals use SQLSTATE 23514 (check_violation) and never contain the value.

-- jsonb input check without a subtransaction where the server offers one (PostgreSQL 16+).
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE $f$
      CREATE FUNCTION strata_is_json(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS
      'SELECT pg_catalog.pg_input_is_valid(v, ''jsonb'')'
    $f$;
  ELSE
    EXECUTE $f$
      CREATE FUNCTION strata_is_json(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $b$
      BEGIN
        PERFORM v::jsonb;
        RETURN true;
      EXCEPTION WHEN others THEN
        RETURN false;
      END $b$
    $f$;
  END IF;
END $$;

-- True when the key names a secret (the same substrings as src-main/core/secret-keys.ts).
CREATE FUNCTION strata_is_secret_key(p_key text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT lower(p_key) ~ '(api_key|api_secret|password|token|oauth_|credentials|private_key|secret)'
$$;

-- Why a value breaks its type or its metadata rules; NULL when it is acceptable.
CREATE FUNCTION strata_value_problem(p_key text, p_value text, p_type text, p_encrypted boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  meta record;
  has_meta boolean;
  rules jsonb;
  num numeric;
  matched boolean;
BEGIN
  SELECT m.value_type, m.validation_rules, m.is_required, m.input_type INTO meta
  FROM configuration_metadata m WHERE m.key = p_key;
  has_meta := FOUND;

  IF p_encrypted THEN
    IF p_value !~ '^enc:v1:[0-9a-f]{8}:[0-9a-f]{16}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}$' THEN
      RETURN 'rule encrypted: an encrypted value must be an enc:v1 envelope written by Strata';
    END IF;
    IF has_meta AND meta.value_type IS DISTINCT FROM p_type THEN
      RETURN format('rule type: the key is declared as %s, not %s', meta.value_type, p_type);
    END IF;
    RETURN NULL;
  END IF;

  IF strata_is_secret_key(p_key) OR (has_meta AND meta.input_type = 'password') THEN
    RETURN 'rule secret: secrets must be stored encrypted (the console encrypts them with CONFIG_ENCRYPTION_KEY)';
  END IF;

  rules := CASE WHEN has_meta THEN coalesce(meta.validation_rules, '{}'::jsonb) ELSE '{}'::jsonb END;
  IF jsonb_typeof(rules) IS DISTINCT FROM 'object' THEN
    rules := '{}'::jsonb;
  END IF;

  IF (rules->'required' = 'true'::jsonb OR (has_meta AND meta.is_required)) AND btrim(p_value) = '' THEN
    RETURN 'rule required: a value is required';
  END IF;
  IF has_meta AND meta.value_type IS DISTINCT FROM p_type THEN
    RETURN format('rule type: the key is declared as %s, not %s', meta.value_type, p_type);
  END IF;

  IF p_type = 'number' THEN
    IF btrim(p_value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
      RETURN 'rule type: expected a decimal number such as 42 or 3.5';
    END IF;
  ELSIF p_type = 'boolean' THEN
    IF p_value NOT IN ('true', 'false') THEN
      RETURN 'rule type: expected true or false';
    END IF;
  ELSIF p_type = 'json' THEN
    IF NOT strata_is_json(p_value) THEN
      RETURN 'rule type: expected valid JSON';
    END IF;
  END IF;

  IF jsonb_typeof(rules->'minLength') = 'number' AND char_length(p_value) < (rules->>'minLength')::numeric THEN
    RETURN format('rule minLength: must be at least %s characters long', rules->>'minLength');
  END IF;
  IF jsonb_typeof(rules->'maxLength') = 'number' AND char_length(p_value) > (rules->>'maxLength')::numeric THEN
    RETURN format('rule maxLength: must be at most %s characters long', rules->>'maxLength');
  END IF;

  IF jsonb_typeof(rules->'min') = 'number' OR jsonb_typeof(rules->'max') = 'number' THEN
    IF btrim(p_value) !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
      RETURN 'rule type: expected a decimal number such as 42 or 3.5';
    END IF;
    num := btrim(p_value)::numeric;
    IF jsonb_typeof(rules->'min') = 'number' AND num < (rules->>'min')::numeric THEN
      RETURN format('rule min: must be at least %s', rules->>'min');
    END IF;
    IF jsonb_typeof(rules->'max') = 'number' AND num > (rules->>'max')::numeric THEN
      RETURN format('rule max: must be at most %s', rules->>'max');
    END IF;
  END IF;

  IF jsonb_typeof(rules->'pattern') = 'string' AND rules->>'pattern' <> '' THEN
    BEGIN
      matched := p_value ~ (rules->>'pattern');
    EXCEPTION WHEN invalid_regular_expression THEN
      -- A JavaScript-only construct: the console has already applied the pattern with its own
      -- engine, and refusing every write of the key here would only lock it.
      matched := true;
    END;
    IF NOT matched THEN
      RETURN format('rule pattern: must match /%s/', rules->>'pattern');
    END IF;
  END IF;

  IF jsonb_typeof(rules->'options') = 'array' AND jsonb_array_length(rules->'options') > 0 THEN
    IF NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(rules->'options') o
      WHERE (CASE WHEN jsonb_typeof(o) = 'string' THEN o #>> '{}' ELSE o::text END) = p_value
         OR (p_type = 'number' AND jsonb_typeof(o) = 'number' AND o::text::numeric = btrim(p_value)::numeric)
    ) THEN
      RETURN format('rule options: must be one of %s',
                    (SELECT string_agg(o::text, ', ') FROM jsonb_array_elements(rules->'options') o));
    END IF;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION strata_validate_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  problem text;
  scope text;
BEGIN
  problem := strata_value_problem(NEW.key, NEW.value, NEW.value_type, NEW.encrypted);
  IF problem IS NOT NULL THEN
    IF TG_ARGV[0] = 'global' THEN scope := '';
    ELSIF TG_ARGV[0] = 'tenant' THEN scope := NEW.tenant_id;
    ELSIF TG_ARGV[0] = 'department' THEN scope := NEW.tenant_id || '/' || NEW.department;
    ELSIF TG_ARGV[0] = 'group' THEN scope := NEW.group_id;
    ELSE scope := NEW.user_id;
    END IF;
    RAISE EXCEPTION USING
      ERRCODE = 'check_violation',
      MESSAGE = format('Key ''%s'' at %s rejects the value (%s).',
                       NEW.key, btrim(TG_ARGV[0] || ' ' || scope), problem);
  END IF;
  RETURN NEW;
END $$;

DO $$
DECLARE
  lvl text;
BEGIN
  FOREACH lvl IN ARRAY ARRAY['global', 'tenant', 'department', 'group', 'user'] LOOP
    -- Named to fire after the guard (strata_10_guard): a refused writer learns nothing about
    -- the rules of a slot it may not touch.
    EXECUTE format('CREATE TRIGGER strata_20_validate BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION strata_validate_row(%L)',
                   'config_' || lvl, lvl);
  END LOOP;
END $$;

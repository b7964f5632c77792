-- Strata membership moves: a user's groups are an ordered list (position 0 wins), and moving a
-- group to another place in it is now written, and audited, as what it is: an update of the
-- membership's position ('dir:membership', key = the group, old and new position), instead of
-- a removal and an addition of the same membership.
--
-- Positions are unique per user. A non-deferrable unique constraint is checked row by row, so
-- one UPDATE that swaps two positions failed half-way; DEFERRABLE INITIALLY IMMEDIATE checks it
-- at the end of each statement instead, so a reorder is one UPDATE and the list is never left
-- with two groups at one position. Nothing else changes: every statement still ends with unique
-- positions, and the constraint is no ON CONFLICT target anywhere.
DO $$
DECLARE
  c text;
BEGIN
  SELECT con.conname INTO c
  FROM pg_constraint con
  WHERE con.conrelid = 'group_members'::regclass AND con.contype = 'u'
    AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
         FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey))
        = ARRAY['position', 'user_id'];
  IF c IS NULL THEN
    RAISE EXCEPTION 'group_members has no UNIQUE (user_id, position) constraint to make deferrable';
  END IF;
  EXECUTE format('ALTER TABLE group_members DROP CONSTRAINT %I', c);
END $$;

ALTER TABLE group_members ADD CONSTRAINT group_members_user_id_position_key
  UNIQUE (user_id, position) DEFERRABLE INITIALLY IMMEDIATE;

-- Where each template application row of a draft came from. A draft holds two kinds: rows a
-- pull copied from its target (from_target = 1) and rows the draft wrote itself when a template
-- was applied, a tenant provisioned or an upgrade staged (from_target = 0), which its next push
-- records in the target's template_applications.
--
-- Until now the two were told apart by time (applied after the draft's pulled_at = the draft's
-- own), which a second pull broke: pulled_at moved past the draft's own rows, so a template
-- applied before a rebase was never recorded in the target. The flag does not move.
--
-- A pull replaces the rows it copied and leaves the draft's own alone, unless the target now
-- holds the same application at the same version (the draft's push landed, or the same version
-- was applied there too): then the row is the target's.

ALTER TABLE template_applications
  ADD COLUMN from_target INTEGER NOT NULL DEFAULT 0 CHECK (from_target IN (0, 1));

-- Rows written before this migration, classified as the old rule did: with a recorded pull,
-- a row stamped no later than it (or not stamped in ISO form, as rows copied from PostgreSQL
-- were) came from the target.
UPDATE template_applications SET from_target = 1
WHERE EXISTS (SELECT 1 FROM draft_meta WHERE key = 'pulled_at' AND value IS NOT NULL AND value <> '')
  AND (julianday(applied_at) IS NULL
       OR julianday(applied_at) <= (SELECT julianday(value) FROM draft_meta WHERE key = 'pulled_at'));

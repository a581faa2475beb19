-- Whose an extension is, for the scope of reads and decisions: the plan and unit of its
-- assignment, recorded at creation as reports record theirs.
ALTER TABLE extensions
    ADD COLUMN plan              text NOT NULL DEFAULT '',
    ADD COLUMN unit              text NOT NULL DEFAULT '',
    ADD COLUMN unit_display_name text NOT NULL DEFAULT '';

-- Earlier extensions take them from their assignment's latest report where there is one (an
-- assignment's plan never changes). The rest keep none: only callers without a government see
-- or decide them.
UPDATE extensions e
SET plan = r.plan, unit = r.unit, unit_display_name = r.unit_display_name
FROM (SELECT DISTINCT ON (assignment) assignment, plan, unit, unit_display_name
      FROM reports WHERE plan <> '' ORDER BY assignment, id DESC) r
WHERE r.assignment = e.assignment;

-- Merges can be undone (UnmergeUnit): each spelling remembers the unit it belonged to before a
-- merge moved it, as assignments already do (original_unit_id), and an undone merge stays in the
-- history with the time it was undone.
ALTER TABLE unit_aliases ADD COLUMN original_unit_id bigint REFERENCES units (id);
ALTER TABLE unit_merges ADD COLUMN undone_at timestamptz;

-- Generic bodies stand for their members; merged units are kept for history.
ALTER TABLE units
    ADD COLUMN expands     text   NOT NULL DEFAULT '',
    ADD COLUMN merged_into bigint REFERENCES units (id);

CREATE TABLE unit_merges (
    source_id         bigint      NOT NULL REFERENCES units (id),
    target_id         bigint      NOT NULL REFERENCES units (id),
    aliases_moved     integer     NOT NULL,
    assignments_moved integer     NOT NULL,
    merged_at         timestamptz NOT NULL DEFAULT now()
);

-- Which source units each assignment came from before a merge moved it.
ALTER TABLE assignments ADD COLUMN original_unit_id bigint REFERENCES units (id);

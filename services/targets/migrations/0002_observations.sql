-- The indicator family ties the same indicator together across documents and levels.
ALTER TABLE indicators
    ADD COLUMN metric_key text    NOT NULL DEFAULT '',
    ADD COLUMN year       integer NOT NULL DEFAULT 0;
CREATE INDEX indicators_family_idx ON indicators (year, metric_key);

-- Values of indicators: progress figures from reports, outcomes stated by later documents.
CREATE TABLE observations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id       bigint           NOT NULL REFERENCES tasks (id),
    -- NULL for a stated outcome that matches no indicator.
    indicator_id  bigint           REFERENCES indicators (id),
    phrase        text             NOT NULL DEFAULT '',
    metric        text             NOT NULL DEFAULT '',
    value         double precision NOT NULL,
    value_max     double precision,
    unit          text             NOT NULL DEFAULT '',
    comparator    text             NOT NULL DEFAULT 'equal'
                  CHECK (comparator IN ('about', 'at_least', 'at_most', 'equal', 'range')),
    as_of         text             NOT NULL DEFAULT '',
    year          integer          NOT NULL DEFAULT 0,
    source        text             NOT NULL,
    span_document text             NOT NULL DEFAULT '',
    span_start    bigint           NOT NULL DEFAULT 0,
    span_end      bigint           NOT NULL DEFAULT 0,
    verdict       text             NOT NULL DEFAULT '' CHECK (verdict IN ('', 'met', 'missed', 'unclear')),
    created_at    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX observations_indicator_idx ON observations (indicator_id, id);
CREATE INDEX observations_task_idx ON observations (task_id, id);
CREATE INDEX observations_year_idx ON observations (year);

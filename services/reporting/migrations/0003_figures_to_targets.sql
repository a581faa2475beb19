-- How far accepted reports' figures have been handed to the targets service as observations:
-- a position in the event log, advanced only after the targets service has them.
CREATE TABLE figures_cursor (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL
);
INSERT INTO figures_cursor (singleton, position) VALUES (true, 0);

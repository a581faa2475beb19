-- The report workflow (sign-off, submission, review, versions, evidence), extensions, per-plan
-- light thresholds, and the durable event log.

ALTER TABLE reports
    ADD COLUMN plan              text        NOT NULL DEFAULT '',
    ADD COLUMN task              text        NOT NULL DEFAULT '',
    ADD COLUMN unit              text        NOT NULL DEFAULT '',
    ADD COLUMN unit_display_name text        NOT NULL DEFAULT '',
    ADD COLUMN role              text        NOT NULL DEFAULT '',
    -- [{"indicator": "plans/1/tasks/2/indicators/3", "value": 1.5, "as_of": "2025-06-30"}]
    ADD COLUMN figures           jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN signer_name       text        NOT NULL DEFAULT '',
    ADD COLUMN signer_role       text        NOT NULL DEFAULT '',
    ADD COLUMN signed_at         timestamptz,
    -- The first submission's date in China Standard Time: lateness is judged on it.
    ADD COLUMN submit_date       date,
    ADD COLUMN reviewer_name     text        NOT NULL DEFAULT '',
    ADD COLUMN reviewer_role     text        NOT NULL DEFAULT '',
    ADD COLUMN return_reason     text        NOT NULL DEFAULT '',
    ADD COLUMN contributions     text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN version           integer     NOT NULL DEFAULT 1,
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now();

CREATE INDEX reports_plan_period ON reports (plan, period);
CREATE INDEX reports_task_period ON reports (task, period);

-- Every step of every report, never updated: the report as it stood after the step.
CREATE TABLE report_versions (
    report     bigint      NOT NULL REFERENCES reports (id),
    version    integer     NOT NULL,
    action     text        NOT NULL,
    actor_name text        NOT NULL DEFAULT '',
    actor_role text        NOT NULL DEFAULT '',
    reason     text        NOT NULL DEFAULT '',
    -- The duban.v1.Report message, protobuf-encoded.
    snapshot   bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report, version)
);

CREATE TABLE evidence (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report     bigint      NOT NULL REFERENCES reports (id),
    filename   text        NOT NULL,
    media_type text        NOT NULL,
    size_bytes integer     NOT NULL CHECK (size_bytes BETWEEN 0 AND 10485760),
    sha256     text        NOT NULL,
    content    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_report ON evidence (report);

CREATE TABLE extensions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment         text        NOT NULL,
    period             text        NOT NULL,
    requested_due_date date        NOT NULL,
    reason             text        NOT NULL,
    requester_name     text        NOT NULL DEFAULT '',
    requester_role     text        NOT NULL DEFAULT '',
    state              text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    decider_name       text        NOT NULL DEFAULT '',
    decider_role       text        NOT NULL DEFAULT '',
    decision_reason    text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    decided_at         timestamptz
);
CREATE INDEX extensions_assignment_period ON extensions (assignment, period);

CREATE TABLE supervision_settings (
    plan                     text PRIMARY KEY,
    red_after_overdue_days   integer     NOT NULL CHECK (red_after_overdue_days >= 0),
    red_after_behind_periods integer     NOT NULL CHECK (red_after_behind_periods >= 1),
    pace_tolerance_percent   integer     NOT NULL CHECK (pace_tolerance_percent BETWEEN 0 AND 100),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- The event log subscribers read from. Written in the transaction of the change it records;
-- writers serialise on an advisory lock so positions become visible in order.
CREATE TABLE events (
    position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    plan       text        NOT NULL DEFAULT '',
    period     text        NOT NULL DEFAULT '',
    task       text        NOT NULL DEFAULT '',
    assignment text        NOT NULL DEFAULT '',
    report     text        NOT NULL DEFAULT '',
    light      text        NOT NULL DEFAULT '',
    detail     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The last observed light of each task and the items known to be overdue, so that an
-- observation emits events only for what changed.
CREATE TABLE observed (
    plan    text NOT NULL,
    period  text NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('light', 'overdue')),
    subject text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (plan, period, kind, subject)
);
CREATE TABLE observed_through (
    plan  text PRIMARY KEY,
    as_of date NOT NULL
);

-- request_id replay for mutating calls (see duban-db::idempotency).
CREATE TABLE request_log (
    method      text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint bytea       NOT NULL,
    response    bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);

CREATE TABLE plans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title           text        NOT NULL,
    year            integer     NOT NULL DEFAULT 0,
    issuer          text        NOT NULL DEFAULT '',
    level           text        NOT NULL DEFAULT '',
    source_report   text        NOT NULL DEFAULT '',
    source_document text        NOT NULL DEFAULT '',
    attachment      text        NOT NULL DEFAULT '',
    reporting_rule  text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id       bigint      NOT NULL REFERENCES plans (id),
    position      integer     NOT NULL,
    number        text        NOT NULL DEFAULT '',
    section_path  text[]      NOT NULL DEFAULT '{}',
    category      text        NOT NULL DEFAULT '',
    text          text        NOT NULL,
    span_document text        NOT NULL DEFAULT '',
    span_start    bigint      NOT NULL DEFAULT 0,
    span_end      bigint      NOT NULL DEFAULT 0,
    deadline      text        NOT NULL DEFAULT '',
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    warnings      text[]      NOT NULL DEFAULT '{}',
    year          integer     NOT NULL DEFAULT 0,
    revision      integer     NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, position)
);
CREATE INDEX tasks_plan_idx ON tasks (plan_id, id);

-- Every edit keeps the version it replaced.
CREATE TABLE task_revisions (
    task_id    bigint      NOT NULL REFERENCES tasks (id),
    revision   integer     NOT NULL,
    text       text        NOT NULL,
    deadline   text        NOT NULL,
    status     text        NOT NULL,
    category   text        NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, revision)
);

CREATE TABLE indicators (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    bigint           NOT NULL REFERENCES tasks (id),
    position   integer          NOT NULL,
    phrase     text             NOT NULL DEFAULT '',
    metric     text             NOT NULL DEFAULT '',
    value      double precision NOT NULL,
    value_max  double precision,
    unit       text             NOT NULL DEFAULT '',
    comparator text             NOT NULL CHECK (comparator IN ('about', 'at_least', 'at_most', 'equal', 'range')),
    warnings   text[]           NOT NULL DEFAULT '{}',
    UNIQUE (task_id, position)
);

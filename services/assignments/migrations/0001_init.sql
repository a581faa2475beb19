-- request_id replay for mutating calls (see duban-db::idempotency).
CREATE TABLE request_log (
    method      text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint bytea       NOT NULL,
    response    bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);

CREATE TABLE units (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name text        NOT NULL UNIQUE,
    level        text        NOT NULL DEFAULT '',
    kind         text        NOT NULL DEFAULT 'other',
    provisional  boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every spelling a unit is known by, its display name included, normalised for lookup.
CREATE TABLE unit_aliases (
    alias   text   PRIMARY KEY,
    unit_id bigint NOT NULL REFERENCES units (id)
);
CREATE INDEX unit_aliases_unit_idx ON unit_aliases (unit_id);

CREATE TABLE assignments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task         text        NOT NULL,
    plan_id      bigint      NOT NULL,
    unit_id      bigint      NOT NULL REFERENCES units (id),
    written_name text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('lead', 'responsible', 'cooperating')),
    level        text        NOT NULL DEFAULT '',
    deadline     text        NOT NULL DEFAULT '',
    position     integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignments_task_idx ON assignments (task, position);
CREATE INDEX assignments_unit_idx ON assignments (unit_id, id);
CREATE INDEX assignments_plan_idx ON assignments (plan_id, id);

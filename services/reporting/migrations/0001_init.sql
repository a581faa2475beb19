-- request_id replay for mutating calls (see duban-db::idempotency).
CREATE TABLE request_log (
    method      text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint bytea       NOT NULL,
    response    bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);

CREATE TABLE reports (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment       text        NOT NULL,
    period           text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('not_started', 'on_pace', 'ahead', 'behind', 'completed', 'blocked')),
    state            text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'signed', 'submitted', 'accepted', 'returned')),
    progress         text        NOT NULL DEFAULT '',
    problems         text        NOT NULL DEFAULT '',
    next_steps       text        NOT NULL DEFAULT '',
    percent_complete integer     NOT NULL DEFAULT 0 CHECK (percent_complete BETWEEN 0 AND 100),
    drafter          text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- One report per assignment and period.
    UNIQUE (assignment, period)
);

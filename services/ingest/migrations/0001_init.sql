-- request_id replay for mutating calls (see duban-db::idempotency).
CREATE TABLE request_log (
    method      text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint bytea       NOT NULL,
    response    bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);

CREATE TABLE documents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filename       text        NOT NULL,
    -- A document is stored once per content, however often or concurrently it is ingested.
    content_sha256 text        NOT NULL UNIQUE,
    size_bytes     bigint      NOT NULL,
    content        bytea       NOT NULL,
    -- The decoded text that task source spans index into.
    text           text        NOT NULL,
    kind           text        NOT NULL,
    title          text        NOT NULL DEFAULT '',
    doc_number     text        NOT NULL DEFAULT '',
    issuer         text        NOT NULL DEFAULT '',
    published      text        NOT NULL DEFAULT '',
    year           integer     NOT NULL DEFAULT 0,
    encoding       text        NOT NULL DEFAULT '',
    reporting_rule text        NOT NULL DEFAULT '',
    plan_count     integer     NOT NULL DEFAULT 0,
    item_count     integer     NOT NULL DEFAULT 0,
    target_count   integer     NOT NULL DEFAULT 0,
    warnings       text[]      NOT NULL DEFAULT '{}',
    -- The full extraction result (the `duban extract` JSON contract).
    extraction     jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- What the targets and assignments services must still receive: one row per plan, written in
-- the same transaction as its document and delivered with retries and idempotency keys.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id     bigint      NOT NULL REFERENCES documents (id),
    plan_index      integer     NOT NULL,
    -- duban.v1.CreatePlanRequest
    plan_request    bytea       NOT NULL,
    -- duban.v1.CreateAssignmentsRequest per task position, task name still empty
    assignments     bytea[]     NOT NULL,
    trace_context   jsonb       NOT NULL DEFAULT '{}',
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text        NOT NULL DEFAULT '',
    plan_name       text        NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    UNIQUE (document_id, plan_index)
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE state = 'pending';

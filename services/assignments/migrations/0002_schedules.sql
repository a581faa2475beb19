-- A plan's reporting schedule, derived from the notice's rule and editable.
CREATE TABLE schedules (
    plan_id         bigint      PRIMARY KEY,
    year            integer     NOT NULL,
    rule            text        NOT NULL DEFAULT '',
    frequency       text        NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'half_yearly')),
    first_period    text        NOT NULL,
    last_period     text        NOT NULL,
    due_day         integer     NOT NULL CHECK (due_day BETWEEN 1 AND 31),
    due_month_after integer     NOT NULL CHECK (due_month_after BETWEEN 0 AND 12),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Revoked bearer tokens (admin owns tokens); the other services poll them through
-- TokenService/ListRevocations.
CREATE TABLE revoked_tokens (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id   text        NOT NULL UNIQUE,
    reason     text        NOT NULL DEFAULT '',
    expires_at timestamptz,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

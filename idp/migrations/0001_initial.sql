-- Signing keys: generated once, persisted so tokens stay verifiable across restarts.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per backchannel authentication request, from creation to token redemption.
CREATE TABLE login_requests (
    internal_id         TEXT PRIMARY KEY,
    auth_req_id         TEXT NOT NULL UNIQUE,
    client_id           TEXT NOT NULL,
    subject             TEXT NOT NULL,
    scopes              TEXT NOT NULL,          -- requested, space-separated
    binding_message     TEXT,
    acr_values          TEXT NOT NULL DEFAULT '',
    resource_indicators TEXT NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,       -- unix seconds
    expires_at          INTEGER NOT NULL,
    interval_secs       INTEGER NOT NULL,       -- raised on slow_down
    last_polled_at      INTEGER,
    outcome             TEXT CHECK (outcome IN ('approved', 'denied')),
    completed_at        INTEGER,
    granted_scopes      TEXT,
    description         TEXT,
    session_auth_time   INTEGER,
    redeemed_at         INTEGER
);
CREATE INDEX login_requests_pending ON login_requests (subject, expires_at) WHERE outcome IS NULL;

-- Issued access and refresh tokens, stored by SHA-256 so a database leak does not leak tokens.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

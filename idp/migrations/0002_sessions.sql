-- Sign-in sessions, so a restart does not sign everybody out. Keyed by the SHA-256 of the cookie's
-- session id, so a database leak does not leak usable cookies.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    data       TEXT NOT NULL,      -- JSON object of the session's values
    expires_at INTEGER NOT NULL    -- unix seconds
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

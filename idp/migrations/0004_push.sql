-- Web Push (issue 15). The VAPID key pair (RFC 8292), made once and kept, so the subscriptions that
-- browsers made against its public key keep working after a restart. The P-256 scalar, base64url.
CREATE TABLE vapid_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per browser subscription (PushSubscription.toJSON()). The endpoint is the push service's
-- capability URL and unique; a later subscribe with it replaces the row (also another user's).
-- session_hash: the sign-in that made it (as sessions.id_hash), so signing out removes this device's.
CREATE TABLE push_subscriptions (
    endpoint     TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    p256dh       TEXT NOT NULL,          -- base64url, 65 bytes: the browser's P-256 public key
    auth         TEXT NOT NULL,          -- base64url, 16 bytes
    session_hash TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_subject ON push_subscriptions (subject);
CREATE INDEX push_subscriptions_session ON push_subscriptions (session_hash);

-- Set once the "closed" push for a decided or expired request was queued, so a periodic sweep (which
-- survives restarts) sends it exactly once.
ALTER TABLE login_requests ADD COLUMN push_closed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX login_requests_push_open ON login_requests (expires_at) WHERE push_closed = 0;

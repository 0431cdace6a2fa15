-- Portable SQL: runs unchanged on PostgreSQL and SQLite (through sqlx's Any driver).
-- Times are Unix milliseconds (BIGINT); encrypted payloads are Fernet tokens (TEXT).
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE IF NOT EXISTS configs (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS request_log (
    id TEXT PRIMARY KEY,
    key_id TEXT,
    method TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status BIGINT NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL,
    request_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_log_created ON request_log (created_at);

CREATE TABLE IF NOT EXISTS match_history (
    id TEXT PRIMARY KEY,
    key_id TEXT,
    kind TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request_enc TEXT NOT NULL,
    result_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS match_history_hash ON match_history (request_hash);

CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    key_id TEXT,
    kind TEXT NOT NULL,
    payload_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Durable batch jobs (portable SQL, PostgreSQL and SQLite). A job is split into chunks;
-- a worker leases a chunk, and writes its results together with the chunk's completion
-- in one transaction. Payloads (chunk inputs, results) are Fernet tokens.
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    options TEXT NOT NULL,
    total_chunks BIGINT NOT NULL,
    done_chunks BIGINT NOT NULL DEFAULT 0,
    total_items BIGINT NOT NULL,
    done_items BIGINT NOT NULL DEFAULT 0,
    result_count BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX IF NOT EXISTS jobs_key_state ON jobs (key_id, state, created_at);

CREATE TABLE IF NOT EXISTS job_chunks (
    job_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    items BIGINT NOT NULL,
    input_enc TEXT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    available_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX IF NOT EXISTS job_chunks_claim ON job_chunks (state, available_at);

CREATE TABLE IF NOT EXISTS job_results (
    job_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    payload_enc TEXT NOT NULL,
    PRIMARY KEY (job_id, seq, idx)
);

-- How many labelled examples (a job's own and its tenant's stored feedback) decided pairs
-- of a dedup or link job (portable SQL, PostgreSQL and SQLite): the most one chunk used.
ALTER TABLE jobs ADD COLUMN labels_used BIGINT NOT NULL DEFAULT 0;

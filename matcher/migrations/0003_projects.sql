-- Named projects (portable SQL, PostgreSQL and SQLite): keys of one project share their
-- feedback examples (Example as Knowledge). NULL: the key is a tenant of its own.
ALTER TABLE api_keys ADD COLUMN project TEXT;
CREATE INDEX IF NOT EXISTS api_keys_project ON api_keys (project);

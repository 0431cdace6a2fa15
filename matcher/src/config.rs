//! Configuration: the `config.yaml` sections of the deployment guide (`app`, `llm`,
//! `cache`, `database`, `matching`, `monitoring`), their defaults, the environment
//! overrides, and validation. Unknown keys and bad values fail with the key's path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub app: AppConfig,
    pub llm: LlmConfig,
    pub cache: CacheConfig,
    pub database: DatabaseConfig,
    pub matching: MatchingConfig,
    pub monitoring: MonitoringConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    Development,
    Staging,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    pub name: String,
    pub env: AppEnv,
    pub host: String,
    pub port: u16,
    /// Tokio worker threads (0 = one per core).
    pub workers: usize,
    /// Request timeout in seconds.
    pub timeout: u64,
    /// Seconds a connection may take to send a request head: from accept for the first
    /// request, from its first byte for the next ones on a kept-alive connection.
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait, with no request in flight, for the first
    /// byte of its next request.
    pub idle_timeout_secs: u64,
    /// Connections served at once; past it, new connections wait in the listen backlog.
    pub max_connections: usize,
    /// Requests per minute per API key.
    pub rate_limit: u32,
    /// Failed authentications per minute per client address and per key id; past it,
    /// that address or key id gets 429 (no store lookup) until its bucket refills.
    pub auth_failure_limit: u32,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Header carrying the API key.
    pub api_key_header: String,
    /// Plain API keys accepted in addition to the stored ones (hashed in memory at start).
    pub valid_api_keys: Vec<String>,
    /// Secret from which the payload encryption key is derived.
    pub secret_key: Option<String>,
    /// Allowed CORS origins (`*` for any). Empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Run batch-job workers inside `serve`.
    pub inprocess_workers: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            name: "kcmf-matcher".into(),
            env: AppEnv::Development,
            host: "0.0.0.0".into(),
            port: 8000,
            workers: 0,
            timeout: 300,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 1024,
            rate_limit: 100,
            auth_failure_limit: 20,
            max_body_bytes: 10 * 1024 * 1024,
            api_key_header: "X-API-Key".into(),
            valid_api_keys: Vec::new(),
            secret_key: None,
            cors_origins: Vec::new(),
            inprocess_workers: true,
        }
    }
}

/// Which backbone answers (`llm.provider`): the embedded rules, an OpenAI-compatible API,
/// or a GGUF model in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackboneKind {
    Local,
    Openai,
    Gguf,
}

impl BackboneKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            BackboneKind::Local => "local",
            BackboneKind::Openai => "openai",
            BackboneKind::Gguf => "gguf",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub provider: BackboneKind,
    pub model: String,
    /// Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub temperature: f32,
    pub top_p: f32,
    pub max_tokens: u32,
    /// Per-call timeout, seconds.
    pub timeout: u64,
    pub retry_attempts: u32,
    /// Path of a GGUF model file (`provider: gguf`).
    pub model_path: Option<PathBuf>,
    /// Seconds an LLM response stays cached (0: responses are not cached).
    pub cache_ttl: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: BackboneKind::Local,
            model: "gpt-4o-mini".into(),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            temperature: 0.0,
            top_p: 1.0,
            max_tokens: 512,
            timeout: 60,
            retry_attempts: 3,
            model_path: None,
            cache_ttl: 86_400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub enabled: bool,
    /// `redis://…`; none → in-process cache.
    pub redis_url: Option<String>,
    pub schema_ttl: u64,
    pub entity_ttl: u64,
    /// Entries of the in-process cache.
    pub max_size: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            redis_url: None,
            schema_ttl: 3600,
            entity_ttl: 1800,
            max_size: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`; none → SQLite under the data dir.
    pub url: Option<String>,
    pub pool_size: u32,
    pub min_connections: u32,
    /// Seconds to wait for a connection.
    pub pool_timeout: u64,
    /// Directory for the embedded SQLite file.
    pub data_dir: PathBuf,
    /// How long `serve` waits for an unreachable database at start (seconds, retrying
    /// with backoff) before it gives up: a matcher started beside its PostgreSQL (a pod of
    /// one install) comes up once the database does instead of exiting and restarting.
    pub connect_wait_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            pool_size: 20,
            min_connections: 0,
            pool_timeout: 30,
            data_dir: PathBuf::from("./data"),
            connect_wait_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingConfig {
    pub schema_threshold: f64,
    pub entity_threshold: f64,
    pub batch_size: usize,
    pub max_parallel: usize,
    /// Largest entity set `POST /match/dedup` answers synchronously.
    pub dedup_sync_limit: usize,
    /// Largest number of pairs in one `match/entity` request.
    pub max_pairs: usize,
    /// Most columns per table in one `match/schema` request (the work grows with the
    /// product of the two tables' columns).
    pub max_columns: usize,
    /// Knowledge sources forming the ensemble: `dataset`, `examples`, `user`.
    pub ensemble: Vec<String>,
    /// Demonstrations per prompt (EaK).
    pub demonstrations: usize,
    /// Directory holding `sm.yaml` and `em.yaml`; none → built-in paper rules.
    pub rules_dir: Option<PathBuf>,
    /// Directory of a sentence-embedding model (BERT: `config.json`, `model.safetensors`,
    /// `tokenizer.json`, e.g. all-MiniLM-L6-v2) for schema matching; needs the
    /// `embeddings` cargo feature. None → no embeddings.
    pub embedding_model: Option<PathBuf>,
    /// Batch jobs: a worker's lease on a chunk, seconds (renewed by heartbeats).
    pub lease_secs: u64,
    /// Batch jobs: attempts per chunk before the job fails.
    pub max_attempts: u32,
    /// Batch jobs: pause after each chunk, milliseconds (caps one worker's load on a
    /// shared LLM endpoint; 0 = none).
    pub chunk_pause_ms: u64,
    /// Largest batch-job upload (JSON, CSV or NDJSON), bytes.
    pub max_upload_bytes: usize,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self {
            schema_threshold: 0.8,
            entity_threshold: 0.85,
            batch_size: 100,
            max_parallel: 10,
            dedup_sync_limit: 2000,
            max_pairs: 1000,
            max_columns: 500,
            ensemble: vec!["dataset".into(), "examples".into(), "user".into()],
            demonstrations: 3,
            rules_dir: None,
            embedding_model: None,
            lease_secs: 30,
            max_attempts: 5,
            chunk_pause_ms: 0,
            max_upload_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoringConfig {
    /// Extra port serving `/metrics` only; none → only on the main port.
    pub metrics_port: Option<u16>,
    pub log_level: String,
    /// `json` or `pretty`.
    pub log_format: String,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        Self {
            metrics_port: None,
            log_level: "info".into(),
            log_format: "json".into(),
        }
    }
}

impl Config {
    /// Loads the file (if any), applies the environment overrides, validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut cfg = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                Self::from_yaml(&text)?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses YAML; errors name the key path.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let de = serde_yaml_ng::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            invalid(
                if key == "." { "<root>" } else { &key },
                e.into_inner().to_string(),
            )
        })
    }

    /// Applies the guide's environment overrides through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ConfigError> {
            v.trim()
                .parse()
                .map_err(|_| invalid(key, format!("cannot parse {v:?}")))
        }
        if let Some(v) = get("OPENAI_API_KEY").filter(|v| !v.is_empty()) {
            self.llm.api_key = Some(v);
        }
        if let Some(v) = get("LLM_PROVIDER") {
            self.llm.provider = match v.to_lowercase().as_str() {
                "local" => BackboneKind::Local,
                "openai" => BackboneKind::Openai,
                "gguf" => BackboneKind::Gguf,
                _ => return Err(invalid("LLM_PROVIDER", "expected local, openai or gguf")),
            };
        }
        if let Some(v) = get("LLM_MODEL") {
            self.llm.model = v;
        }
        if let Some(v) = get("LLM_BASE_URL") {
            self.llm.base_url = v;
        }
        if let Some(v) = get("LLM_MODEL_PATH") {
            self.llm.model_path = Some(PathBuf::from(v));
        }
        if let Some(v) = get("EMBEDDING_MODEL").filter(|v| !v.is_empty()) {
            self.matching.embedding_model = Some(PathBuf::from(v));
        }
        if let Some(v) = get("DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database.url = Some(v);
        }
        if let Some(v) = get("KCMF_DATA_DIR") {
            self.database.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("REDIS_URL").filter(|v| !v.is_empty()) {
            self.cache.redis_url = Some(v);
        }
        if let Some(v) = get("APP_ENV") {
            self.app.env = match v.to_lowercase().as_str() {
                "development" | "dev" => AppEnv::Development,
                "staging" => AppEnv::Staging,
                "production" | "prod" => AppEnv::Production,
                _ => {
                    return Err(invalid(
                        "APP_ENV",
                        "expected development, staging or production",
                    ));
                }
            };
        }
        if let Some(v) = get("LOG_LEVEL") {
            self.monitoring.log_level = v.to_lowercase();
        }
        if let Some(v) = get("MAX_WORKERS") {
            self.matching.max_parallel = parse("MAX_WORKERS", &v)?;
        }
        if let Some(v) = get("SECRET_KEY").filter(|v| !v.is_empty()) {
            self.app.secret_key = Some(v);
        }
        if let Some(v) = get("API_KEY_HEADER").filter(|v| !v.is_empty()) {
            self.app.api_key_header = v;
        }
        if let Some(v) = get("VALID_API_KEYS") {
            self.app.valid_api_keys = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = get("KCMF_LEASE_SECS") {
            self.matching.lease_secs = parse("KCMF_LEASE_SECS", &v)?;
        }
        if let Some(v) = get("KCMF_CHUNK_PAUSE_MS") {
            self.matching.chunk_pause_ms = parse("KCMF_CHUNK_PAUSE_MS", &v)?;
        }
        if let Some(v) = get("BATCH_SIZE") {
            self.matching.batch_size = parse("BATCH_SIZE", &v)?;
        }
        if let Some(v) = get("KCMF_INPROCESS_WORKERS") {
            self.app.inprocess_workers = parse("KCMF_INPROCESS_WORKERS", &v)?;
        }
        if let Some(v) = get("RATE_LIMIT") {
            self.app.rate_limit = parse("RATE_LIMIT", &v)?;
        }
        if let Some(v) = get("AUTH_FAILURE_LIMIT") {
            self.app.auth_failure_limit = parse("AUTH_FAILURE_LIMIT", &v)?;
        }
        if let Some(v) = get("KCMF_HEADER_READ_TIMEOUT_SECS") {
            self.app.header_read_timeout_secs = parse("KCMF_HEADER_READ_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = get("KCMF_IDLE_TIMEOUT_SECS") {
            self.app.idle_timeout_secs = parse("KCMF_IDLE_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = get("KCMF_MAX_CONNECTIONS") {
            self.app.max_connections = parse("KCMF_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("PORT") {
            self.app.port = parse("PORT", &v)?;
        }
        if let Some(v) = get("METRICS_PORT") {
            self.monitoring.metrics_port = Some(parse("METRICS_PORT", &v)?);
        }
        Ok(())
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |key: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(invalid(key, format!("{v} is not in [0, 1]")))
            }
        };
        unit("matching.schema_threshold", self.matching.schema_threshold)?;
        unit("matching.entity_threshold", self.matching.entity_threshold)?;
        if self.app.auth_failure_limit == 0 {
            return Err(invalid("app.auth_failure_limit", "must be at least 1"));
        }
        if self.app.rate_limit == 0 {
            return Err(invalid("app.rate_limit", "must be at least 1"));
        }
        if self.app.timeout == 0 {
            return Err(invalid("app.timeout", "must be at least 1 second"));
        }
        if self.app.header_read_timeout_secs == 0 {
            return Err(invalid(
                "app.header_read_timeout_secs",
                "must be at least 1 second",
            ));
        }
        if self.app.idle_timeout_secs == 0 {
            return Err(invalid(
                "app.idle_timeout_secs",
                "must be at least 1 second",
            ));
        }
        if self.app.max_connections == 0 {
            return Err(invalid("app.max_connections", "must be at least 1"));
        }
        if self.matching.max_columns == 0 {
            return Err(invalid("matching.max_columns", "must be at least 1"));
        }
        if self.matching.batch_size == 0 {
            return Err(invalid("matching.batch_size", "must be at least 1"));
        }
        if self.matching.max_parallel == 0 {
            return Err(invalid("matching.max_parallel", "must be at least 1"));
        }
        if self.matching.lease_secs < 2 {
            return Err(invalid("matching.lease_secs", "must be at least 2"));
        }
        if self.matching.max_attempts == 0 {
            return Err(invalid("matching.max_attempts", "must be at least 1"));
        }
        if self.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        if self.app.api_key_header.trim().is_empty()
            || axum::http::HeaderName::from_bytes(self.app.api_key_header.as_bytes()).is_err()
        {
            return Err(invalid(
                "app.api_key_header",
                "not a valid HTTP header name",
            ));
        }
        if !matches!(self.monitoring.log_format.as_str(), "json" | "pretty") {
            return Err(invalid("monitoring.log_format", "expected json or pretty"));
        }
        if let Some(url) = &self.database.url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            return Err(invalid(
                "database.url",
                "expected postgres://… , postgresql://… or sqlite:…",
            ));
        }
        if let Some(url) = &self.cache.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid(
                "cache.redis_url",
                "expected redis://… or rediss://…",
            ));
        }
        for s in &self.matching.ensemble {
            match s.as_str() {
                "dataset" | "examples" | "user" => {}
                "external" => {
                    return Err(invalid(
                        "matching.ensemble",
                        "`external` is not available: no external knowledge provider is built \
                         in, so it would add nothing to the vote (use dataset, examples, user)",
                    ));
                }
                _ => {
                    return Err(invalid(
                        "matching.ensemble",
                        format!("unknown knowledge source {s:?} (dataset, examples, user)"),
                    ));
                }
            }
        }
        if self.llm.provider == BackboneKind::Gguf && self.llm.model_path.is_none() {
            return Err(invalid(
                "llm.model_path",
                "required when llm.provider is gguf",
            ));
        }
        if self.app.env == AppEnv::Production {
            if self.app.secret_key.is_none() {
                return Err(invalid(
                    "SECRET_KEY",
                    "required when APP_ENV=production (app.secret_key)",
                ));
            }
            if self.app.valid_api_keys.is_empty() {
                return Err(invalid(
                    "VALID_API_KEYS",
                    "at least one API key is required when APP_ENV=production",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_yaml_is_defaults() {
        let c = Config::from_yaml("").unwrap();
        assert_eq!(c.app.port, 8000);
        assert_eq!(c.cache.schema_ttl, 3600);
        assert_eq!(c.cache.entity_ttl, 1800);
        assert_eq!(c.app.api_key_header, "X-API-Key");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_yaml("app:\n  portt: 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("app.portt") || err.contains("portt"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = Config::from_yaml("app:\n  port: banana\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("app.port"), "{err}");
    }

    #[test]
    fn threshold_out_of_range_rejected() {
        let c = Config::from_yaml("matching:\n  entity_threshold: 1.5\n").unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("matching.entity_threshold"), "{err}");
    }

    #[test]
    fn env_overrides_apply() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "DATABASE_URL" => Some("postgres://u@h/db".into()),
            "VALID_API_KEYS" => Some("a, b,,c".into()),
            "API_KEY_HEADER" => Some("X-Key".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.database.url.as_deref(), Some("postgres://u@h/db"));
        assert_eq!(c.app.valid_api_keys, vec!["a", "b", "c"]);
        assert_eq!(c.app.api_key_header, "X-Key");
    }

    #[test]
    fn production_needs_secret_and_key() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "APP_ENV").then(|| "production".into()))
            .unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("SECRET_KEY"));
        c.app.secret_key = Some("s".into());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("VALID_API_KEYS")
        );
        c.app.valid_api_keys = vec!["k".into()];
        c.validate().unwrap();
    }

    /// No external knowledge provider exists: `external` would contribute nothing, so it
    /// is refused, naming the key.
    #[test]
    fn external_knowledge_is_refused() {
        let c = Config::from_yaml("matching:\n  ensemble: [dataset, external]\n").unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("matching.ensemble") && err.contains("external"),
            "{err}"
        );
        let c = Config::from_yaml("matching:\n  ensemble: [dataset, examples, user]\n").unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn the_shipped_config_file_holds_the_connection_defaults() {
        let c = Config::from_yaml(include_str!("../../config/config.yaml")).unwrap();
        c.validate().unwrap();
        let d = Config::default();
        assert_eq!(
            (
                c.app.header_read_timeout_secs,
                c.app.idle_timeout_secs,
                c.app.max_connections
            ),
            (
                d.app.header_read_timeout_secs,
                d.app.idle_timeout_secs,
                d.app.max_connections
            )
        );
    }

    #[test]
    fn connection_limits_from_env_and_checked() {
        let c = Config::default();
        assert_eq!(
            (
                c.app.header_read_timeout_secs,
                c.app.idle_timeout_secs,
                c.app.max_connections
            ),
            (10, 60, 1024)
        );
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "KCMF_HEADER_READ_TIMEOUT_SECS" => Some("2".into()),
            "KCMF_IDLE_TIMEOUT_SECS" => Some("5".into()),
            "KCMF_MAX_CONNECTIONS" => Some("3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (
                c.app.header_read_timeout_secs,
                c.app.idle_timeout_secs,
                c.app.max_connections
            ),
            (2, 5, 3)
        );
        c.app.max_connections = 0;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("app.max_connections"), "{err}");
        let c = Config::from_yaml("app:\n  idle_timeout_secs: 0\n").unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("app.idle_timeout_secs"), "{err}");
    }

    #[test]
    fn bad_env_number_named() {
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "MAX_WORKERS").then(|| "many".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("MAX_WORKERS"), "{err}");
    }
}

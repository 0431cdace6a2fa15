//! The `KcmfDeployment` custom resource (`kcmf.io/v1alpha1`).
//!
//! Field descriptions in the generated CRD come from the doc comments here, so
//! `kubectl explain kcmf.spec` reads them. Rules the OpenAPI schema cannot state
//! (managed xor external, min ≤ max, cron syntax) are CEL rules enforced by the API
//! server; `crate::validate` checks the same things (and more precisely, e.g. cron
//! ranges) before anything is built.

use k8s_openapi::api::core::v1::{EnvVar, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default matcher image (the operator's `--matcher-image` overrides it).
pub const DEFAULT_MATCHER_IMAGE: &str = "ghcr.io/kcmf/kcmf-matcher:0.1.0";
/// Default Redis image for managed Redis (the operator's `--redis-image` overrides it).
pub const DEFAULT_REDIS_IMAGE: &str = "docker.io/library/redis:7.4-alpine";
/// Default PostgreSQL image for managed PostgreSQL (the operator's `--postgres-image`
/// overrides it).
pub const DEFAULT_POSTGRES_IMAGE: &str = "docker.io/library/postgres:17-alpine";

/// Regex (RE2 and Rust `regex` compatible) for a 5-field cron expression or an `@` descriptor,
/// as accepted by the Kubernetes CronJob controller.
pub const CRON_PATTERN: &str = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|((\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*)(\s+(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*){4})$";

/// Desired state of one KcMF installation: the matcher API, its Redis cache, its PostgreSQL
/// database and the backup schedule.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.restore) || has(self.backup)").message("spec.restore needs spec.backup: the restore Job reads the set from the backup volume"))]
#[kube(
    group = "kcmf.io",
    version = "v1alpha1",
    kind = "KcmfDeployment",
    plural = "kcmfdeployments",
    singular = "kcmfdeployment",
    shortname = "kcmf",
    category = "kcmf",
    namespaced,
    status = "KcmfDeploymentStatus",
    derive = "PartialEq",
    doc = "A KcMF installation: matcher API Deployment, managed or external Redis and PostgreSQL, and scheduled backups.",
    validation = Rule::new("size(self.metadata.name) <= 40").message("metadata.name must be at most 40 characters (child object names append suffixes such as -postgres-data)"),
    scale(
        spec_replicas_path = ".spec.matcher.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status", description = "Whether every component is ready"),
    printcolumn(name = "Replicas", type_ = "string", json_path = ".status.replicasSummary", description = "Ready / desired matcher replicas"),
    printcolumn(name = "Last Backup", type_ = "date", json_path = ".status.lastBackup.time", description = "Start of the most recent backup run"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct KcmfDeploymentSpec {
    /// The matcher API server (Deployment + Service).
    #[serde(default)]
    pub matcher: MatcherSpec,

    /// Redis used as the matcher's cache. Omitted: a managed Redis with defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisSpec>,

    /// PostgreSQL used as the matcher's database. Omitted: a managed PostgreSQL with defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresSpec>,

    /// Scheduled backups (a CronJob running `kcmf-matcher backup run`). Omitted: no backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSpec>,

    /// Stop reconciling: while true the operator changes no child object (status still shows `Paused`).
    #[serde(default)]
    pub paused: bool,

    /// Monitoring integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,

    /// Declarative restore of a backup set. Setting `set`, or later changing `set` or `id`
    /// (also back to an earlier value), starts exactly one restore Job, `<name>-restore-<hash>`,
    /// which runs `kcmf-matcher restore --from SET --yes` in the matcher image with the backup
    /// volume, once managed PostgreSQL and Redis are ready. Leaving the request unchanged never
    /// restores again (not even when the Job is deleted); to restore the same set once more,
    /// change `id`. A new request made while a restore Job still runs starts when that one finished.
    /// One attempt per request: a failed restore is reported, and retried by changing `id`.
    /// The outcome is in `status.lastRestore`; after a successful restore the matcher pods
    /// are restarted. The restore replaces the store and the cache: the matcher answers
    /// 503 while it runs and takes a `-pre-restore` safety set first (see docs/backup-runbook.md).
    /// Needs `spec.backup` (the sets live on its volume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreSpec>,
}

/// The matcher API server.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatcherSpec {
    /// Container image of `kcmf-matcher`. Omitted: the operator's default
    /// (ghcr.io/kcmf/kcmf-matcher:0.1.0 unless the operator runs with `--matcher-image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,

    /// Image pull policy (Always, IfNotPresent, Never). Omitted: Kubernetes' default for the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,

    /// Desired number of matcher pods. This is the `/scale` subresource, so `kubectl scale` and
    /// HorizontalPodAutoscalers change it.
    #[serde(default = "default_replicas")]
    #[x_kube(validation = Rule::new("self >= 0").message("replicas must not be negative"))]
    pub replicas: i32,

    /// Compute resources of the matcher container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Horizontal autoscaling on CPU. When set, the operator creates a HorizontalPodAutoscaler
    /// that scales this KcmfDeployment through its `/scale` subresource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,

    /// LLM backbone settings.
    #[serde(default)]
    pub llm: LlmSpec,

    /// Overrides of the matcher's `config.yaml` (rate limit, thresholds, cache TTLs, ...).
    #[serde(default)]
    pub config: MatcherConfigSpec,

    /// Secret key holding the comma-separated client API keys (`VALID_API_KEYS`).
    /// Omitted: one key is generated once into the `<name>-generated` Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_keys_secret_ref: Option<SecretKeyRef>,

    /// Secret key holding `SECRET_KEY` (payload encryption).
    /// Omitted: generated once into the `<name>-generated` Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_secret_ref: Option<SecretKeyRef>,

    /// Extra environment variables for the matcher container (appended after the operator's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

impl Default for MatcherSpec {
    fn default() -> Self {
        Self {
            image: None,
            image_pull_policy: None,
            replicas: default_replicas(),
            resources: None,
            autoscaling: None,
            llm: LlmSpec::default(),
            config: MatcherConfigSpec::default(),
            api_keys_secret_ref: None,
            secret_key_secret_ref: None,
            env: Vec::new(),
        }
    }
}

/// Image pull policy.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// Always pull.
    Always,
    /// Pull if absent on the node.
    IfNotPresent,
    /// Never pull.
    Never,
}

impl PullPolicy {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// CPU-based horizontal autoscaling of the matcher.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas").message("autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"))]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingSpec {
    /// Lower bound of matcher replicas.
    #[x_kube(validation = Rule::new("self >= 1").message("minReplicas must be at least 1"))]
    pub min_replicas: i32,
    /// Upper bound of matcher replicas.
    #[x_kube(validation = Rule::new("self >= 1").message("maxReplicas must be at least 1"))]
    pub max_replicas: i32,
    /// Target average CPU utilisation in percent of the requested CPU (default 80).
    #[serde(default = "default_cpu_target")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 100").message("targetCPUUtilizationPercentage must be between 1 and 100"))]
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: i32,
}

/// LLM backbone used by the matcher.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LlmSpec {
    /// Backbone kind: `local` (built-in rules, no LLM), `openai` (an OpenAI-compatible API) or `gguf`.
    #[serde(default)]
    pub provider: LlmProvider,
    /// Model name (e.g. `gpt-4o-mini`). Omitted: the matcher's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Base URL of an OpenAI-compatible API (e.g. `https://api.openai.com/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Secret key holding the LLM API key (`OPENAI_API_KEY`). The operator never generates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_ref: Option<SecretKeyRef>,
}

/// LLM backbone kind.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// Built-in rules, no LLM calls.
    #[default]
    Local,
    /// An OpenAI-compatible HTTP API.
    Openai,
    /// A local GGUF model file.
    Gguf,
}

impl LlmProvider {
    /// The spelling in the matcher's config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Openai => "openai",
            Self::Gguf => "gguf",
        }
    }
}

/// Deployment environment of the matcher (`app.env`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Development.
    Development,
    /// Staging.
    Staging,
    /// Production.
    #[default]
    Production,
}

impl AppEnv {
    /// The spelling in the matcher's config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

/// Overrides of the matcher's `config.yaml`. Omitted fields keep the matcher's defaults.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MatcherConfigSpec {
    /// `app.env`: development, staging or production (default production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<AppEnv>,
    /// `app.rate_limit`: requests per minute per API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1").message("rateLimit must be at least 1"))]
    pub rate_limit: Option<u32>,
    /// `app.workers`: Tokio worker threads (0 = one per core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// `app.timeout`: request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// `app.api_key_header`: header carrying the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_header: Option<String>,
    /// `app.cors_origins`: allowed CORS origins (`*` for any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors_origins: Vec<String>,
    /// `matching.schema_threshold` in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0.0 && self <= 1.0").message("schemaThreshold must be between 0 and 1"))]
    pub schema_threshold: Option<f64>,
    /// `matching.entity_threshold` in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0.0 && self <= 1.0").message("entityThreshold must be between 0 and 1"))]
    pub entity_threshold: Option<f64>,
    /// `cache.enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_enabled: Option<bool>,
    /// `cache.schema_ttl` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_cache_ttl_seconds: Option<u64>,
    /// `cache.entity_ttl` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_cache_ttl_seconds: Option<u64>,
    /// `monitoring.log_level` (trace, debug, info, warn, error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LogLevel>,
}

/// Log level of the matcher.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// trace
    Trace,
    /// debug
    Debug,
    /// info
    Info,
    /// warn
    Warn,
    /// error
    Error,
}

impl LogLevel {
    /// The spelling in the matcher's config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// A key of a Secret in the KcmfDeployment's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key inside the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Redis: exactly one of `managed` or `external`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.managed) != has(self.external)").message("exactly one of redis.managed or redis.external must be set"))]
pub struct RedisSpec {
    /// A Redis run by the operator (StatefulSet + Service + PVC, password, AOF persistence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedDatastore>,
    /// An existing Redis; its `redis://` URL is read from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatastore>,
}

/// PostgreSQL: exactly one of `managed` or `external`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.managed) != has(self.external)").message("exactly one of postgres.managed or postgres.external must be set"))]
pub struct PostgresSpec {
    /// A PostgreSQL run by the operator (StatefulSet + Service + PVC, readiness via `pg_isready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedDatastore>,
    /// An existing PostgreSQL; its `postgres://` URL is read from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatastore>,
}

/// A datastore run by the operator.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ManagedDatastore {
    /// Container image. Omitted: the operator's default (redis:7.4-alpine / postgres:17-alpine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Size of the data volume (default 1Gi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"))]
    pub storage_size: Option<String>,
    /// StorageClass of the data volume. Omitted: the cluster default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Compute resources of the datastore container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Secret key holding the password. Omitted: generated once into `<name>-generated`.
    /// Must be URL-safe: it is composed into `REDIS_URL` / `DATABASE_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<SecretKeyRef>,
}

/// A datastore not run by the operator.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatastore {
    /// Secret key holding the full connection URL (`redis://:pass@host:6379/0`, `postgres://user:pass@host:5432/db`).
    pub url_secret_ref: SecretKeyRef,
}

/// Scheduled backups.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Cron schedule in the CronJob syntax: five fields (minute hour day-of-month month
    /// day-of-week) or a descriptor such as `@daily`.
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new(format!("self.matches('{}')", CRON_PATTERN.replace('\\', "\\\\"))).message("schedule must be a cron expression with five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily"))]
    pub schedule: String,
    /// Days a backup is kept (default 30).
    #[serde(default = "default_retention_days")]
    #[x_kube(validation = Rule::new("self >= 1").message("retentionDays must be at least 1"))]
    pub retention_days: i32,
    /// Size of the backup volume (default 5Gi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"))]
    pub storage_size: Option<String>,
    /// StorageClass of the backup volume. Omitted: the cluster default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Suspend the CronJob (no new backup runs).
    #[serde(default)]
    pub suspend: bool,
    /// Run the restore drill (`backup run --verify`) after each backup: the run fails unless
    /// the new set restores into a scratch database and matches its manifest (default false).
    #[serde(default)]
    pub verify: bool,
}

/// Regex (RE2 and Rust `regex` compatible) of `spec.restore.set`: `latest` or a set id as the
/// matcher names them, `<UTC start time>Z` with optional suffixes (`-pre-restore`, `-2`).
pub const RESTORE_SET_PATTERN: &str = r"^(latest|[0-9]{8}T[0-9]{6}Z(-[a-z0-9]+)*)$";

/// Regex of `spec.restore.id`: a DNS label.
pub const RESTORE_ID_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// A restore request, the pair (`set`, `id`): each change of it starts one restore Job.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSpec {
    /// Backup set to restore: a set id as `kcmf-matcher backup list` shows it (e.g.
    /// `20261128T030000Z`, or `20261128T101502Z-pre-restore` to roll back an earlier restore), or
    /// `latest` for the newest complete set at the time the Job runs.
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new(format!("self.matches('{}')", RESTORE_SET_PATTERN)).message("set must be latest or a backup set id such as 20261128T030000Z or 20261128T101502Z-pre-restore"))]
    pub set: String,
    /// Request id (a DNS label, e.g. a date or a ticket number). Change it to restore the same
    /// set again, or to retry a failed restore. Omitted: the set alone names the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    #[x_kube(validation = Rule::new(format!("self.matches('{}')", RESTORE_ID_PATTERN)).message("id must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit"))]
    pub id: Option<String>,
}

/// Monitoring integration.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// Create a Prometheus-operator ServiceMonitor for the matcher's metrics port. Only done
    /// where the `servicemonitors.monitoring.coreos.com` CRD exists.
    #[serde(default)]
    pub service_monitor: bool,
    /// Create a Prometheus-operator PrometheusRule with the matcher's alerts (5xx rate, no
    /// target up, maintenance mode left on, slow match requests, job queue growing, LLM
    /// errors). Its expressions select the scrape job the ServiceMonitor creates (the matcher
    /// Service's name). Only done where the `prometheusrules.monitoring.coreos.com` CRD exists.
    #[serde(default)]
    pub prometheus_rule: bool,
}

/// Observed state, written by the operator.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct KcmfDeploymentStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `MatcherReady`, `RedisReady`, `PostgresReady`, `BackupScheduled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Matcher pods (all versions).
    #[serde(default)]
    pub replicas: i32,
    /// Matcher pods passing readiness.
    #[serde(default)]
    pub ready_replicas: i32,
    /// `ready/desired`, for the printer column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_summary: Option<String>,
    /// Label selector of the matcher pods (for the `/scale` subresource and HPAs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// In-cluster URL of the matcher Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Outcome of the most recent backup run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<LastBackup>,
    /// The newest backup set a restore drill verified (from the termination messages of the
    /// backup Jobs: `backup run --verify` or `backup verify`). Absent until one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_verified: Option<LastVerified>,
    /// Outcome of the most recent restore requested by `spec.restore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restore: Option<LastRestore>,
}

/// The most recent backup run.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LastBackup {
    /// When the run was scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// `Succeeded`, `Failed` or `Running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Last successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_time: Option<Time>,
    /// The Job of that run (absent when only the CronJob's status was available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The backup set the run wrote, from its pod's termination message. Absent when the run
    /// left none (still running, failed before writing a set, or a cluster that runs no
    /// containers): the operator never guesses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Whether the run's restore drill verified the set (`spec.backup.verify`), from the
    /// termination message; absent when the run had no drill or left no message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// The run's error, or why `set` is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The newest verified backup set.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LastVerified {
    /// Set id.
    pub set: String,
    /// When the restore drill passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// The Job that ran the drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// The most recent restore requested by `spec.restore`.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LastRestore {
    /// The requested set (`spec.restore.set`).
    pub set: String,
    /// The request id (`spec.restore.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The restore Job.
    pub job: String,
    /// `Pending` (the Job waits for PostgreSQL and Redis to be ready), `Running`, `Succeeded`,
    /// `Failed`, or `Unknown` (the Job disappeared before it finished).
    pub result: String,
    /// When the Job started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// When the Job finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// The set actually restored (the resolved id when `set` is `latest`), from the Job's
    /// termination message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_set: Option<String>,
    /// The roll-back point taken just before restoring, from the termination message: request
    /// it as `spec.restore.set` to undo the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_set: Option<String>,
    /// The error, what the restore waits for, or why fields are unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn default_replicas() -> i32 {
    1
}
fn default_cpu_target() -> i32 {
    80
}
fn default_retention_days() -> i32 {
    30
}

impl KcmfDeploymentSpec {
    /// Redis setting with the default applied (managed with defaults).
    pub fn redis_or_default(&self) -> RedisSpec {
        self.redis.clone().unwrap_or(RedisSpec {
            managed: Some(ManagedDatastore::default()),
            external: None,
        })
    }
    /// PostgreSQL setting with the default applied (managed with defaults).
    pub fn postgres_or_default(&self) -> PostgresSpec {
        self.postgres.clone().unwrap_or(PostgresSpec {
            managed: Some(ManagedDatastore::default()),
            external: None,
        })
    }
}

/// The CRD as YAML, exactly what `kcmf-operator crd` prints and `crds/` holds.
pub fn crd_yaml() -> Result<String, serde_yaml_ng::Error> {
    use kube::CustomResourceExt;
    let crd = KcmfDeployment::crd();
    serde_yaml_ng::to_string(&crd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    const COMMITTED: &[&str] = &[
        "../crds/kcmfdeployments.kcmf.io.yaml",
        "../charts/kcmf-operator/crds/kcmfdeployments.kcmf.io.yaml",
    ];

    /// The backup Job runs `pg_dump` from the matcher image, and pg_dump refuses a server of a
    /// newer major version: the client the matcher image installs (hack/images/packages.env,
    /// which matcher/Dockerfile follows) must be the default PostgreSQL image's major.
    #[test]
    fn matcher_image_pg_dump_matches_the_default_postgres_major() {
        let packages =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hack/images/packages.env");
        let text = std::fs::read_to_string(&packages).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("KCMF_PACKAGES_MATCHER="))
            .expect("KCMF_PACKAGES_MATCHER in packages.env");
        let client = line
            .split(|c: char| c.is_whitespace() || c == '"' || c == '=')
            .find_map(|w| w.strip_prefix("postgresql-client-"))
            .expect("a versioned postgresql-client in the matcher image");
        let tag = DEFAULT_POSTGRES_IMAGE.rsplit_once(':').unwrap().1;
        let server = tag.split(['-', '.']).next().unwrap();
        assert_eq!(
            client, server,
            "matcher image pg_dump {client} vs default server {DEFAULT_POSTGRES_IMAGE}"
        );
    }

    /// `kcmf-operator crd` output must equal the committed CRD files.
    /// Regenerate with `KCMF_UPDATE_CRDS=1 cargo test -p kcmf-operator crd_matches`.
    #[test]
    fn crd_matches_committed_yaml() {
        let want = crd_yaml().unwrap();
        for rel in COMMITTED {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
            if std::env::var_os("KCMF_UPDATE_CRDS").is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (regenerate with KCMF_UPDATE_CRDS=1)",
                    path.display()
                )
            });
            assert!(
                have == want,
                "{} differs from `kcmf-operator crd`; regenerate with KCMF_UPDATE_CRDS=1 cargo test -p kcmf-operator crd_matches",
                path.display()
            );
        }
    }

    #[test]
    fn crd_has_scale_status_printer_columns_and_cel() {
        let crd = KcmfDeployment::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("kcmfdeployments.kcmf.io")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["kcmf".to_string()]));
        assert_eq!(crd.spec.scope, "Namespaced");
        let ver = &crd.spec.versions[0];
        let sub = ver.subresources.as_ref().unwrap();
        assert!(sub.status.is_some());
        let scale = sub.scale.as_ref().unwrap();
        assert_eq!(scale.spec_replicas_path, ".spec.matcher.replicas");
        assert_eq!(scale.status_replicas_path, ".status.replicas");
        assert_eq!(
            scale.label_selector_path.as_deref(),
            Some(".status.selector")
        );
        let cols: Vec<&str> = ver
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(cols, vec!["Ready", "Replicas", "Last Backup", "Age"]);
        let yaml = crd_yaml().unwrap();
        for rule in [
            "has(self.managed) != has(self.external)",
            "self.minReplicas <= self.maxReplicas",
            "self.matches(",
            "size(self.metadata.name) <= 40",
        ] {
            assert!(yaml.contains(rule), "missing CEL rule {rule}");
        }
        // Descriptions come from doc comments.
        assert!(yaml.contains("Desired number of matcher pods"));
    }

    #[test]
    fn spec_defaults_round_trip() {
        let spec: KcmfDeploymentSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec.matcher.replicas, 1);
        assert_eq!(spec.matcher.image, None);
        assert!(!spec.paused);
        let back = serde_json::to_value(&spec).unwrap();
        // No nulls: they would break server-side apply defaults.
        assert!(!back.to_string().contains("null"), "{back}");
        let b: BackupSpec = serde_json::from_str(r#"{"schedule":"@daily"}"#).unwrap();
        assert_eq!(b.retention_days, 30);
    }
}

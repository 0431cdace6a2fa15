//! `kcmf-operator`: reconciles `KcmfDeployment` resources into running KcMF installations.
//!
//! Reconcile = gather → validate → build → apply → status. Only `gather`, `apply` and
//! `status` talk to the API server (see [`controller`]); [`build`] is pure functions from the
//! validated spec to the desired child objects.

pub mod build;
pub mod controller;
pub mod crd;
pub mod metrics;
pub mod status;
pub mod validate;

use std::time::Duration;

/// Field manager used for every server-side apply (children and status).
pub const FIELD_MANAGER: &str = "kcmf-operator";

/// Errors of one reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid; reconciling waits for a spec change.
    #[error("invalid spec: {field}: {message}")]
    InvalidSpec {
        /// JSON path of the offending field, e.g. `spec.backup.schedule`.
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// A Secret the spec references is missing or lacks the key.
    #[error("secret {name}: {message}")]
    MissingSecret {
        /// Secret name.
        name: String,
        /// What is missing.
        message: String,
    },

    /// A Kubernetes API call failed.
    #[error("{action} {kind} {name}: {source}")]
    Kube {
        /// What was attempted (get, apply, delete, ...).
        action: &'static str,
        /// Kind of the object.
        kind: &'static str,
        /// Name of the object.
        name: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },

    /// An object could not be serialized.
    #[error("serialize {what}: {source}")]
    Serialize {
        /// What was serialized.
        what: &'static str,
        /// The serializer error.
        #[source]
        source: serde_json::Error,
    },

    /// The config YAML could not be rendered.
    #[error("render config.yaml: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),

    /// The object lacks a namespace or name (never happens for namespaced objects from the API).
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// Short, stable label used in metrics and event reasons.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::InvalidSpec { .. } => "InvalidSpec",
            Error::MissingSecret { .. } => "MissingSecret",
            Error::Kube { .. } => "KubeApi",
            Error::Serialize { .. } => "Serialize",
            Error::Yaml(_) => "Yaml",
            Error::MissingMetadata(_) => "MissingMetadata",
        }
    }

    /// Requeue delay for this error given the number of consecutive failures.
    pub fn backoff(failures: u32) -> Duration {
        let secs = 2u64.saturating_pow(failures.min(8)).min(300);
        Duration::from_secs(secs.max(1))
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! `kcmf-operator`: reconciles `KcmfDeployment` resources into running KcMF installations.
//!
//! Reconcile = validate → gather → build → apply → observe → restore → prune → status. Only `gather`, `apply` and
//! `status` talk to the API server (see [`controller`]); [`build`] is pure functions from the
//! validated spec to the desired child objects.

pub mod build;
pub mod controller;
pub mod crd;
pub mod metrics;
pub mod status;
pub mod validate;

/// Selects rustls' `ring` provider for the process. kube's client asks rustls for the
/// process default, and rustls picks one only when exactly one provider is compiled in: built
/// with the whole workspace (the matcher's dependencies enable `aws-lc-rs` too) there are
/// two, and the first API call would panic. Call before the first client; later calls are
/// no-ops.
pub fn install_crypto_provider() {
    // Err means a provider is installed already: that one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

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

    /// A reconcile step failed: the message names the step, the label stays the cause's.
    #[error("{step}: {source}")]
    Step {
        /// The step that failed.
        step: Step,
        /// What went wrong in it.
        #[source]
        source: Box<Error>,
    },
}

/// The steps of one reconcile (see [`controller`]), named in its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Checking the spec and resolving its defaults.
    Validate,
    /// Reading Secrets and API discovery.
    Gather,
    /// Building the desired children.
    Build,
    /// Applying them.
    Apply,
    /// Reading workloads, Jobs and pods.
    Observe,
    /// Following or starting a restore Job.
    Restore,
    /// Deleting children the spec no longer wants.
    Prune,
    /// Writing the status.
    Status,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Validate => "validate",
            Step::Gather => "gather",
            Step::Build => "build",
            Step::Apply => "apply",
            Step::Observe => "observe",
            Step::Restore => "restore",
            Step::Prune => "prune",
            Step::Status => "status",
        })
    }
}

/// Names the step an error came from (`.step(Step::Apply)?`).
pub trait StepContext<T> {
    /// Wrap the error in [`Error::Step`].
    fn step(self, step: Step) -> Result<T>;
}

impl<T> StepContext<T> for Result<T> {
    fn step(self, step: Step) -> Result<T> {
        self.map_err(|e| Error::Step {
            step,
            source: Box::new(e),
        })
    }
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
            Error::Step { source, .. } => source.metric_label(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_errors_name_the_step_and_keep_the_cause_label() {
        let failed: Result<()> = Err(Error::MissingSecret {
            name: "llm".into(),
            message: "has no key \"token\"".into(),
        });
        let e = failed.step(Step::Gather).unwrap_err();
        assert_eq!(e.to_string(), "gather: secret llm: has no key \"token\"");
        assert_eq!(e.metric_label(), "MissingSecret");
        assert!(std::error::Error::source(&e).is_some());
    }
}

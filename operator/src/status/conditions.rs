//! Conditions: one per component (matcher, Redis, PostgreSQL, backup) and `Ready` over them,
//! each keeping its transition time while its status does not change.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::types;
use crate::crd::KcmfDeploymentStatus;
use crate::validate::{Datastore, Validated};

/// A condition before timestamps are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// Type.
    pub type_: &'static str,
    /// True / False / Unknown.
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Cond {
    pub(super) fn new(
        type_: &'static str,
        ok: bool,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status: if ok { "True" } else { "False" },
            reason: reason.into(),
            message: message.into(),
        }
    }
}

pub(super) fn matcher_cond(v: &Validated, d: Option<&Deployment>) -> (Cond, i32, i32) {
    let desired = v.matcher.replicas;
    let Some(d) = d else {
        return (
            Cond::new(
                types::MATCHER,
                false,
                "Missing",
                "matcher Deployment not found",
            ),
            0,
            0,
        );
    };
    let st = d.status.clone().unwrap_or_default();
    let replicas = st.replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0);
    let cond = if observed < generation {
        Cond::new(
            types::MATCHER,
            false,
            "Progressing",
            "Deployment controller has not observed the latest spec yet",
        )
    } else if desired == 0 {
        Cond::new(
            types::MATCHER,
            true,
            "ScaledToZero",
            "spec.matcher.replicas is 0",
        )
    } else if updated < desired || replicas > updated {
        Cond::new(
            types::MATCHER,
            false,
            "RollingOut",
            format!("{updated} of {desired} pods updated, {replicas} pods in total"),
        )
    } else if ready < desired {
        Cond::new(
            types::MATCHER,
            false,
            "PodsNotReady",
            format!("{ready} of {desired} pods ready"),
        )
    } else {
        Cond::new(
            types::MATCHER,
            true,
            "DeploymentReady",
            format!("{ready} of {desired} pods ready"),
        )
    };
    (cond, replicas, ready)
}

pub(super) fn datastore_cond(
    type_: &'static str,
    what: &str,
    ds: &Datastore,
    s: Option<&StatefulSet>,
) -> Cond {
    if let Datastore::External(_) = ds {
        return Cond::new(type_, true, "External", format!("using an external {what}"));
    }
    let Some(s) = s else {
        return Cond::new(
            type_,
            false,
            "Missing",
            format!("{what} StatefulSet not found"),
        );
    };
    let st = s.status.clone().unwrap_or_default();
    let ready = st.ready_replicas.unwrap_or(0);
    let gen_ok = st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
    let rev_ok = st.update_revision.is_none() || st.current_revision == st.update_revision;
    if ready >= 1 && gen_ok && rev_ok {
        Cond::new(type_, true, "StatefulSetReady", format!("{what} is ready"))
    } else {
        Cond::new(
            type_,
            false,
            "PodNotReady",
            format!("{what} pod is not ready yet"),
        )
    }
}

pub(super) fn backup_cond(v: &Validated, c: Option<&CronJob>) -> Cond {
    match (&v.backup, c) {
        (None, _) => Cond::new(
            types::BACKUP,
            false,
            "NotConfigured",
            "spec.backup is not set",
        ),
        (Some(_), None) => Cond::new(types::BACKUP, false, "Missing", "backup CronJob not found"),
        (Some(b), Some(_)) if b.suspend => Cond::new(
            types::BACKUP,
            false,
            "Suspended",
            "spec.backup.suspend is true",
        ),
        (Some(b), Some(_)) => Cond::new(
            types::BACKUP,
            true,
            "Scheduled",
            format!("backups run on schedule {:?}", b.schedule),
        ),
    }
}

/// Attach timestamps and observed generation, keeping `lastTransitionTime` of conditions whose
/// status did not change.
pub fn finish_conditions(
    conds: Vec<Cond>,
    previous: &[Condition],
    generation: i64,
    now: &Time,
) -> Vec<Condition> {
    conds
        .into_iter()
        .map(|c| {
            let last = previous
                .iter()
                .find(|p| p.type_ == c.type_ && p.status == c.status)
                .map(|p| p.last_transition_time.clone())
                .unwrap_or_else(|| now.clone());
            Condition {
                type_: c.type_.into(),
                status: c.status.into(),
                reason: c.reason,
                message: c.message,
                observed_generation: Some(generation),
                last_transition_time: last,
            }
        })
        .collect()
}

pub(super) fn replace_condition(
    st: &mut KcmfDeploymentStatus,
    c: Cond,
    generation: i64,
    now: &Time,
) {
    let done = finish_conditions(vec![c], &st.conditions, generation, now);
    for new in done {
        match st.conditions.iter_mut().find(|p| p.type_ == new.type_) {
            Some(slot) => *slot = new,
            None => st.conditions.insert(0, new),
        }
    }
}

//! Helpers of the build tests: a validated spec from JSON, seeded secret inputs, lookups.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec};

use crate::build::*;
use crate::crd::{KcmfDeployment, KcmfDeploymentSpec};
use crate::validate::Validated;
use crate::validate::validate;
use rand::SeedableRng;
use rand::rngs::StdRng;

pub(crate) fn v(json: serde_json::Value) -> Validated {
    let spec: KcmfDeploymentSpec = serde_json::from_value(json).unwrap();
    let mut o = KcmfDeployment::new("demo", spec);
    o.metadata.namespace = Some("ns".into());
    o.metadata.uid = Some("uid-1".into());
    o.metadata.generation = Some(1);
    validate(&o).unwrap()
}

pub(crate) fn inputs(v: &Validated) -> BuildInputs {
    let generated = fill_generated(
        &BTreeMap::new(),
        &required_generated_keys(v),
        &mut StdRng::seed_from_u64(7),
    );
    BuildInputs {
        secrets: SecretInputs {
            generated,
            referenced: BTreeMap::new(),
        },
        service_monitor_available: false,
        prometheus_rule_available: false,
        restored_by: None,
    }
}

pub(crate) fn desired(json: serde_json::Value) -> (Validated, Desired) {
    let v = v(json);
    let d = build(&v, &inputs(&v)).unwrap();
    (v, d)
}

pub(crate) fn find<'a>(d: &'a Desired, kind: ChildKind, name: &str) -> Option<&'a Child> {
    d.apply
        .iter()
        .find(|c| c.kind() == kind && c.name() == name)
}

pub(crate) fn deployment(d: &Desired) -> &Deployment {
    match find(d, ChildKind::Deployment, "demo-matcher") {
        Some(Child::Deployment(x)) => x,
        _ => panic!("no matcher deployment"),
    }
}

pub(crate) fn find_statefulset<'a>(d: &'a Desired, name: &str) -> Option<&'a StatefulSet> {
    match find(d, ChildKind::StatefulSet, name) {
        Some(Child::StatefulSet(x)) => Some(x),
        _ => None,
    }
}

pub(crate) fn env_of(c: &Container) -> BTreeMap<String, EnvVar> {
    c.env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.clone()))
        .collect()
}

pub(crate) fn cronjob_pod(d: &Desired) -> PodSpec {
    match find(d, ChildKind::CronJob, "demo-backup") {
        Some(Child::CronJob(c)) => c
            .spec
            .clone()
            .unwrap()
            .job_template
            .spec
            .unwrap()
            .template
            .spec
            .unwrap(),
        _ => panic!("no backup CronJob"),
    }
}

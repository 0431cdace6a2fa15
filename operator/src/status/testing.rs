//! Helpers of the build tests: a validated spec from JSON, seeded secret inputs, lookups.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::build::{self, RestoreRequest};
use crate::crd::*;
use crate::crd::{KcmfDeploymentStatus, LastRestore};
use crate::validate::Validated;
use crate::validate::validate;
use k8s_openapi::api::apps::v1::{DeploymentStatus, StatefulSetStatus};

pub(crate) fn v(json: serde_json::Value) -> Validated {
    let spec: KcmfDeploymentSpec = serde_json::from_value(json).unwrap();
    let mut o = KcmfDeployment::new("demo", spec);
    o.metadata.namespace = Some("ns".into());
    o.metadata.uid = Some("u".into());
    o.metadata.generation = Some(2);
    validate(&o).unwrap()
}

pub(crate) fn t(s: i64) -> Time {
    Time(Timestamp::from_second(s).unwrap())
}

pub(crate) fn deploy(g: i64, replicas: i32, ready: i32, updated: i32) -> Deployment {
    let mut d = Deployment::default();
    d.metadata.generation = Some(g);
    d.status = Some(DeploymentStatus {
        observed_generation: Some(g),
        replicas: Some(replicas),
        ready_replicas: Some(ready),
        updated_replicas: Some(updated),
        ..Default::default()
    });
    d
}

pub(crate) fn sts(ready: i32) -> StatefulSet {
    let mut s = StatefulSet::default();
    s.metadata.generation = Some(1);
    s.status = Some(StatefulSetStatus {
        observed_generation: Some(1),
        ready_replicas: Some(ready),
        replicas: 1,
        ..Default::default()
    });
    s
}

pub(crate) fn cond<'a>(st: &'a KcmfDeploymentStatus, ty: &str) -> &'a Condition {
    st.conditions.iter().find(|c| c.type_ == ty).unwrap()
}

use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateTerminated, ContainerStatus, PodSpec, PodStatus,
    PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;

/// A Job named `name` (uid `name`-uid) started at `start`; `cond` Complete/Failed.
pub(crate) fn job(name: &str, start: i64, cond: Option<&str>, args: Option<&[&str]>) -> Job {
    let mut j = Job::default();
    j.metadata.name = Some(name.into());
    j.metadata.uid = Some(format!("{name}-uid"));
    j.metadata.creation_timestamp = Some(t(start));
    j.spec = args.map(|a| JobSpec {
        template: PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "backup".into(),
                    args: Some(a.iter().map(|s| s.to_string()).collect()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        },
        ..Default::default()
    });
    j.status = Some(JobStatus {
        start_time: Some(t(start)),
        completion_time: (cond == Some("Complete")).then(|| t(start + 10)),
        conditions: cond.map(|c| {
            vec![JobCondition {
                type_: c.into(),
                status: "True".into(),
                reason: (c == "Failed").then(|| "BackoffLimitExceeded".to_string()),
                message: (c == "Failed")
                    .then(|| "Job has reached the specified backoff limit".to_string()),
                last_transition_time: Some(t(start + 10)),
                ..Default::default()
            }]
        }),
        ..Default::default()
    });
    j
}

/// A finished pod of `job` whose container left `message` (owner reference or labels).
pub(crate) fn pod(job: &Job, message: Option<&str>, finished: i64, by_owner: bool) -> Pod {
    let name = job.metadata.name.clone().unwrap();
    let mut p = Pod::default();
    p.metadata.name = Some(format!("{name}-abcde"));
    if by_owner {
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: name.clone(),
            uid: job.metadata.uid.clone().unwrap(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
    } else {
        p.metadata.labels = Some(BTreeMap::from([("job-name".to_string(), name)]));
    }
    p.status = Some(PodStatus {
        phase: Some("Succeeded".into()),
        container_statuses: Some(vec![ContainerStatus {
            name: "backup".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 0,
                    finished_at: Some(t(finished)),
                    message: message.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    p
}

pub(crate) fn request(set: &str, id: Option<&str>) -> RestoreRequest {
    RestoreRequest {
        set: set.into(),
        id: id.map(str::to_string),
        job: build::names::restore_job("demo", set, id, None),
    }
}

pub(crate) fn lr(req: &RestoreRequest, result: &str) -> LastRestore {
    LastRestore {
        set: req.set.clone(),
        id: req.id.clone(),
        job: req.job.clone(),
        result: result.into(),
        ..Default::default()
    }
}

pub(crate) fn restore_job_of(req: &RestoreRequest, cond: Option<&str>, owner_uid: &str) -> Job {
    let mut j = job(
        &req.job,
        100,
        cond,
        Some(&["restore", "--from", &req.set, "--yes"]),
    );
    j.metadata.annotations = Some(BTreeMap::from([(
        build::RESTORE_SET_ANNOTATION.to_string(),
        req.set.clone(),
    )]));
    j.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "kcmf.io/v1alpha1".into(),
        kind: "KcmfDeployment".into(),
        name: "demo".into(),
        uid: owner_uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    j
}

/// A termination message of a successful, verified backup run.
pub(crate) const BACKUP_OK: &str = r#"{"kind":"backup","result":"Succeeded","set":"20261128T030000Z","startedAt":"2026-11-28T03:00:00.123456789Z","finishedAt":"2026-11-28T03:01:30.987Z","verified":true,"deleted":[]}"#;

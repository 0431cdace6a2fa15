//! Backups and restores: the backup CronJob, and the restore request of `spec.restore`
//! with the one Job that carries it out.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::meta::{labels, meta};
use super::names;
use super::pod::{
    config_volume, datastore_env, default_resources, empty_dir, mount, pod_security, pvc_volume,
    restricted_container_security, value_env,
};
use super::{CONFIG_HASH_ANNOTATION, RESTORE_ID_ANNOTATION, RESTORE_SET_ANNOTATION};
use crate::crd::LastRestore;
use crate::validate::{Backup, Validated};

/// Pod of a backup-volume Job (backup CronJob, restore Job): `kcmf-matcher ARGS --config ...`
/// in the matcher image, datastore URLs, the backups PVC at `/backups`, the restricted security
/// context. `extra_env` comes after the common variables.
fn backup_volume_pod(
    v: &Validated,
    component: &str,
    args: &[&str],
    extra_env: Vec<EnvVar>,
    restart_policy: &str,
    annotations: Option<BTreeMap<String, String>>,
) -> PodTemplateSpec {
    let mut env = super::matcher::key_env(v);
    env.extend(datastore_env(v));
    env.push(value_env("KCMF_BACKUP_DIR", "/backups"));
    env.extend(extra_env);
    env.push(value_env("KCMF_DATA_DIR", "/data"));
    let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    argv.extend(["--config".to_string(), "/etc/kcmf/config.yaml".into()]);
    let container = Container {
        name: component.into(),
        image: Some(v.matcher_image.clone()),
        image_pull_policy: v.matcher.image_pull_policy.map(|p| p.as_str().to_string()),
        command: Some(vec!["kcmf-matcher".into()]),
        args: Some(argv),
        env: Some(env),
        resources: Some(default_resources("50m", "128Mi", "512Mi")),
        security_context: Some(restricted_container_security()),
        // The matcher writes a one-line JSON result to /dev/termination-log; when it dies
        // before that (e.g. a configuration error), the log tail is the message instead.
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        volume_mounts: Some(vec![
            mount("backups", "/backups", false),
            mount("config", "/etc/kcmf", true),
            mount("data", "/data", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(v, component)),
            annotations,
            ..Default::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some(restart_policy.into()),
            automount_service_account_token: Some(false),
            security_context: Some(pod_security(10001, 10001)),
            containers: vec![container],
            volumes: Some(vec![
                pvc_volume("backups", names::backups_pvc(&v.name)),
                config_volume(v),
                empty_dir("data"),
                empty_dir("tmp"),
            ]),
            ..Default::default()
        }),
    }
}

/// The backup CronJob: `kcmf-matcher backup run` in the matcher image with the backups PVC
/// at `/backups`. Its job's contents are the matcher's; here it exists with the schedule,
/// suspend flag and volume.
pub fn backup_cronjob(v: &Validated, b: &Backup, config_hash: &str) -> CronJob {
    let mut env = vec![value_env(
        "KCMF_BACKUP_RETENTION_DAYS",
        b.retention_days.to_string(),
    )];
    if b.verify {
        env.push(value_env("KCMF_BACKUP_VERIFY", "true"));
    }
    let template = backup_volume_pod(
        v,
        "backup",
        &["backup", "run"],
        env,
        "OnFailure",
        Some(BTreeMap::from([(
            CONFIG_HASH_ANNOTATION.to_string(),
            config_hash.to_string(),
        )])),
    );
    CronJob {
        metadata: meta(v, names::backup(&v.name), "backup"),
        spec: Some(CronJobSpec {
            schedule: b.schedule.clone(),
            suspend: Some(b.suspend),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(v, "backup")),
                    ..Default::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template,
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One restore request of `spec.restore`, with the name of its Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    /// Requested set.
    pub set: String,
    /// Request id.
    pub id: Option<String>,
    /// Name of the Job of this request ([`names::restore_job`]).
    pub job: String,
}

/// The restore request of the spec, if any, given the previous `status.lastRestore`.
///
/// The request is the pair (`set`, `id`). The request the previous status describes keeps its
/// Job name (started, or still waiting to start). A new request is named after the restore
/// Job before it: changing back to an earlier set or id is a new request with a new Job,
/// while every reconcile that reads the same previous status (also one that runs before the
/// watch delivered the operator's own last status write) computes the same name, so it finds
/// the Job already created instead of starting a second one.
pub fn restore_request(v: &Validated, prev: Option<&LastRestore>) -> Option<RestoreRequest> {
    let r = v.restore.as_ref()?;
    let job = match prev {
        Some(p) if p.set == r.set && p.id == r.id => p.job.clone(),
        Some(p) => names::restore_job(&v.name, &r.set, r.id.as_deref(), Some(&p.job)),
        None => names::restore_job(&v.name, &r.set, r.id.as_deref(), None),
    };
    Some(RestoreRequest {
        set: r.set.clone(),
        id: r.id.clone(),
        job,
    })
}

/// The restore Job of one request: `kcmf-matcher restore --from SET --yes` with the same
/// image, volumes, environment and security context as the backup CronJob's jobs. One
/// attempt (`backoffLimit: 0`, `restartPolicy: Never`): a failed restore is reported, and
/// retried only when the request changes. The Job is created once and never re-applied (its
/// pod template is immutable), so nothing in it may depend on state that changes later.
pub fn restore_job(v: &Validated, req: &RestoreRequest) -> Job {
    let mut annotations = BTreeMap::from([(RESTORE_SET_ANNOTATION.to_string(), req.set.clone())]);
    if let Some(id) = &req.id {
        annotations.insert(RESTORE_ID_ANNOTATION.to_string(), id.clone());
    }
    let mut metadata = meta(v, req.job.clone(), "restore");
    metadata.annotations = Some(annotations);
    Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            template: backup_volume_pod(
                v,
                "restore",
                &["restore", "--from", &req.set, "--yes"],
                Vec::new(),
                "Never",
                None,
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::*;
    use crate::build::*;

    use serde_json::json;

    use crate::crd::LastRestore;

    #[test]
    fn backup_cronjob_has_schedule_suspend_and_volume() {
        let (_, d) = desired(
            json!({"backup": {"schedule": "0 3 * * *", "suspend": true, "retentionDays": 7}}),
        );
        let cj = match find(&d, ChildKind::CronJob, "demo-backup") {
            Some(Child::CronJob(c)) => c,
            _ => panic!(),
        };
        let s = cj.spec.as_ref().unwrap();
        assert_eq!(s.schedule, "0 3 * * *");
        assert_eq!(s.suspend, Some(true));
        let pod = s
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        assert!(pod.volumes.iter().flatten().any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|p| p.claim_name == "demo-backups")
        }));
        let c = &pod.containers[0];
        assert_eq!(
            c.args.as_ref().unwrap()[..2],
            ["backup".to_string(), "run".into()]
        );
        let env = env_of(c);
        assert_eq!(env["KCMF_BACKUP_DIR"].value.as_deref(), Some("/backups"));
        assert_eq!(
            env["KCMF_BACKUP_RETENTION_DAYS"].value.as_deref(),
            Some("7")
        );
        assert!(env.contains_key("DATABASE_URL") && env.contains_key("REDIS_URL"));
        // The matcher's payload key and API keys, as the matcher pods get them (a real run
        // failed without: the matcher checks both at start in production).
        for k in ["SECRET_KEY", "VALID_API_KEYS"] {
            let r = env[k].value_from.as_ref().unwrap();
            assert_eq!(r.secret_key_ref.as_ref().unwrap().key, k);
        }
        assert!(!env.contains_key("KCMF_BACKUP_VERIFY"));
        let labels = s
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels["app.kubernetes.io/component"], "backup");
        assert!(find(&d, ChildKind::PersistentVolumeClaim, "demo-backups").is_some());
    }

    #[test]
    fn backup_verify_sets_env() {
        let (_, d) = desired(json!({"backup": {"schedule": "@daily", "verify": true}}));
        let cj = match find(&d, ChildKind::CronJob, "demo-backup") {
            Some(Child::CronJob(c)) => c,
            _ => panic!(),
        };
        let pod = cj
            .spec
            .as_ref()
            .unwrap()
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        let env = env_of(&pod.containers[0]);
        assert_eq!(env["KCMF_BACKUP_VERIFY"].value.as_deref(), Some("true"));
    }

    #[test]
    fn restore_job_runs_restore_with_the_backup_pod_setup() {
        let (v, d) = desired(json!({
            "backup": {"schedule": "@daily", "retentionDays": 7, "verify": true},
            "restore": {"set": "20261128T030000Z", "id": "retry-1"}
        }));
        // The restore Job is not a child applied on every reconcile: it is created once.
        assert!(d.apply.iter().all(|c| !c.name().contains("restore")));
        let req = restore_request(&v, None).unwrap();
        assert_eq!(req.set, "20261128T030000Z");
        assert_eq!(req.id.as_deref(), Some("retry-1"));
        assert_eq!(
            req.job,
            names::restore_job("demo", "20261128T030000Z", Some("retry-1"), None)
        );
        let job = restore_job(&v, &req);
        let m = &job.metadata;
        assert_eq!(m.name.as_deref(), Some(req.job.as_str()));
        assert_eq!(m.namespace.as_deref(), Some("ns"));
        let owner = &m.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.uid.as_str(), owner.controller),
            ("uid-1", Some(true))
        );
        assert_eq!(
            m.labels.as_ref().unwrap()["app.kubernetes.io/component"],
            "restore"
        );
        let ann = m.annotations.as_ref().unwrap();
        assert_eq!(ann[RESTORE_SET_ANNOTATION], "20261128T030000Z");
        assert_eq!(ann[RESTORE_ID_ANNOTATION], "retry-1");
        let spec = job.spec.as_ref().unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(
            spec.template
                .metadata
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()["app.kubernetes.io/component"],
            "restore"
        );
        let c = &pod.containers[0];
        assert_eq!(c.name, "restore");
        assert_eq!(c.command, Some(vec!["kcmf-matcher".to_string()]));
        assert_eq!(
            c.args.clone().unwrap(),
            [
                "restore",
                "--from",
                "20261128T030000Z",
                "--yes",
                "--config",
                "/etc/kcmf/config.yaml"
            ]
        );
        assert_eq!(
            c.termination_message_policy.as_deref(),
            Some("FallbackToLogsOnError")
        );
        // Same volumes, mounts, security context and datastore environment as the backup
        // CronJob's pods; no retention or drill settings.
        let backup = cronjob_pod(&d);
        let bc = &backup.containers[0];
        assert_eq!(pod.volumes, backup.volumes);
        assert_eq!(pod.security_context, backup.security_context);
        assert_eq!(
            pod.automount_service_account_token,
            backup.automount_service_account_token
        );
        assert_eq!(c.volume_mounts, bc.volume_mounts);
        assert_eq!(c.security_context, bc.security_context);
        assert_eq!(c.image, bc.image);
        let (renv, benv) = (env_of(c), env_of(bc));
        for k in [
            "DATABASE_URL",
            "REDIS_URL",
            "POSTGRES_PASSWORD",
            "REDIS_PASSWORD",
            "KCMF_BACKUP_DIR",
            "KCMF_DATA_DIR",
        ] {
            assert_eq!(renv.get(k), benv.get(k), "{k}");
        }
        assert!(!renv.contains_key("KCMF_BACKUP_RETENTION_DAYS"));
        assert!(!renv.contains_key("KCMF_BACKUP_VERIFY"));
        // $(VAR) composition only works when the variable is defined earlier.
        let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("POSTGRES_PASSWORD") < pos("DATABASE_URL"));
        // Deterministic: same request, same Job.
        assert_eq!(
            serde_json::to_value(&job).unwrap(),
            serde_json::to_value(restore_job(&v, &req)).unwrap()
        );
    }

    #[test]
    fn restore_job_names_follow_the_request() {
        let set = "20261128T030000Z";
        let a = names::restore_job("demo", set, None, None);
        assert!(a.starts_with("demo-restore-") && a.len() == "demo-restore-".len() + 10);
        assert_eq!(a, names::restore_job("demo", set, None, None));
        assert_ne!(a, names::restore_job("demo", set, Some("2"), None));
        assert_ne!(
            a,
            names::restore_job("demo", "20261129T030000Z", None, None)
        );
        assert_ne!(a, names::restore_job("demo", set, None, Some("x")));
        // No ambiguity between the parts.
        assert_ne!(
            names::restore_job("demo", "a", Some("b"), None),
            names::restore_job("demo", "a", None, Some("b"))
        );
        let longest = names::restore_job(&"x".repeat(40), "latest", None, Some(&a));
        assert!(longest.len() <= 63, "{longest}");

        let (none, _) = desired(json!({"backup": {"schedule": "@daily"}}));
        assert_eq!(restore_request(&none, None), None);
        let (v, _) = desired(json!({"backup": {"schedule": "@daily"}, "restore": {"set": set}}));
        let first = restore_request(&v, None).unwrap();
        assert_eq!(first.job, a);
        let seen = |req: &RestoreRequest, result: &str| LastRestore {
            set: req.set.clone(),
            id: req.id.clone(),
            job: req.job.clone(),
            result: result.into(),
            ..Default::default()
        };
        // The request of the previous status keeps its Job, whatever became of it.
        for result in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
            assert_eq!(
                restore_request(&v, Some(&seen(&first, result))),
                Some(first.clone()),
                "{result}"
            );
        }
        // Another request, then back to the first set: a new Job each time.
        let (v2, _) = desired(
            json!({"backup": {"schedule": "@daily"}, "restore": {"set": set, "id": "again"}}),
        );
        let second = restore_request(&v2, Some(&seen(&first, "Succeeded"))).unwrap();
        assert_eq!(
            second.job,
            names::restore_job("demo", set, Some("again"), Some(&a))
        );
        let back = restore_request(&v, Some(&seen(&second, "Succeeded"))).unwrap();
        assert_eq!((back.set.as_str(), back.id.as_deref()), (set, None));
        assert_ne!(back.job, first.job);
        assert_ne!(back.job, second.job);
        // Deterministic for the same previous status (a re-reconcile finds the same Job).
        assert_eq!(
            restore_request(&v, Some(&seen(&second, "Succeeded"))),
            Some(back)
        );
    }

    #[test]
    fn a_successful_restore_rolls_the_matcher_once() {
        let v = v(json!({}));
        let mut i = inputs(&v);
        let plain = build(&v, &i).unwrap();
        let ann = |d: &Desired| {
            deployment(d)
                .spec
                .as_ref()
                .unwrap()
                .template
                .metadata
                .as_ref()
                .unwrap()
                .annotations
                .clone()
                .unwrap()
        };
        assert!(!ann(&plain).contains_key(RESTORED_ANNOTATION));
        i.restored_by = Some("demo-restore-0123456789".into());
        let restored = build(&v, &i).unwrap();
        assert_eq!(
            ann(&restored)[RESTORED_ANNOTATION],
            "demo-restore-0123456789"
        );
        assert_eq!(plain.config_hash, restored.config_hash);
        assert_ne!(
            fingerprint(&plain.apply).unwrap(),
            fingerprint(&restored.apply).unwrap()
        );
    }
}

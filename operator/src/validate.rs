//! Validate: from a `KcmfDeployment` as stored to a [`Validated`] spec with defaults applied,
//! or an [`Error::InvalidSpec`] naming the bad field. No API calls.
//!
//! The API server already enforces the CEL rules of the CRD; these checks repeat them (a CRD
//! installed from an older version, or objects stored before a rule existed, may bypass them)
//! and add what CEL cannot say precisely (cron field ranges).

use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::crd::{
    AutoscalingSpec, BackupSpec, DEFAULT_MATCHER_IMAGE, DEFAULT_POSTGRES_IMAGE,
    DEFAULT_REDIS_IMAGE, ExternalDatastore, KcmfDeployment, ManagedDatastore, MatcherSpec,
    RestoreSpec, SecretKeyRef,
};
use crate::{Error, Result};
use kube::ResourceExt;

/// Longest accepted `metadata.name` (children append suffixes such as `-postgres-data`).
pub const MAX_NAME_LEN: usize = 40;

/// Default size of a managed datastore's data volume.
pub const DEFAULT_DATA_SIZE: &str = "1Gi";
/// Default size of the backup volume.
pub const DEFAULT_BACKUP_SIZE: &str = "5Gi";

/// The images a spec that names none gets: the operator's configuration (`--matcher-image`,
/// `--redis-image`, `--postgres-image`), by default the crate's constants. Like
/// CloudNativePG's default instance image, this lets a platform team pin or mirror the images
/// once for every `KcmfDeployment` instead of in each object.
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultImages {
    /// `kcmf-matcher` (matcher pods, backup and restore Jobs).
    pub matcher: String,
    /// Managed Redis.
    pub redis: String,
    /// Managed PostgreSQL.
    pub postgres: String,
}

impl Default for DefaultImages {
    fn default() -> Self {
        Self {
            matcher: DEFAULT_MATCHER_IMAGE.to_string(),
            redis: DEFAULT_REDIS_IMAGE.to_string(),
            postgres: DEFAULT_POSTGRES_IMAGE.to_string(),
        }
    }
}

/// Managed or external datastore, after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Datastore {
    /// Run by the operator.
    Managed(Managed),
    /// Provided by the user.
    External(ExternalDatastore),
}

/// A managed datastore with its defaults resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Managed {
    /// Container image (the spec's, else the operator's default for the kind).
    pub image: String,
    /// Size of the data volume.
    pub storage_size: String,
    /// StorageClass of the data volume (`None`: the cluster default).
    pub storage_class_name: Option<String>,
    /// Compute resources of the datastore container (`None`: the builder's defaults).
    pub resources: Option<ResourceRequirements>,
    /// Secret key holding the password (`None`: generated into `<name>-generated`).
    pub password_secret_ref: Option<SecretKeyRef>,
}

impl Managed {
    fn resolve(m: ManagedDatastore, default_image: &str) -> Self {
        Self {
            image: m.image.unwrap_or_else(|| default_image.to_string()),
            storage_size: m
                .storage_size
                .unwrap_or_else(|| DEFAULT_DATA_SIZE.to_string()),
            storage_class_name: m.storage_class_name,
            resources: m.resources,
            password_secret_ref: m.password_secret_ref,
        }
    }
}

/// Scheduled backups with their defaults resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Backup {
    /// Cron schedule (validated).
    pub schedule: String,
    /// Days a backup is kept.
    pub retention_days: i32,
    /// Size of the backup volume.
    pub storage_size: String,
    /// StorageClass of the backup volume (`None`: the cluster default).
    pub storage_class_name: Option<String>,
    /// The CronJob is suspended.
    pub suspend: bool,
    /// Each run verifies its set by a restore drill.
    pub verify: bool,
}

impl From<BackupSpec> for Backup {
    fn from(b: BackupSpec) -> Self {
        Self {
            schedule: b.schedule,
            retention_days: b.retention_days,
            storage_size: b
                .storage_size
                .unwrap_or_else(|| DEFAULT_BACKUP_SIZE.to_string()),
            storage_class_name: b.storage_class_name,
            suspend: b.suspend,
            verify: b.verify,
        }
    }
}

impl Datastore {
    /// The managed settings, if managed.
    pub fn managed(&self) -> Option<&Managed> {
        match self {
            Datastore::Managed(m) => Some(m),
            Datastore::External(_) => None,
        }
    }
}

/// A spec that passed validation, with every default resolved: the whole input of
/// [`crate::build`] (which never reads the stored spec).
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    /// Object name.
    pub name: String,
    /// Object namespace.
    pub namespace: String,
    /// Object UID (for owner references).
    pub uid: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// `spec.paused`: no child object is changed.
    pub paused: bool,
    /// The matcher settings.
    pub matcher: MatcherSpec,
    /// The matcher image: the spec's, else the operator's default.
    pub matcher_image: String,
    /// Redis after defaulting.
    pub redis: Datastore,
    /// PostgreSQL after defaulting.
    pub postgres: Datastore,
    /// Scheduled backups (`None`: no backups).
    pub backup: Option<Backup>,
    /// The restore request (only with `backup`).
    pub restore: Option<RestoreSpec>,
    /// `spec.monitoring.serviceMonitor`: a ServiceMonitor is wanted.
    pub service_monitor: bool,
    /// `spec.monitoring.prometheusRule`: a PrometheusRule with the matcher's alerts is wanted.
    pub prometheus_rule: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidSpec {
        field: field.to_string(),
        message: message.into(),
    }
}

/// Validate one object with the built-in default images.
pub fn validate(obj: &KcmfDeployment) -> Result<Validated> {
    validate_with(obj, &DefaultImages::default())
}

/// Validate one object; a spec that names no image gets `images`.
pub fn validate_with(obj: &KcmfDeployment, images: &DefaultImages) -> Result<Validated> {
    let name = obj.name_any();
    let namespace = obj.namespace().ok_or(Error::MissingMetadata("namespace"))?;
    let uid = obj.uid().ok_or(Error::MissingMetadata("uid"))?;
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(
            "metadata.name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let spec = &obj.spec;
    let matcher_image = match &spec.matcher.image {
        Some(i) if i.trim().is_empty() => {
            return Err(invalid("spec.matcher.image", "must not be empty"));
        }
        Some(i) => i.clone(),
        None => images.matcher.clone(),
    };
    if spec.matcher.replicas < 0 {
        return Err(invalid("spec.matcher.replicas", "must not be negative"));
    }
    if let Some(a) = &spec.matcher.autoscaling {
        validate_autoscaling(a)?;
    }
    let cfg = &spec.matcher.config;
    for (field, v) in [
        ("spec.matcher.config.schemaThreshold", cfg.schema_threshold),
        ("spec.matcher.config.entityThreshold", cfg.entity_threshold),
    ] {
        if let Some(v) = v
            && !(0.0..=1.0).contains(&v)
        {
            return Err(invalid(field, "must be between 0 and 1"));
        }
    }
    if cfg.rate_limit == Some(0) {
        return Err(invalid(
            "spec.matcher.config.rateLimit",
            "must be at least 1",
        ));
    }
    let redis = spec.redis_or_default();
    let redis = datastore("spec.redis", redis.managed, redis.external, &images.redis)?;
    let postgres = spec.postgres_or_default();
    let postgres = datastore(
        "spec.postgres",
        postgres.managed,
        postgres.external,
        &images.postgres,
    )?;
    if let Some(b) = &spec.backup {
        validate_backup(b)?;
    }
    if let Some(r) = &spec.restore {
        if spec.backup.is_none() {
            return Err(invalid(
                "spec.restore",
                "needs spec.backup: the restore Job reads the set from the backup volume",
            ));
        }
        validate_restore(r)?;
    }
    Ok(Validated {
        name,
        namespace,
        uid,
        generation: obj.metadata.generation.unwrap_or_default(),
        paused: spec.paused,
        matcher: spec.matcher.clone(),
        matcher_image,
        redis,
        postgres,
        backup: spec.backup.clone().map(Backup::from),
        restore: spec.restore.clone(),
        service_monitor: spec.monitoring.as_ref().is_some_and(|m| m.service_monitor),
        prometheus_rule: spec.monitoring.as_ref().is_some_and(|m| m.prometheus_rule),
    })
}

fn validate_autoscaling(a: &AutoscalingSpec) -> Result<()> {
    if a.min_replicas < 1 {
        return Err(invalid(
            "spec.matcher.autoscaling.minReplicas",
            "must be at least 1",
        ));
    }
    if a.min_replicas > a.max_replicas {
        return Err(invalid(
            "spec.matcher.autoscaling",
            format!(
                "minReplicas ({}) must be less than or equal to maxReplicas ({})",
                a.min_replicas, a.max_replicas
            ),
        ));
    }
    if !(1..=100).contains(&a.target_cpu_utilization_percentage) {
        return Err(invalid(
            "spec.matcher.autoscaling.targetCPUUtilizationPercentage",
            "must be between 1 and 100",
        ));
    }
    Ok(())
}

fn datastore(
    field: &str,
    managed: Option<ManagedDatastore>,
    external: Option<ExternalDatastore>,
    default_image: &str,
) -> Result<Datastore> {
    match (managed, external) {
        (Some(m), None) => Ok(Datastore::Managed(Managed::resolve(m, default_image))),
        (None, Some(e)) => Ok(Datastore::External(e)),
        _ => Err(invalid(
            field,
            "exactly one of managed or external must be set",
        )),
    }
}

fn validate_backup(b: &BackupSpec) -> Result<()> {
    if b.retention_days < 1 {
        return Err(invalid("spec.backup.retentionDays", "must be at least 1"));
    }
    validate_cron(&b.schedule).map_err(|m| invalid("spec.backup.schedule", m))
}

fn validate_restore(r: &RestoreSpec) -> Result<()> {
    validate_set_id(&r.set).map_err(|m| invalid("spec.restore.set", m))?;
    if let Some(id) = &r.id {
        validate_dns_label(id).map_err(|m| invalid("spec.restore.id", m))?;
    }
    Ok(())
}

/// Check a backup set reference the way the matcher names sets: `latest`, or
/// `YYYYMMDDTHHMMSSZ` (a real UTC time) followed by optional `-suffix` parts of lower-case
/// letters and digits (`-pre-restore`, `-2`).
pub fn validate_set_id(set: &str) -> std::result::Result<(), String> {
    if set == "latest" {
        return Ok(());
    }
    let shape =
        "must be latest or a set id such as 20261128T030000Z or 20261128T101502Z-pre-restore";
    let (Some(stamp), Some(rest)) = (set.get(..15), set.get(15..)) else {
        return Err(format!("{set:?} {shape}"));
    };
    let Some(suffix) = rest.strip_prefix('Z') else {
        return Err(format!("{set:?} {shape}"));
    };
    if !stamp.bytes().enumerate().all(|(i, b)| {
        if i == 8 {
            b == b'T'
        } else {
            b.is_ascii_digit()
        }
    }) {
        return Err(format!("{set:?} {shape}"));
    }
    if let Err(e) = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S") {
        return Err(format!(
            "{set:?} does not start with a valid UTC time ({e})"
        ));
    }
    if !suffix.is_empty() {
        let parts = suffix.strip_prefix('-').map(|s| s.split('-'));
        let ok = parts.is_some_and(|mut p| {
            p.all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
        });
        if !ok {
            return Err(format!("{set:?} {shape}"));
        }
    }
    if set.len() > 64 {
        return Err(format!("{set:?} is longer than 64 characters"));
    }
    Ok(())
}

/// A DNS label (RFC 1123): 1–63 lower-case letters, digits and `-`, alphanumeric at both ends.
pub fn validate_dns_label(s: &str) -> std::result::Result<(), String> {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|&c| alnum(c) || c == b'-')
        && alnum(b[0])
        && alnum(b[b.len() - 1]);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} must be a DNS label: 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Check a schedule the way the CronJob controller (robfig/cron, standard parser) reads it:
/// five fields or a descriptor.
pub fn validate_cron(schedule: &str) -> std::result::Result<(), String> {
    let s = schedule.trim();
    if let Some(d) = s.strip_prefix('@') {
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!("unknown descriptor @{d}")),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), got {}",
            fields.len()
        ));
    }
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day-of-month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day-of-week", 0, 7, &DAYS),
    ];
    for (field, (what, min, max, names)) in fields.iter().zip(specs) {
        cron_field(field, min, max, names).map_err(|e| format!("{what} field {field:?}: {e}"))?;
    }
    Ok(())
}

fn cron_field(field: &str, min: u32, max: u32, names: &[&str]) -> std::result::Result<(), String> {
    let value = |v: &str| -> std::result::Result<u32, String> {
        if let Ok(n) = v.parse::<u32>() {
            if (min..=max).contains(&n) {
                return Ok(n);
            }
            return Err(format!("{n} is outside {min}-{max}"));
        }
        let lower = v.to_ascii_lowercase();
        // Names map to their position: months start at 1, days at 0.
        names
            .iter()
            .position(|n| *n == lower)
            .map(|i| i as u32 + min)
            .ok_or_else(|| format!("{v:?} is not a number"))
    };
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(n) if n >= 1 => {}
                _ => return Err(format!("bad step {step:?}")),
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b {
                    return Err(format!("range start {a} is after its end {b}"));
                }
            }
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::*;

    pub(crate) fn object(spec: KcmfDeploymentSpec) -> KcmfDeployment {
        let mut o = KcmfDeployment::new("demo", spec);
        o.metadata.namespace = Some("ns".into());
        o.metadata.uid = Some("uid-1".into());
        o.metadata.generation = Some(3);
        o
    }

    fn spec() -> KcmfDeploymentSpec {
        serde_json::from_value(serde_json::json!({})).unwrap()
    }

    #[test]
    fn defaults_are_managed_datastores() {
        let v = validate(&object(spec())).unwrap();
        assert!(matches!(v.redis, Datastore::Managed(_)));
        assert!(matches!(v.postgres, Datastore::Managed(_)));
        assert_eq!(v.matcher.replicas, 1);
        assert_eq!(v.matcher_image, DEFAULT_MATCHER_IMAGE);
        assert_eq!(v.generation, 3);
    }

    /// A spec that names no image gets the operator's configured ones; one that names an
    /// image keeps it.
    #[test]
    fn images_default_to_the_operators_configuration() {
        let images = DefaultImages {
            matcher: "registry.example/kcmf-matcher:1".into(),
            redis: "registry.example/redis:7".into(),
            postgres: "registry.example/postgres:17".into(),
        };
        let v = validate_with(&object(spec()), &images).unwrap();
        assert_eq!(v.matcher_image, images.matcher);
        assert_eq!(v.redis.managed().unwrap().image, images.redis);
        assert_eq!(v.postgres.managed().unwrap().image, images.postgres);
        let mut s = spec();
        s.matcher.image = Some("mine/kcmf-matcher:2".into());
        let v = validate_with(&object(s), &images).unwrap();
        assert_eq!(v.matcher_image, "mine/kcmf-matcher:2");
        let mut s = spec();
        s.matcher.image = Some("  ".into());
        let err = validate_with(&object(s), &images).unwrap_err();
        assert!(err.to_string().contains("spec.matcher.image"), "{err}");
    }

    /// Build reads only `Validated`: every default the CRD documents is resolved here, with
    /// the CRD's values (a spec as the API server stores it, from JSON).
    #[test]
    fn defaults_are_resolved_with_the_crd_values() {
        let s: KcmfDeploymentSpec = serde_json::from_value(serde_json::json!({
            "backup": {"schedule": "@daily"},
            "monitoring": {"serviceMonitor": true},
            "postgres": {"managed": {"storageSize": "3Gi"}},
        }))
        .unwrap();
        let v = validate(&object(s)).unwrap();
        let b = v.backup.as_ref().unwrap();
        assert_eq!(b.schedule, "@daily");
        assert_eq!(b.retention_days, 30);
        assert_eq!(b.storage_size, DEFAULT_BACKUP_SIZE);
        assert!(!b.suspend && !b.verify);
        assert!(v.service_monitor);
        let r = v.redis.managed().unwrap();
        assert_eq!(r.image, DEFAULT_REDIS_IMAGE);
        assert_eq!(r.storage_size, DEFAULT_DATA_SIZE);
        let p = v.postgres.managed().unwrap();
        assert_eq!(p.image, DEFAULT_POSTGRES_IMAGE);
        assert_eq!(p.storage_size, "3Gi");
        assert!(!validate(&object(spec())).unwrap().service_monitor);
        assert!(!v.prometheus_rule && !validate(&object(spec())).unwrap().prometheus_rule);
    }

    #[test]
    fn managed_and_external_is_rejected_with_field() {
        let mut s = spec();
        s.redis = Some(RedisSpec {
            managed: Some(ManagedDatastore::default()),
            external: Some(ExternalDatastore {
                url_secret_ref: SecretKeyRef {
                    name: "r".into(),
                    key: "url".into(),
                },
            }),
        });
        match validate(&object(s)) {
            Err(Error::InvalidSpec { field, .. }) => assert_eq!(field, "spec.redis"),
            other => panic!("unexpected {other:?}"),
        }
        let mut s = spec();
        s.postgres = Some(PostgresSpec {
            managed: None,
            external: None,
        });
        match validate(&object(s)) {
            Err(Error::InvalidSpec { field, .. }) => assert_eq!(field, "spec.postgres"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn autoscaling_min_above_max_is_rejected() {
        let mut s = spec();
        s.matcher.autoscaling = Some(AutoscalingSpec {
            min_replicas: 5,
            max_replicas: 2,
            target_cpu_utilization_percentage: 80,
        });
        let e = validate(&object(s)).unwrap_err();
        assert!(e.to_string().contains("spec.matcher.autoscaling"), "{e}");
    }

    #[test]
    fn thresholds_and_long_names() {
        let mut s = spec();
        s.matcher.config.entity_threshold = Some(1.5);
        let e = validate(&object(s)).unwrap_err();
        assert!(e.to_string().contains("entityThreshold"), "{e}");
        let mut o = object(spec());
        o.metadata.name = Some("x".repeat(41));
        assert!(
            validate(&o)
                .unwrap_err()
                .to_string()
                .contains("metadata.name")
        );
    }

    #[test]
    fn cron_schedules() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1,15 * 0",
            "30 2 * jan-mar mon-fri",
            "@daily",
            "0 0 * * 7",
            "5-10/2 * ? * *",
        ] {
            assert_eq!(validate_cron(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 8",
            "@sometimes",
            "a b c d e",
            "0 0 * * * *",
            "10-5 * * * *",
            "*/0 * * * *",
        ] {
            assert!(validate_cron(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn cron_pattern_matches_the_same_shapes() {
        // The CEL rule uses CRON_PATTERN; it must accept what validate_cron accepts
        // (ranges are left to validate_cron).
        let re = regex_lite::Regex::new(CRON_PATTERN).unwrap();
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "30 2 * jan-mar mon-fri",
            "@daily",
            "5-10/2 * ? * *",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in ["* * * *", "0 0 * * * *", "@sometimes", "", "0 0 * * * ; rm"] {
            assert!(!re.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn restore_set_ids() {
        for ok in [
            "latest",
            "20261128T030000Z",
            "20261128T101502Z-pre-restore",
            "20261128T101502Z-pre-restore-2",
            "20240229T235959Z",
        ] {
            assert_eq!(validate_set_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Latest",
            "20261128T030000",
            "20261128030000Z",
            "20261399T030000Z",
            "20230229T000000Z",
            "20261128T250000Z",
            "20261128T030000Z-",
            "20261128T030000Z--x",
            "20261128T030000Z-Pre",
            "20261128T030000Z/../x",
            "../20261128T030000Z",
            "/backups/20261128T030000Z",
            "20261128T030000Z x",
        ] {
            assert!(validate_set_id(bad).is_err(), "{bad:?} accepted");
        }
        // The CEL rule uses RESTORE_SET_PATTERN: same shapes (the calendar is left to
        // validate_set_id, which is why the operator checks again).
        let re = regex_lite::Regex::new(RESTORE_SET_PATTERN).unwrap();
        for ok in [
            "latest",
            "20261128T030000Z",
            "20261128T101502Z-pre-restore-2",
        ] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "20261128T030000Z-",
            "20261128T030000Z/x",
            "latest2",
        ] {
            assert!(!re.is_match(bad), "{bad:?}");
        }
        assert!(re.is_match("20261399T030000Z"));
        assert!(validate_set_id("20261399T030000Z").is_err());
        let id = regex_lite::Regex::new(RESTORE_ID_PATTERN).unwrap();
        for ok in ["1", "retry-2", "chg12345"] {
            assert!(id.is_match(ok) && validate_dns_label(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b"] {
            assert!(
                !id.is_match(bad) && validate_dns_label(bad).is_err(),
                "{bad:?}"
            );
        }
        assert!(validate_dns_label(&"a".repeat(64)).is_err());
    }

    fn backup() -> BackupSpec {
        serde_json::from_value(serde_json::json!({"schedule": "@daily"})).unwrap()
    }

    #[test]
    fn restore_is_validated_with_fields() {
        let mut s = spec();
        s.backup = Some(backup());
        s.restore = Some(RestoreSpec {
            set: "20261128T030000Z".into(),
            id: Some("retry-1".into()),
        });
        assert!(validate(&object(s.clone())).is_ok());
        s.restore = Some(RestoreSpec {
            set: "20261399T030000Z".into(),
            id: None,
        });
        match validate(&object(s.clone())) {
            Err(Error::InvalidSpec { field, message }) => {
                assert_eq!(field, "spec.restore.set");
                assert!(message.contains("valid UTC time"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        s.restore = Some(RestoreSpec {
            set: "latest".into(),
            id: Some("Bad_Id".into()),
        });
        match validate(&object(s.clone())) {
            Err(Error::InvalidSpec { field, .. }) => assert_eq!(field, "spec.restore.id"),
            other => panic!("unexpected {other:?}"),
        }
        s.backup = None;
        s.restore = Some(RestoreSpec {
            set: "latest".into(),
            id: None,
        });
        match validate(&object(s)) {
            Err(Error::InvalidSpec { field, message }) => {
                assert_eq!(field, "spec.restore");
                assert!(message.contains("spec.backup"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_backup_schedule_names_field() {
        let mut s = spec();
        s.backup = Some(BackupSpec {
            schedule: "99 * * * *".into(),
            retention_days: 30,
            storage_size: None,
            storage_class_name: None,
            suspend: false,
            verify: false,
        });
        match validate(&object(s)) {
            Err(Error::InvalidSpec { field, message }) => {
                assert_eq!(field, "spec.backup.schedule");
                assert!(message.contains("minute"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

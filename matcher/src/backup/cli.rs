//! The `backup` and `restore` subcommands: argument parsing and printing. The work is in
//! [`crate::backup`].

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{BackupError, RestoreOptions, RunOptions, kinds, results};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take one backup set (store dump, Redis snapshot, configuration, manifest), then
    /// apply retention. Exits non-zero on any failure.
    Run {
        /// Backup directory (default: /backups, or <data dir>/backups for embedded SQLite).
        #[arg(long, env = "KCMF_BACKUP_DIR")]
        dir: Option<PathBuf>,
        /// Delete sets older than this many days after a successful run (the newest good
        /// set is always kept).
        #[arg(long, env = "KCMF_BACKUP_RETENTION_DAYS", default_value_t = 30)]
        retention_days: u32,
        /// Run the restore drill on the new set before calling the run a success.
        #[arg(long, env = "KCMF_BACKUP_VERIFY")]
        verify: bool,
    },
    /// List the backup sets, oldest first.
    List {
        #[arg(long, env = "KCMF_BACKUP_DIR")]
        dir: Option<PathBuf>,
        /// JSON output (one array).
        #[arg(long)]
        json: bool,
    },
    /// Restore drill: restore a set into a scratch database and scratch Redis database,
    /// compare row counts and checksums with the manifest, record the result in the set.
    Verify {
        /// Set id (see `backup list`), or `latest`.
        #[arg(long)]
        set: String,
        #[arg(long, env = "KCMF_BACKUP_DIR")]
        dir: Option<PathBuf>,
    },
    /// Raise, lower or show the maintenance flag (serving matchers answer 503 to
    /// /api/v1/* while it is up). `restore` manages it; this is for recovery by hand.
    Maintenance {
        #[arg(value_enum)]
        action: MaintenanceAction,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MaintenanceAction {
    On,
    Off,
    Status,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Set id (see `backup list`), `latest`, or the path of a set directory.
    #[arg(long)]
    pub from: String,
    #[arg(long, env = "KCMF_BACKUP_DIR")]
    pub dir: Option<PathBuf>,
    /// Really replace the current data (without it the set is only checked).
    #[arg(long)]
    pub yes: bool,
    /// Skip the `-pre-restore` safety set of the current state (the roll-back point).
    #[arg(long)]
    pub no_safety_backup: bool,
}

fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// `latest` → the newest complete set.
fn resolve(dir: &std::path::Path, set: &str) -> Result<String, BackupError> {
    if set != "latest" {
        return Ok(set.to_string());
    }
    super::list_sets(dir)?
        .into_iter()
        .rev()
        .find(|s| s.state == super::SetState::Complete)
        .map(|s| s.id)
        .ok_or_else(|| BackupError::NotFound {
            set: "latest".into(),
            dir: dir.display().to_string(),
        })
}

pub async fn run_backup(cmd: BackupCommand, cfg: Config) -> Result<(), BackupError> {
    match cmd {
        BackupCommand::Run {
            dir,
            retention_days,
            verify,
        } => {
            let dir = dir.unwrap_or_else(|| super::default_dir(&cfg));
            let started = chrono::Utc::now();
            let res = super::run(
                &cfg,
                &dir,
                &RunOptions {
                    retention_days,
                    verify,
                },
            )
            .await;
            match &res {
                Ok(r) => {
                    println!(
                        "backup set {} complete: {} in {}, {} table(s), {} row(s){}",
                        r.set,
                        human(r.manifest.total_size()),
                        r.path.display(),
                        r.manifest.tables.len(),
                        r.manifest.tables.iter().map(|t| t.rows).sum::<u64>(),
                        r.manifest
                            .redis
                            .as_ref()
                            .map(|s| format!(", {} Redis key(s)", s.keys))
                            .unwrap_or_default()
                    );
                    println!("{}", r.manifest.secret);
                    if let Some(v) = &r.verification {
                        println!("restore drill passed: {}", v.checks.join("; "));
                    }
                    for d in &r.deleted {
                        println!("retention: deleted {d}");
                    }
                    super::write_termination_message(&json!({
                        "kind": kinds::BACKUP, "result": results::SUCCEEDED, "set": r.set,
                        "startedAt": r.manifest.started_at, "finishedAt": r.manifest.finished_at,
                        "verified": r.verification.as_ref().map(|v| v.ok),
                        "deleted": r.deleted,
                    }));
                }
                Err(e) => super::write_termination_message(&json!({
                    "kind": kinds::BACKUP, "result": results::FAILED, "startedAt": started,
                    "finishedAt": chrono::Utc::now(), "error": e.to_string(),
                })),
            }
            res.map(|_| ())
        }
        BackupCommand::List { dir, json } => {
            let dir = dir.unwrap_or_else(|| super::default_dir(&cfg));
            let sets = super::list_sets(&dir)?;
            if json {
                let v: Vec<_> = sets
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.id,
                            "path": s.path,
                            "state": s.state_str(),
                            "problem": match &s.state { super::SetState::Unreadable(p) => Some(p.clone()), _ => None },
                            "started_at": s.started_at,
                            "finished_at": s.manifest.as_ref().map(|m| m.finished_at),
                            "reason": s.manifest.as_ref().map(|m| m.reason.clone()),
                            "store_backend": s.manifest.as_ref().map(|m| m.source.store_backend.clone()),
                            "size": s.manifest.as_ref().map(|m| m.total_size()),
                            "tables": s.manifest.as_ref().map(|m| &m.tables),
                            "redis_keys": s.manifest.as_ref().and_then(|m| m.redis.as_ref()).map(|r| r.keys),
                            "verified": s.verification.as_ref().map(|v| v.ok),
                            "verified_at": s.verification.as_ref().map(|v| v.verified_at),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(v));
            } else {
                println!(
                    "{:<32} {:<11} {:<9} {:<9} {:>10} {:>9}  STARTED",
                    "SET", "STATE", "VERIFIED", "STORE", "SIZE", "ROWS"
                );
                for s in &sets {
                    let (store, size, rows) = match &s.manifest {
                        Some(m) => (
                            m.source.store_backend.clone(),
                            human(m.total_size()),
                            m.tables.iter().map(|t| t.rows).sum::<u64>().to_string(),
                        ),
                        None => ("-".into(), "-".into(), "-".into()),
                    };
                    println!(
                        "{:<32} {:<11} {:<9} {:<9} {:>10} {:>9}  {}",
                        s.id,
                        s.state_str(),
                        s.verified_str(),
                        store,
                        size,
                        rows,
                        s.started_at.to_rfc3339()
                    );
                    if let super::SetState::Unreadable(p) = &s.state {
                        println!("    problem: {p}");
                    }
                }
                if sets.is_empty() {
                    eprintln!("no backup sets in {}", dir.display());
                }
            }
            Ok(())
        }
        BackupCommand::Verify { set, dir } => {
            let dir = dir.unwrap_or_else(|| super::default_dir(&cfg));
            let set = resolve(&dir, &set)?;
            let res = super::verify(&cfg, &dir, &set).await;
            let msg = match &res {
                Ok(v) if v.ok => {
                    println!("restore drill of {set} passed:");
                    for c in &v.checks {
                        println!("  {c}");
                    }
                    json!({"kind": kinds::VERIFY, "result": results::SUCCEEDED, "set": set, "verifiedAt": v.verified_at})
                }
                Ok(v) => {
                    json!({"kind": kinds::VERIFY, "result": results::FAILED, "set": set, "error": v.error})
                }
                Err(e) => {
                    json!({"kind": kinds::VERIFY, "result": results::FAILED, "set": set, "error": e.to_string()})
                }
            };
            super::write_termination_message(&msg);
            match res {
                Ok(v) if !v.ok => Err(BackupError::VerifyFailed {
                    set,
                    problems: v.error.unwrap_or_default(),
                }),
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        }
        BackupCommand::Maintenance { action } => {
            let store = crate::store::Store::connect(&cfg.database).await?;
            let redis = super::redis_url(&cfg)
                .map(super::redis::RedisTarget::open)
                .transpose()?
                .map(|t| t.client);
            let sw = super::maintenance::Switch::new(store.pool().clone(), redis);
            let res = match action {
                MaintenanceAction::On => sw.enable("set by hand").await.map(|_| {
                    println!("maintenance flag raised: serving matchers answer 503 to /api/v1/*");
                }),
                MaintenanceAction::Off => sw.disable().await.map(|_| {
                    println!("maintenance flag lowered");
                }),
                MaintenanceAction::Status => sw.status().await.map(|s| match s {
                    Some(r) => println!("on ({r})"),
                    None => println!("off"),
                }),
            };
            store.close().await;
            res
        }
    }
}

pub async fn run_restore(args: RestoreArgs, cfg: Config) -> Result<(), BackupError> {
    let dir = args.dir.unwrap_or_else(|| super::default_dir(&cfg));
    let from = resolve(&dir, &args.from)?;
    let started = chrono::Utc::now();
    let res = super::restore(
        &cfg,
        &dir,
        &from,
        &RestoreOptions {
            yes: args.yes,
            safety_backup: !args.no_safety_backup,
        },
    )
    .await;
    match &res {
        Ok(r) => {
            println!(
                "restored {}: {} table(s), {} row(s) match the manifest{}",
                r.set,
                r.tables,
                r.rows,
                r.redis_keys
                    .map(|n| format!(", {n} Redis key(s)"))
                    .unwrap_or_default()
            );
            for n in &r.notes {
                println!("  {n}");
            }
            if let Some(s) = &r.safety_set {
                println!("roll back with: kcmf-matcher restore --from {s} --yes");
            }
            super::write_termination_message(&json!({
                "kind": kinds::RESTORE, "result": results::SUCCEEDED, "set": r.set, "safetySet": r.safety_set,
                "startedAt": started, "finishedAt": chrono::Utc::now(),
            }));
        }
        Err(e) => super::write_termination_message(&json!({
            "kind": kinds::RESTORE, "result": results::FAILED, "set": from, "error": e.to_string(),
            "startedAt": started, "finishedAt": chrono::Utc::now(),
        })),
    }
    res.map(|_| ())
}

//! The secret from which the payload encryption key is derived: `SECRET_KEY`, or — in
//! development only — one generated at first start and kept in `<data dir>/dev-secret`.
//!
//! The generated secret used to be kept in the store (the `configs` row `dev_secret_key`),
//! next to the payloads it encrypts: whoever could read the database (or a backup of it)
//! could read everything. It now lives in a file of its own, created with mode 0600 (and
//! refused when its mode lets anyone but the owner read it), which a backup does not copy;
//! a start-up warning says where it is and what it means. A store that still holds the old
//! row has it moved into the file (and the row deleted) at the next start, so data already
//! encrypted stays readable.
//!
//! Consequence: processes that share a store in development mode (`serve` and `worker`,
//! replicas) must share the data dir or set the same `SECRET_KEY`, and a restore onto a
//! fresh data dir needs that file copied (the backup manifest says so).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{AppEnv, Config};
use crate::crypto::random_token;
use crate::store::{Store, StoreError};

/// The file under the data dir holding a generated development secret.
pub const DEV_SECRET_FILE: &str = "dev-secret";
/// The `configs` row where earlier versions kept it (read once, moved, deleted).
pub const DEV_SECRET_ROW: &str = "dev_secret_key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("SECRET_KEY is required when APP_ENV=production")]
    Required,
    #[error("development secret {path}: cannot {action}: {source}")]
    Io {
        path: String,
        action: &'static str,
        source: std::io::Error,
    },
    #[error(
        "development secret {path} has mode {mode:03o}: it must be readable by its owner only; \
         run `chmod 600 {path}` (or set SECRET_KEY)"
    )]
    Permissions { path: String, mode: u32 },
    #[error("development secret {path}: {problem}")]
    Invalid { path: String, problem: String },
    #[error(
        "the store still holds a development secret (configs row `dev_secret_key`) that \
         differs from {path}: the stored data may be encrypted with either. Keep the right one \
         (set SECRET_KEY to it, or write it to {path}) and delete the other"
    )]
    Conflict { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the generated development secret is kept for this configuration.
pub fn dev_secret_path(cfg: &Config) -> PathBuf {
    cfg.database.data_dir.join(DEV_SECRET_FILE)
}

/// What a backup set says about the secret (never the secret itself).
pub fn backup_note(cfg: &Config) -> String {
    if cfg.app.secret_key.is_some() {
        "the encryption secret is not in the set: stored payloads are encrypted with SECRET_KEY; \
         restore with the same SECRET_KEY"
            .to_string()
    } else {
        format!(
            "the encryption secret is not in the set: stored payloads are encrypted with the \
             development secret in {}; copy that file (mode 0600) into the data dir of the \
             restored matcher, or its encrypted payloads (history, feedback, job data) cannot \
             be read",
            dev_secret_path(cfg).display()
        )
    }
}

/// The payload secret: `SECRET_KEY`, or (outside production) the development secret from
/// its file, created on first start or moved there from the store.
pub async fn resolve(cfg: &Config, store: &Store) -> Result<String, SecretError> {
    if let Some(s) = &cfg.app.secret_key {
        return Ok(s.clone());
    }
    if cfg.app.env == AppEnv::Production {
        return Err(SecretError::Required);
    }
    let path = dev_secret_path(cfg);
    let shown = path.display().to_string();
    let row = store.get_config(DEV_SECRET_ROW).await?;
    let secret = match read_file(&path)? {
        Some(s) => s,
        None => create_file(&path, row.as_deref().unwrap_or(&random_token(32)))?,
    };
    if let Some(old) = row {
        if old != secret {
            return Err(SecretError::Conflict { path: shown });
        }
        store.delete_config(DEV_SECRET_ROW).await?;
        tracing::info!(file = %shown, "moved the development secret from the store into its file");
    }
    tracing::warn!(
        file = %shown,
        "no SECRET_KEY: stored payloads are encrypted with a generated development secret kept \
         in plaintext in {shown} (mode 0600), next to the data it protects: whoever can read \
         that file can read the data. Set SECRET_KEY outside development, and keep the file \
         to read this data after a restore"
    );
    Ok(secret)
}

fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> SecretError {
    let path = path.display().to_string();
    move |source| SecretError::Io {
        path,
        action,
        source,
    }
}

/// The secret in `path`; none when there is no such file. Refuses a file others may read.
fn read_file(path: &Path) -> Result<Option<String>, SecretError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, "read its metadata")(e)),
    };
    if !meta.is_file() {
        return Err(SecretError::Invalid {
            path: path.display().to_string(),
            problem: "not a regular file".into(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::Permissions {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(io(path, "read it"))?;
    let secret = text.strip_suffix('\n').unwrap_or(&text);
    if secret.trim().is_empty() {
        return Err(SecretError::Invalid {
            path: path.display().to_string(),
            problem: "the file is empty (delete it to generate a new secret, which makes data \
                      encrypted with the lost one unreadable)"
                .into(),
        });
    }
    Ok(Some(secret.to_string()))
}

/// Creates `path` holding `secret`, mode 0600, atomically: the secret is written to a
/// temporary file first and hard-linked into place, which fails if the file exists — then
/// the secret another process wrote first is returned instead.
fn create_file(path: &Path, secret: &str) -> Result<String, SecretError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(io(dir, "create its directory"))?;
    }
    let tmp = path.with_file_name(format!(".{DEV_SECRET_FILE}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, secret)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(secret.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_file(path)?.ok_or_else(|| SecretError::Invalid {
                path: path.display().to_string(),
                problem: "created by another process, then gone".into(),
            })
        }
        // A file system without hard links: create the file in place (a process starting
        // at the same instant could read it before it is written and refuse it as empty).
        Err(_) => match write_new(path, secret) {
            Ok(()) => Ok(secret.to_string()),
            Err(SecretError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                read_file(path)?.ok_or_else(|| SecretError::Invalid {
                    path: path.display().to_string(),
                    problem: "created by another process, then gone".into(),
                })
            }
            Err(e) => Err(e),
        },
    }
}

/// Writes a new file (never an existing one), mode 0600, synced.
fn write_new(path: &Path, secret: &str) -> Result<(), SecretError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(io(path, "create it"))?;
    f.write_all(secret.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(path, "write it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_file_is_created_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(DEV_SECRET_FILE);
        assert_eq!(create_file(&path, "first").unwrap(), "first");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            create_file(&path, "second").unwrap(),
            "first",
            "an existing file wins"
        );
        assert_eq!(read_file(&path).unwrap().as_deref(), Some("first"));
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from(DEV_SECRET_FILE)]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEV_SECRET_FILE);
        create_file(&path, "s").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_file(&path).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("640"),
            "{err}"
        );
    }
}

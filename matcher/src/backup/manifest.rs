//! The manifest of a backup set (`manifest.json`) and its own checksum file
//! (`manifest.sha256`), plus the drill's record (`verify.json`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{BackupError, io_err};

/// Bumped when the layout of a set changes incompatibly.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SUM: &str = "manifest.sha256";
pub const VERIFY: &str = "verify.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// The set id: the UTC start time, `YYYYMMDDTHHMMSSZ` (plus `-label` / `-n`).
    pub id: String,
    pub tool: String,
    pub tool_version: String,
    /// `complete`: every file is written and checksummed (only such sets are renamed into
    /// place).
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Why the set was taken: `scheduled` (backup run) or `pre-restore` (safety copy).
    pub reason: String,
    pub source: Source,
    pub files: Vec<FileEntry>,
    pub tables: Vec<TableStat>,
    /// The logical Redis export; none when the cache is not Redis.
    pub redis: Option<RedisStat>,
    /// Where the payload encryption secret is kept — never the secret itself, which a
    /// set does not hold (sets written before this field have it empty).
    #[serde(default)]
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    /// `postgres` or `sqlite`.
    pub store_backend: String,
    /// `SHOW server_version` / `sqlite_version()`.
    pub store_version: String,
    /// Connection URL with the password masked.
    pub store_url: String,
    pub redis_version: Option<String>,
    pub redis_url: Option<String>,
    pub redis_db: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Path relative to the set directory.
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Rows and a content checksum of one table: SHA-256 over the sorted SHA-256 of every
/// row's canonical text (`row::text` on PostgreSQL, `quote(col)|…` on SQLite), so it does
/// not depend on row order and is computed the same way at backup and after a restore.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableStat {
    pub name: String,
    pub rows: u64,
    pub checksum: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedisStat {
    pub keys: u64,
    /// SHA-256 over the sorted per-key SHA-256 of (key, DUMP payload).
    pub checksum: String,
    /// Whether `redis.rdb` (a `redis-cli --rdb` snapshot) is part of the set.
    pub rdb: bool,
}

/// What a restore drill found (`verify.json` in the set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verification {
    pub set: String,
    pub ok: bool,
    pub verified_at: DateTime<Utc>,
    pub tool_version: String,
    /// Human-readable findings, one per check.
    pub checks: Vec<String>,
    pub error: Option<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 and size of a file, streamed.
pub fn file_digest(path: &Path) -> Result<(u64, String), BackupError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io_err(format!("open {}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(io_err(format!("read {}", path.display())))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex::encode(h.finalize())))
}

/// Writes `bytes` to `path` through a temporary file, fsynced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io_err(format!("create {}", tmp.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_err(format!("write {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io_err(format!("rename to {}", path.display())))
}

impl Manifest {
    /// Writes `manifest.json` and `manifest.sha256` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), BackupError> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| BackupError::Json {
            context: "encode manifest".into(),
            source: e,
        })?;
        write_atomic(&dir.join(MANIFEST), &text)?;
        let sum = format!("{}  {MANIFEST}\n", sha256_hex(&text));
        write_atomic(&dir.join(MANIFEST_SUM), sum.as_bytes())
    }

    /// Reads the manifest of a set and checks it against `manifest.sha256`.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let text = std::fs::read(dir.join(MANIFEST)).map_err(|e| format!("{MANIFEST}: {e}"))?;
        let sum = std::fs::read_to_string(dir.join(MANIFEST_SUM))
            .map_err(|e| format!("{MANIFEST_SUM}: {e}"))?;
        let want = sum.split_whitespace().next().unwrap_or_default();
        let got = sha256_hex(&text);
        if want != got {
            return Err(format!(
                "{MANIFEST} does not match {MANIFEST_SUM} (sha256 {got}, expected {want})"
            ));
        }
        let m: Manifest =
            serde_json::from_slice(&text).map_err(|e| format!("{MANIFEST} is not valid: {e}"))?;
        if m.format != FORMAT {
            return Err(format!(
                "set format {} is not supported by this version (format {FORMAT})",
                m.format
            ));
        }
        if m.status != "complete" {
            return Err(format!("manifest status is {:?}, not complete", m.status));
        }
        Ok(m)
    }

    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Checks every file's size and SHA-256; the first problem found is returned.
    pub fn check_files(&self, dir: &Path) -> Result<(), String> {
        for f in &self.files {
            if f.name.contains("..") || f.name.starts_with('/') {
                return Err(format!("file name {:?} escapes the set", f.name));
            }
            let p = dir.join(&f.name);
            if !p.is_file() {
                return Err(format!("file {} is missing", f.name));
            }
            let (size, sum) = file_digest(&p).map_err(|e| e.to_string())?;
            if size != f.size {
                return Err(format!(
                    "file {} has {size} bytes, the manifest says {}",
                    f.name, f.size
                ));
            }
            if sum != f.sha256 {
                return Err(format!(
                    "checksum mismatch on {}: sha256 {sum}, the manifest says {}",
                    f.name, f.sha256
                ));
            }
        }
        Ok(())
    }
}

impl Verification {
    pub fn write(&self, dir: &Path) -> Result<(), BackupError> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| BackupError::Json {
            context: "encode verification".into(),
            source: e,
        })?;
        write_atomic(&dir.join(VERIFY), &text)
    }

    pub fn read(dir: &Path) -> Option<Verification> {
        let text = std::fs::read(dir.join(VERIFY)).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

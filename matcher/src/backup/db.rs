//! The store side of backups: table statistics (row counts and content checksums),
//! PostgreSQL dumps and restores through `pg_dump -Fc` / `pg_restore`, and SQLite copies
//! (`VACUUM INTO`) and restores (ATTACH + copy in one transaction).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};

use super::manifest::TableStat;
use super::{BackupError, db_err};
use crate::backup::maintenance::MAINT_TABLE;
use crate::store::Backend;

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The user tables of the connected database (current schema on PostgreSQL), sorted,
/// without the maintenance flag's table.
pub async fn list_tables(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<String>, BackupError> {
    let sql = match backend {
        Backend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        }
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    let rows = sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err("list tables"))?;
    let mut out = Vec::new();
    for r in rows {
        let n: String = r.try_get("name").map_err(db_err("decode table name"))?;
        if n != MAINT_TABLE {
            out.push(n);
        }
    }
    Ok(out)
}

/// Row count and content checksum of one table (see [`TableStat`]).
pub async fn table_stat(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<TableStat, BackupError> {
    let t = quote_ident(table);
    let sql = match backend {
        Backend::Postgres => format!("SELECT t::text AS r FROM {t} AS t"),
        Backend::Sqlite => {
            let cols = sqlx::query("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err("read table columns"))?;
            let mut parts = Vec::new();
            for c in cols {
                let n: String = c.try_get("name").map_err(db_err("decode column name"))?;
                parts.push(format!("quote({})", quote_ident(&n)));
            }
            if parts.is_empty() {
                parts.push("''".into());
            }
            format!("SELECT {} AS r FROM {t}", parts.join(" || '|' || "))
        }
    };
    let mut hashes: Vec<[u8; 32]> = Vec::new();
    {
        let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
        while let Some(r) = rows.try_next().await.map_err(db_err("read rows"))? {
            let text: Option<String> = r.try_get("r").map_err(db_err("decode row"))?;
            hashes.push(Sha256::digest(text.unwrap_or_default().as_bytes()).into());
        }
    }
    hashes.sort_unstable();
    let mut h = Sha256::new();
    for x in &hashes {
        h.update(x);
    }
    Ok(TableStat {
        name: table.to_string(),
        rows: hashes.len() as u64,
        checksum: hex::encode(h.finalize()),
    })
}

/// Statistics of every user table.
pub async fn all_stats(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<TableStat>, BackupError> {
    let mut out = Vec::new();
    for t in list_tables(conn, backend).await? {
        out.push(table_stat(conn, backend, &t).await?);
    }
    Ok(out)
}

/// Compares the tables found after a restore with the manifest's; one line per problem.
pub fn compare_stats(expected: &[TableStat], found: &[TableStat]) -> Vec<String> {
    let mut problems = Vec::new();
    for e in expected {
        match found.iter().find(|f| f.name == e.name) {
            None => problems.push(format!("table {} is missing after the restore", e.name)),
            Some(f) if f.rows != e.rows => problems.push(format!(
                "table {}: {} rows, the manifest says {}",
                e.name, f.rows, e.rows
            )),
            Some(f) if f.checksum != e.checksum => problems.push(format!(
                "table {}: content checksum differs from the manifest ({} rows each)",
                e.name, e.rows
            )),
            Some(_) => {}
        }
    }
    problems
}

pub async fn server_version(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<String, BackupError> {
    let sql = match backend {
        Backend::Postgres => "SELECT current_setting('server_version') AS v",
        Backend::Sqlite => "SELECT sqlite_version() AS v",
    };
    let r = sqlx::query(sql)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("read server version"))?;
    r.try_get::<String, _>("v")
        .map_err(db_err("decode server version"))
}

// ---- URLs -------------------------------------------------------------------------------

/// A connection URL split for the PostgreSQL tools: the URL without its password (safe on
/// argv and in logs) and the password (for `PGPASSWORD`).
#[derive(Debug, Clone)]
pub struct PgTarget {
    pub url: String,
    pub password: Option<String>,
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `scheme://user:pass@host/...` into the URL without the password and the
/// (percent-decoded) password.
pub fn split_password(url: &str) -> PgTarget {
    let Some((scheme, rest)) = url.split_once("://") else {
        return PgTarget {
            url: url.to_string(),
            password: None,
        };
    };
    let (auth_end, _) = rest
        .char_indices()
        .find(|(_, c)| *c == '/' || *c == '?')
        .unwrap_or((rest.len(), ' '));
    let authority = &rest[..auth_end];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        if let Some((user, pass)) = userinfo.split_once(':') {
            return PgTarget {
                url: format!("{scheme}://{user}@{}", &rest[at + 1..]),
                password: Some(percent_decode(pass)),
            };
        }
    }
    PgTarget {
        url: url.to_string(),
        password: None,
    }
}

/// The same server and credentials, another database name.
pub fn with_database(url: &str, db: &str) -> Result<String, BackupError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err(BackupError::Invalid(format!(
            "database URL has no scheme: {}",
            crate::redact::url(url)
        )));
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// The SQLite file behind a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> PathBuf {
    let s = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(s.split('?').next().unwrap_or(s))
}

// ---- external tools ---------------------------------------------------------------------

/// `name`, or `$KCMF_PG_BIN/name` when that is set.
pub fn pg_tool(name: &str) -> PathBuf {
    match std::env::var_os("KCMF_PG_BIN") {
        Some(d) if !d.is_empty() => Path::new(&d).join(name),
        _ => PathBuf::from(name),
    }
}

/// Runs a prepared command to completion; non-zero exit → [`BackupError::Tool`] with the
/// end of its stderr.
pub async fn run_tool(
    tool: &'static str,
    mut cmd: tokio::process::Command,
) -> Result<(), BackupError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = cmd
        .output()
        .await
        .map_err(|source| BackupError::ToolMissing { tool, source })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    Err(BackupError::Tool {
        tool,
        status: out.status.to_string(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

fn pg_command(tool: &str, target: &PgTarget) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(pg_tool(tool));
    c.env_remove("PGPASSWORD");
    if let Some(p) = &target.password {
        c.env("PGPASSWORD", p);
    }
    c
}

/// The PostgreSQL dump of a set: `pg_dump -Fc` of the snapshot the statistics were read
/// from, so counts and dump describe the same data.
pub fn pg_dump_command(target: &PgTarget, snapshot: &str, file: &Path) -> tokio::process::Command {
    let mut c = pg_command("pg_dump", target);
    c.arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--exclude-table={MAINT_TABLE}"))
        .arg(format!("--file={}", file.display()))
        .arg(format!("--dbname={}", target.url));
    c
}

/// Restores a dump into `target`, replacing the objects it contains, in one transaction.
pub async fn pg_restore(target: &PgTarget, file: &Path) -> Result<(), BackupError> {
    let mut c = pg_command("pg_restore", target);
    c.arg("--clean")
        .arg("--if-exists")
        .arg("--no-owner")
        .arg("--no-acl")
        .arg("--single-transaction")
        .arg("--exit-on-error")
        .arg("--no-password")
        .arg(format!("--dbname={}", target.url))
        .arg(file);
    run_tool("pg_restore", c).await
}

// ---- SQLite -----------------------------------------------------------------------------

/// A consistent copy of the live SQLite database (`VACUUM INTO`), switched out of WAL so
/// it is one self-contained file.
pub async fn sqlite_copy(conn: &mut AnyConnection, dest: &Path) -> Result<(), BackupError> {
    sqlx::query("VACUUM INTO $1")
        .bind(dest.display().to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err("VACUUM INTO the backup file"))?;
    let mut copy = open_sqlite(dest, false).await?;
    sqlx::query("PRAGMA journal_mode=DELETE")
        .execute(&mut copy)
        .await
        .map_err(db_err("set the copy's journal mode"))?;
    copy.close().await.map_err(db_err("close the copy"))?;
    Ok(())
}

pub async fn open_sqlite(path: &Path, create: bool) -> Result<AnyConnection, BackupError> {
    sqlx::any::install_default_drivers();
    let mode = if create { "rwc" } else { "rw" };
    let url = format!("sqlite://{}?mode={mode}", path.display());
    AnyConnection::connect(&url)
        .await
        .map_err(db_err(format!("open SQLite file {}", path.display())))
}

/// Replaces, in the database behind `conn`, every table of the backup file with the
/// backup's (schema, rows, indexes), in one transaction. Tables the backup does not have
/// are left alone, like `pg_restore --clean`.
pub async fn sqlite_restore(conn: &mut AnyConnection, backup: &Path) -> Result<(), BackupError> {
    sqlx::query("PRAGMA busy_timeout = 30000")
        .execute(&mut *conn)
        .await
        .map_err(db_err("set busy timeout"))?;
    sqlx::query("ATTACH DATABASE $1 AS kcmf_bk")
        .bind(backup.display().to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err("attach the backup file"))?;
    let res = sqlite_restore_attached(conn).await;
    let detach = sqlx::query("DETACH DATABASE kcmf_bk")
        .execute(&mut *conn)
        .await
        .map_err(db_err("detach the backup file"));
    res?;
    detach.map(|_| ())
}

async fn sqlite_restore_attached(conn: &mut AnyConnection) -> Result<(), BackupError> {
    let objs = sqlx::query(
        "SELECT type, name, sql FROM kcmf_bk.sqlite_master \
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err("read the backup's schema"))?;
    let mut items = Vec::new();
    for r in objs {
        let kind: String = r.try_get("type").map_err(db_err("decode schema"))?;
        let name: String = r.try_get("name").map_err(db_err("decode schema"))?;
        let sql: String = r.try_get("sql").map_err(db_err("decode schema"))?;
        if name != MAINT_TABLE {
            items.push((kind, name, sql));
        }
    }
    let mut tx = conn.begin().await.map_err(db_err("begin restore"))?;
    for (kind, name, _) in &items {
        if kind == "table" {
            sqlx::query(AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS main.{}",
                quote_ident(name)
            )))
            .execute(&mut *tx)
            .await
            .map_err(db_err(format!("drop table {name}")))?;
        }
    }
    for (kind, name, sql) in &items {
        sqlx::query(AssertSqlSafe(sql.clone()))
            .execute(&mut *tx)
            .await
            .map_err(db_err(format!("create {kind} {name}")))?;
        if kind == "table" {
            let q = quote_ident(name);
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO main.{q} SELECT * FROM kcmf_bk.{q}"
            )))
            .execute(&mut *tx)
            .await
            .map_err(db_err(format!("copy rows of {name}")))?;
        }
    }
    tx.commit().await.map_err(db_err("commit restore"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_split() {
        let t = split_password("postgres://kcmf:s%40cret@db:5432/kcmf?sslmode=disable");
        assert_eq!(t.url, "postgres://kcmf@db:5432/kcmf?sslmode=disable");
        assert_eq!(t.password.as_deref(), Some("s@cret"));
    }

    #[test]
    fn database_is_swapped() {
        assert_eq!(
            with_database("postgres://u:p@h:1/a?sslmode=x", "b").unwrap(),
            "postgres://u:p@h:1/b?sslmode=x"
        );
    }

    #[test]
    fn sqlite_url_to_path() {
        assert_eq!(
            sqlite_path("sqlite://./data/kcmf.db?mode=rwc"),
            PathBuf::from("./data/kcmf.db")
        );
    }
}

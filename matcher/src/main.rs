//! `kcmf-matcher` entry point: parse the command line, load the configuration, run the
//! command. Errors are printed with their context and exit non-zero.

use std::process::ExitCode;

use clap::Parser;
use kcmf_matcher::auth::Role;
use kcmf_matcher::cli::{Cli, Command, KeysCommand};
use kcmf_matcher::config::Config;
use kcmf_matcher::crypto::generate_key;
use kcmf_matcher::store::Revoke;
use kcmf_matcher::{server, telemetry};

/// mimalloc: the service allocates many small short-lived buffers per request (headers,
/// JSON maps, log entries) from two worker threads; glibc malloc spent ~10% of the cached
/// path's CPU in `malloc`/`free`/`malloc_consolidate` (bench/http.sh under perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (libmimalloc-sys 0.1.49 builds
/// v3; the bindings export no constant for it).
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

/// How long freed memory stays mapped before mimalloc returns it to the OS. The default
/// (10 ms, arenas 10× that) returned and re-faulted the same pages over and over during a
/// 1M-record dedup: 3.0 s of kernel time zeroing pages, 1.3 s with 2 s. A server still
/// gives memory back seconds after a large request.
const PURGE_DELAY_MS: std::os::raw::c_long = 2000;

/// `mi_option_allow_thp` in the same enum. mimalloc asks for transparent huge pages on
/// its arenas, and the kernel zeroes 2 MiB at each first touch, again after each purge: a
/// 1M-record dedup spent a third of its CPU in `clear_page_erms` (perf), 9.4 s of kernel
/// time and 18 s wall; with 4 KiB pages, 0.7 s and 11 s (more faults, each zeroing only
/// what is used). The option alone comes too late for the arena mimalloc maps before
/// `main` (13.9 s, 4.3 s kernel): the process's THP is switched off too, as mimalloc does
/// itself when the option is set from the environment at its start.
const MI_OPTION_ALLOW_THP: std::os::raw::c_int = 43;

fn main() -> ExitCode {
    // SAFETY: start-up, before any other thread exists (the function is not thread-safe)
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
    }
    // SAFETY: PR_SET_THP_DISABLE takes no pointer; a failure leaves THP as it was
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = Cli::parse();
    kcmf_matcher::backup::set_config_file(cli.config.clone());
    let cfg = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kcmf-matcher: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logging(&cfg.monitoring.log_level, &cfg.monitoring.log_format);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if cfg.app.workers > 0 {
        rt.worker_threads(cfg.app.workers);
    }
    let rt = match rt.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kcmf-matcher: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kcmf-matcher: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and each of its causes, `: `-joined, like `{:#}`, but a cause its error's
/// message already ends with (`cannot listen on …: {source}`) is not said twice.
fn chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    let mut prev = out.clone();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !prev.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        prev = text;
    }
    out
}

async fn run(cmd: Command, cfg: Config) -> anyhow::Result<()> {
    match cmd {
        Command::Serve => server::serve(cfg).await?,
        Command::Worker => server::work(cfg).await?,
        Command::Dedup(a) => {
            tokio::task::spawn_blocking(move || kcmf_matcher::files::dedup(&a)).await??
        }
        Command::Link(a) => {
            tokio::task::spawn_blocking(move || kcmf_matcher::files::link(&a)).await??
        }
        Command::Eval { task } => {
            kcmf_matcher::eval::run(task, &cfg).await?;
        }
        Command::Backup { action } => kcmf_matcher::backup::cli::run_backup(action, cfg).await?,
        Command::Restore(args) => kcmf_matcher::backup::cli::run_restore(args, cfg).await?,
        Command::Migrate => {
            let store = server::open_store(&cfg).await?;
            println!("migrations applied ({})", store.backend().as_str());
        }
        Command::Config => {
            let shown = kcmf_matcher::redact::config(&cfg);
            print!("{}", serde_yaml_ng::to_string(&shown)?);
        }
        Command::Keys { action } => {
            let store = server::open_store(&cfg).await?;
            match action {
                KeysCommand::Create {
                    name,
                    admin,
                    project,
                } => {
                    if let Some(p) = &project {
                        kcmf_matcher::auth::check_project(p)
                            .map_err(|m| anyhow::anyhow!("--project: {m}"))?;
                    }
                    let k = generate_key();
                    let role = if admin { Role::Admin } else { Role::User };
                    store
                        .insert_key_in(&k.id, &name, &k.hash, role.as_str(), project.as_deref())
                        .await?;
                    eprintln!(
                        "created key {} ({}) for {name:?}; it is shown once:",
                        k.id,
                        role.as_str()
                    );
                    println!("{}", k.plain);
                }
                KeysCommand::List => {
                    println!(
                        "{:<14} {:<8} {:<8} {:<25} {:<20} NAME",
                        "ID", "ROLE", "STATE", "CREATED", "PROJECT"
                    );
                    for k in store.list_keys().await? {
                        let created = chrono::DateTime::from_timestamp_millis(k.created_at)
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_default();
                        let st = if k.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{:<14} {:<8} {:<8} {:<25} {:<20} {}",
                            k.id,
                            k.role,
                            st,
                            created,
                            k.project.as_deref().unwrap_or("-"),
                            k.name
                        );
                    }
                }
                KeysCommand::Project { id, project, .. } => {
                    if let Some(p) = &project {
                        kcmf_matcher::auth::check_project(p)
                            .map_err(|m| anyhow::anyhow!("--project: {m}"))?;
                    }
                    match store.set_key_project(&id, project.as_deref()).await? {
                        None => anyhow::bail!("no active key with id {id:?}"),
                        Some(before) => println!(
                            "key {id}: project {} -> {}",
                            before.as_deref().unwrap_or("(none)"),
                            project.as_deref().unwrap_or("(none)")
                        ),
                    }
                }
                KeysCommand::Revoke { id } => match store.revoke_key(&id).await? {
                    Revoke::Revoked => println!("revoked {id}"),
                    Revoke::NotFound => anyhow::bail!("no active key with id {id:?}"),
                    Revoke::LastAdmin => anyhow::bail!(
                        "key {id:?} is the last active admin key: create another one first \
                         (kcmf-matcher keys create --admin --name NAME)"
                    ),
                },
            }
            store.close().await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::chain;

    #[test]
    fn a_cause_the_message_already_holds_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let said = io.to_string();
        let e = anyhow::Error::new(kcmf_matcher::server::StartError::Bind {
            addr: "0.0.0.0:8080".into(),
            source: io,
        });
        let text = chain(&e);
        assert_eq!(text.matches(&said).count(), 1, "{text}");
        assert!(text.starts_with("cannot listen on 0.0.0.0:8080"), "{text}");
        // a cause the message does not hold is still said
        let e = anyhow::Error::new(std::io::Error::other("disk full")).context("cannot write");
        assert_eq!(chain(&e), "cannot write: disk full");
        // a short cause that the message holds elsewhere, not at its end, is said
        let e = anyhow::Error::new(std::io::Error::other("timed out"))
            .context("timed out waiting for the store, retrying");
        assert_eq!(
            chain(&e),
            "timed out waiting for the store, retrying: timed out"
        );
    }
}

//! `kcmf-operator`: `crd` prints the CustomResourceDefinition, `run` (default) runs the controller.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use kcmf_operator::validate::DefaultImages;
use kcmf_operator::{controller, crd, metrics};
use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tracing::{error, info};

#[derive(Parser, Debug)]
#[command(
    name = "kcmf-operator",
    version,
    about = "Kubernetes operator for KcmfDeployment resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the KcmfDeployment CustomResourceDefinition as YAML.
    Crd,
    /// Run the controller (the default).
    Run,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Watch only this namespace (empty: all namespaces).
    #[arg(long, global = true, env = "WATCH_NAMESPACE", default_value = "")]
    watch_namespace: String,
    /// Address of the /metrics, /health and /ready server.
    #[arg(
        long,
        global = true,
        env = "METRICS_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    metrics_addr: SocketAddr,
    /// Elect a leader through a Lease before reconciling (needed with more than one replica).
    #[arg(long, global = true, env = "LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Name of the leader-election Lease.
    #[arg(
        long,
        global = true,
        env = "LEASE_NAME",
        default_value = "kcmf-operator-leader"
    )]
    lease_name: String,
    /// Namespace of the leader-election Lease (defaults to the pod's namespace).
    #[arg(long, global = true, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// Lease duration in seconds.
    #[arg(
        long,
        global = true,
        env = "LEASE_DURATION_SECONDS",
        default_value_t = 15
    )]
    lease_duration: u64,
    /// Identity in the Lease and in Events (defaults to the pod name or host name).
    #[arg(long, global = true, env = "POD_NAME")]
    identity: Option<String>,
    /// Log filter (tracing EnvFilter syntax, e.g. `info` or `kcmf_operator=debug`).
    #[arg(long, global = true, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Log format.
    #[arg(long, global = true, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
    /// Matcher image of a KcmfDeployment whose spec names none.
    #[arg(long, global = true, env = "KCMF_MATCHER_IMAGE", default_value = crd::DEFAULT_MATCHER_IMAGE)]
    matcher_image: String,
    /// Image of managed Redis when the spec names none.
    #[arg(long, global = true, env = "KCMF_REDIS_IMAGE", default_value = crd::DEFAULT_REDIS_IMAGE)]
    redis_image: String,
    /// Image of managed PostgreSQL when the spec names none.
    #[arg(long, global = true, env = "KCMF_POSTGRES_IMAGE", default_value = crd::DEFAULT_POSTGRES_IMAGE)]
    postgres_image: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogFormat {
    Json,
    Text,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Crd => match crd::crd_yaml() {
            Ok(y) => {
                print!("{y}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kcmf-operator: render CRD: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run => match run(cli.run).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!(error = %e, "operator failed");
                ExitCode::FAILURE
            }
        },
    }
}

fn init_tracing(args: &RunArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_tracing(&args);
    let handle = metrics::install()?;
    let ready = Arc::new(AtomicBool::new(false));
    let objects = metrics::Objects::default();
    let state = metrics::ServerState {
        handle,
        ready: ready.clone(),
        objects: objects.clone(),
    };
    let addr = args.metrics_addr;
    tokio::spawn(async move {
        if let Err(e) = metrics::serve(addr, state).await {
            error!(error = %e, %addr, "metrics server failed");
        }
    });

    kcmf_operator::install_crypto_provider();
    let client = Client::try_default().await?;
    ready.store(true, Ordering::Relaxed);
    let identity = args.identity.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kcmf-operator".into());
        format!("{host}-{}", std::process::id())
    });
    let watch_namespace = Some(args.watch_namespace.clone()).filter(|n| !n.is_empty());
    let images = DefaultImages {
        matcher: args.matcher_image.clone(),
        redis: args.redis_image.clone(),
        postgres: args.postgres_image.clone(),
    };
    for (flag, image) in [
        ("--matcher-image", &images.matcher),
        ("--redis-image", &images.redis),
        ("--postgres-image", &images.postgres),
    ] {
        if image.trim().is_empty() {
            anyhow::bail!("{flag} must not be empty");
        }
    }

    if !args.leader_election {
        metrics::set_leader(true);
        controller::run(
            client,
            watch_namespace,
            Some(identity),
            images,
            objects,
            shutdown_signal(),
        )
        .await;
        return Ok(());
    }

    let manager = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
        .with_namespace(&args.lease_namespace)
        .with_identity(&identity)
        .with_duration(args.lease_duration)
        .with_grace(args.lease_duration.div_ceil(3).max(1))
        .build()
        .await?;
    let (mut rx, task) = manager.watch().await;
    info!(lease = %args.lease_name, %identity, "waiting for leadership");
    metrics::set_leader(false);
    tokio::select! {
        res = async {
            while !*rx.borrow_and_update() {
                rx.changed().await?;
            }
            Ok::<(), tokio::sync::watch::error::RecvError>(())
        } => res?,
        _ = shutdown_signal() => {
            drop(rx);
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
            return Ok(());
        }
    }
    info!(%identity, "acquired leadership");
    metrics::set_leader(true);

    let lost = Arc::new(AtomicBool::new(false));
    let lost2 = lost.clone();
    let stop = async move {
        tokio::select! {
            _ = async {
                loop {
                    if rx.changed().await.is_err() || !*rx.borrow() {
                        break;
                    }
                }
            } => { lost2.store(true, Ordering::Relaxed); }
            _ = shutdown_signal() => {}
        }
        // `rx` is dropped here: the lease manager task releases the lease.
    };
    controller::run(
        client,
        watch_namespace,
        Some(identity),
        images,
        objects,
        stop,
    )
    .await;
    metrics::set_leader(false);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    if lost.load(Ordering::Relaxed) {
        anyhow::bail!("lost leadership");
    }
    Ok(())
}

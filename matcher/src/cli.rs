//! The command line: `serve`, `migrate`, `keys create|list|revoke|project` (and the subcommands of
//! the other modules). Parsing only; each command calls into its module.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kcmf-matcher",
    version,
    about = "KcMF schema and entity matching service"
)]
pub struct Cli {
    /// Configuration file (YAML). Without one, embedded defaults plus environment.
    #[arg(long, global = true, env = "KCMF_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API.
    Serve,
    /// Run batch-job workers only (concurrency `matching.max_parallel`).
    Worker,
    /// Apply the store's migrations and exit.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Deduplicate a CSV or JSON file into clusters.
    Dedup(crate::files::DedupFileArgs),
    /// Link two CSV or JSON files.
    Link(crate::files::LinkFileArgs),
    /// Evaluate the engine on labelled data (prints precision, recall, F1; last line `f1=`).
    Eval {
        #[command(subcommand)]
        task: crate::eval::EvalArgs,
    },
    /// Print the effective configuration (secrets masked) and exit.
    Config,
    /// Back up the store, the Redis cache and the configuration; list and verify sets.
    Backup {
        #[command(subcommand)]
        action: crate::backup::cli::BackupCommand,
    },
    /// Restore a backup set (checksums first, maintenance mode, row counts after).
    Restore(crate::backup::cli::RestoreArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// Make it an admin key (may manage keys over the API).
        #[arg(long)]
        admin: bool,
        /// Put it into this project (its keys share their feedback examples).
        #[arg(long)]
        project: Option<String>,
    },
    /// List keys (ids, names, roles, projects, state).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
    /// Move a key into a project (`--project NAME`) or out of any (`--none`). A running
    /// server follows the move on the key's next request.
    Project {
        id: String,
        #[arg(long, conflicts_with = "none", required_unless_present = "none")]
        project: Option<String>,
        /// Take the key out of any project.
        #[arg(long)]
        none: bool,
    },
}

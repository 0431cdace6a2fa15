//! `kcmf-matcher`: the KcMF matching service, its engine, store, cache and CLI.
//!
//! One module per concern: [`config`] (config.yaml + env), [`store`] (sqlx, PostgreSQL or
//! SQLite), [`cache`] (Redis or in-process), [`auth`] and [`ratelimit`] (API keys),
//! [`crypto`] (key hashing, Fernet payloads), [`engine`] (KcMF), [`api`] (HTTP),
//! [`server`] (start-up, graceful shutdown), [`telemetry`] (logs, metrics), [`jobs`] (durable
//! batch jobs), [`backup`] (backups, restore, drills), [`files`] and [`eval`] (file CLIs).

pub mod api;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod error;
pub mod eval;
pub mod feedback;
pub mod files;
pub mod jobs;
pub mod ratelimit;
pub mod recorder;
pub mod records;
pub mod redact;
pub mod requests;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;

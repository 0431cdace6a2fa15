//! `kcmf-matcher`: the KcMF matching service, its engine, store, cache and CLI.
//!
//! # Layout
//!
//! One module per concern. Between these modules dependencies point one way (none imports
//! a module that imports it back): the engine knows nothing of HTTP, jobs nothing of the
//! API, and configuration nothing of the engine.
//!
//! * [`config`]: `config.yaml` and the environment, defaults, validation; the backbone
//!   choice ([`config::BackboneKind`]).
//! * [`engine`]: KcMF itself. [`engine::pipeline`] runs the ensemble (`entity`, `schema`
//!   and `dedup` matching); the embedded backbone and set operations are
//!   [`engine::local`], [`engine::fs`], [`engine::linkage`], [`engine::blocking`],
//!   [`engine::cluster`] (dedup) and [`engine::assign`] (a link's one-to-one choice);
//!   [`engine::labels`] makes labelled examples decide the pairs they
//!   name; LLM backbones [`engine::llm`] and [`engine::gguf`];
//!   [`engine::cancel`] stops work whose request timed out.
//! * [`requests`]: the matching request bodies and their validation (errors name the
//!   field), shared by the API and the jobs; no HTTP.
//! * [`records`]: record files: CSV, truth and schema files read, uploaded CSV/NDJSON
//!   bodies parsed, CSV written; for [`files`], [`eval`] and job uploads.
//! * [`store`] (sqlx: PostgreSQL or SQLite), [`cache`] (Redis or in-process),
//!   [`recorder`] (request log and match history, written off the request path),
//!   [`feedback`] (stored examples, per tenant: a project or a key outside any).
//! * [`auth`] (API-key lookup, project names), [`ratelimit`] (per-key quota), [`crypto`] (key hashing,
//!   Fernet payloads), [`secret`] (`SECRET_KEY` or the development secret's file),
//!   [`redact`] (secrets masked for display).
//! * [`jobs`]: durable batch jobs: submission, [`jobs::queue`], [`jobs::worker`].
//! * [`api`]: HTTP: the router and one module of handlers per concern,
//!   [`api::middleware`] (API key and rate limit), [`api::extract`] (JSON bodies),
//!   [`api::responses`] and [`api::schemas`] (what the OpenAPI document promises);
//!   [`error`] is its error type, [`state`] the state its handlers share.
//! * [`server`] (start-up, graceful shutdown), [`http`] (the accept loop: connection cap,
//!   header-read and idle timeouts), [`telemetry`] (logs, metrics, request
//!   tracking).
//! * [`ui`]: the review web UI at `/ui/` (embedded HTML, CSS and JS modules; the JSON it
//!   needs beyond the job endpoints is [`api::review`]).
//! * [`cli`] (argument parsing), [`files`] (`dedup` and `link` on CSV files), [`eval`]
//!   (`eval em|dedup|sm`; [`eval::report`] renders `--report`'s HTML page), [`backup`]
//!   (backups, restore, drills).
//! * [`charts`]: SVG charts drawn by `plotters`, for the report and the UI's chart
//!   endpoints ([`api::charts`]); plain numbers in, no engine, no HTTP.

pub mod api;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod charts;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod error;
pub mod eval;
pub mod feedback;
pub mod files;
pub mod http;
pub mod jobs;
pub mod ratelimit;
pub mod recorder;
pub mod records;
pub mod redact;
pub mod requests;
pub mod secret;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod ui;

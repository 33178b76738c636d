//! The HTTP side: routes, the slow-start gate, binding and announcing the listener, and serving
//! until a shutdown signal (graceful) or the crash knob (abrupt).
//!
//! Routes:
//! - `GET /health` → 200 `ok`.
//! - `PUT /kv/{key}` with a body of at most [`MAX_VALUE_BYTES`] → 201 if the key is new, 204 if
//!   it was replaced; 413 if the body is larger; 500 if the durable write failed.
//! - `GET /kv/{key}` → 200 with the value, or 404 (after `--get-cost-per-item` × keys held).
//! - `DELETE /kv/{key}` → 204, or 404 if there was no such key.
//! - `GET /kv?prefix=P` → 200 with every key that starts with `P`, one per line (all
//!   keys without `prefix`), for integrity read-backs that look for keys never written.
//! - `GET|PUT /files/{path}` with `--files DIR`: see `files` (safe, or unsafe with
//!   `--files-unsafe`).
//! - `GET /stats` → JSON `{requests, keys, leaked_bytes, cache_bytes}`.
//!
//! During slow start every route answers 503. The fault knobs (`faults`) wrap the `/kv` routes
//! only. Malformed requests get axum's 4xx answers (400, 404, 405, 413).
//!
//! This module does not decide exit codes (`main`) or parse flags (`cli`).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::faults::{self, Faults};
use crate::journal::JournalError;
use crate::knobs::Knobs;
use crate::store::Store;

/// The largest value a PUT may carry.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// How long every route answers 503 after start.
    pub slow_start: Option<Duration>,
    /// The durable mode's data file; `None` keeps writes in memory only.
    pub data_file: Option<PathBuf>,
    /// Faults applied to `/kv` requests.
    pub knobs: Knobs,
    /// The `/files` endpoint (`--files`), off when `None`.
    pub files: Option<crate::files::Files>,
}

/// Why the server stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// SIGTERM or SIGINT: in-flight requests were finished.
    Signal,
    /// The crash knob fired: the caller must exit at once.
    Crash,
}

/// Why the server could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The tokio runtime could not be built.
    #[error("could not start the async runtime")]
    Runtime(#[source] io::Error),
    /// The data file could not be opened or replayed.
    #[error("could not load the data file")]
    DataFile(#[source] JournalError),
    /// Loading the data file was interrupted.
    #[error("loading the data file stopped unexpectedly")]
    DataFileTask(#[source] tokio::task::JoinError),
    /// The listen address could not be bound.
    #[error("could not listen on {addr}; pick a free port or use port 0")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// The `listening on` line could not be written.
    #[error("could not announce the listening address on stdout")]
    Announce(#[source] io::Error),
    /// Signal handlers could not be installed.
    #[error("could not install the SIGTERM/SIGINT handlers")]
    Signals(#[source] io::Error),
    /// The accept loop failed.
    #[error("the server stopped with an I/O error")]
    Serve(#[source] io::Error),
}

/// Builds the multi-threaded runtime with `threads` workers.
pub fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)
}

/// Loads the store, binds, prints `listening on ADDR`, and serves until a signal or a crash.
pub async fn run(config: Config) -> Result<Stopped, ServerError> {
    let started = Instant::now();
    let store = Arc::new(open_store(config.data_file).await?);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;
    let shutdown = shutdown_signal()?;
    announce(local).map_err(ServerError::Announce)?;

    let crash = Arc::new(Notify::new());
    let state = AppState {
        store,
        faults: Arc::new(Faults::new(config.knobs, Arc::clone(&crash))),
        ready_at: started + config.slow_start.unwrap_or_default(),
    };
    let mut app = router(state);
    if let Some(files) = config.files {
        app = app.merge(crate::files::router(files));
    }
    let serve = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    tokio::select! {
        served = std::future::IntoFuture::into_future(serve) => {
            served.map(|()| Stopped::Signal).map_err(ServerError::Serve)
        }
        () = crash.notified() => Ok(Stopped::Crash),
    }
}

/// Opens the store the config asks for; replaying a data file blocks, so it runs off the workers.
async fn open_store(data_file: Option<PathBuf>) -> Result<Store, ServerError> {
    match data_file {
        None => Ok(Store::in_memory()),
        Some(path) => tokio::task::spawn_blocking(move || Store::durable(&path))
            .await
            .map_err(ServerError::DataFileTask)?
            .map_err(ServerError::DataFile),
    }
}

/// Prints the one line a supervisor waits for, and flushes it.
fn announce(local: SocketAddr) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {local}")?;
    stdout.flush()
}

/// Installs SIGTERM and SIGINT handlers now; the returned future resolves on the first signal.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, ServerError> {
    let mut term = signal(SignalKind::terminate()).map_err(ServerError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServerError::Signals)?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// State shared by every route.
#[derive(Debug, Clone)]
struct AppState {
    store: Arc<Store>,
    faults: Arc<Faults>,
    /// Before this instant every route answers 503.
    ready_at: Instant,
}

/// The full router: `/kv` behind the fault knobs, everything behind the slow-start gate.
fn router(state: AppState) -> Router {
    let kv = Router::new()
        .route("/kv/{key}", get(get_kv).put(put_kv).delete(delete_kv))
        .route("/kv", get(list_kv))
        .layer(DefaultBodyLimit::max(MAX_VALUE_BYTES))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state.faults),
            faults::apply,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/stats", get(stats))
        .merge(kv)
        .layer(middleware::from_fn_with_state(state.clone(), slow_start))
        .with_state(state)
}

/// Answers 503 until the slow start is over.
async fn slow_start(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if Instant::now() < state.ready_at {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response();
    }
    next.run(request).await
}

/// `GET /health`.
async fn health() -> &'static str {
    "ok\n"
}

/// The body of `GET /stats`.
#[derive(Debug, Serialize)]
struct Stats {
    /// `/kv` requests received since start (after slow start).
    requests: u64,
    /// Keys currently stored.
    keys: usize,
    /// Bytes retained by `--leak-per-request`.
    leaked_bytes: u64,
    /// Bytes retained by `--cache-bytes`.
    cache_bytes: u64,
}

/// `GET /stats`.
async fn stats(State(state): State<AppState>) -> Json<Stats> {
    let faults = state.faults.stats();
    Json(Stats {
        requests: faults.requests,
        keys: state.store.len(),
        leaked_bytes: faults.leaked_bytes,
        cache_bytes: faults.cache_bytes,
    })
}

/// `GET /kv/{key}`.
async fn get_kv(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let cost = state.faults.knobs().get_cost(state.store.len());
    if !cost.is_zero() {
        tokio::time::sleep(cost).await;
    }
    match state.store.get(&key) {
        Some(value) => (
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            value,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// The query of `GET /kv`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// Only keys that start with this.
    #[serde(default)]
    prefix: String,
}

/// `GET /kv?prefix=P`: matching keys, one per line.
async fn list_kv(State(state): State<AppState>, Query(query): Query<ListQuery>) -> String {
    let mut keys = state.store.keys_with_prefix(&query.prefix);
    keys.sort_unstable();
    keys.iter().fold(String::new(), |mut out, key| {
        out.push_str(key);
        out.push('\n');
        out
    })
}

/// `PUT /kv/{key}`.
async fn put_kv(State(state): State<AppState>, Path(key): Path<String>, body: Bytes) -> Response {
    let store = Arc::clone(&state.store);
    match write(&state.store, move || store.put(key, body)).await {
        Ok(true) => StatusCode::CREATED.into_response(),
        Ok(false) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

/// `DELETE /kv/{key}`.
async fn delete_kv(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let store = Arc::clone(&state.store);
    match write(&state.store, move || store.delete(&key)).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(response) => response,
    }
}

/// Runs a store write: inline in memory mode, on a blocking thread in durable mode (it syncs to
/// disk). A failure becomes a 500 that says the write was not kept.
async fn write<F>(store: &Store, op: F) -> Result<bool, Response>
where
    F: FnOnce() -> Result<bool, JournalError> + Send + 'static,
{
    let result = if store.is_durable() {
        match tokio::task::spawn_blocking(op).await {
            Ok(result) => result,
            Err(_) => return Err(failed_write("the write task stopped unexpectedly")),
        }
    } else {
        op()
    };
    result.map_err(|e| failed_write(&e.to_string()))
}

/// A 500 for a write that was not kept.
fn failed_write(reason: &str) -> Response {
    let message = format!("write not kept: {reason}\n");
    (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
}

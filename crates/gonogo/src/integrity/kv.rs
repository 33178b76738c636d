//! The vocabulary of an integrity phase's reads and writes, and the contract its
//! sessions keep.
//!
//! Owns: [`KvError`], and re-exports [`ReadOutcome`] (defined beside `load`'s
//! [`KeyValue`](crate::load::KeyValue), the trait each protocol implements). Does
//! not own: scheduling writes, the ledger, or judging the results.
//!
//! Contract of a [`KvSession`](super::session::KvSession) over any protocol:
//!
//! ```text
//! async fn connect_patiently(workloads: PhaseWorkloads, port: u16, patience: Duration) -> Result<Self, KvError>;
//! async fn write(&mut self, key: &str, value: &str) -> WriteOutcome;
//! async fn read(&mut self, key: &str) -> ReadOutcome;
//! /// Keys that start with `prefix`, or `Ok(None)` when the protocol has no way to list.
//! async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError>;
//! ```
//!
//! Timeouts are applied by the caller around each call (a write cut short by its
//! timeout is [`WriteOutcome::Indeterminate`](crate::model::WriteOutcome)); a session
//! reconnects by itself on the next call after its connection broke or a call was
//! cut short, and a write whose connect fails is failed (nothing was sent).

pub use crate::load::ReadOutcome;
use crate::load::RequestBuildError;

/// A session could not be set up or a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("integrity workload {workload}: {reason}")]
    Setup { workload: String, reason: String },
    #[error("integrity {0}")]
    Build(RequestBuildError),
    #[error("cannot connect to {target}: {reason} (is the service up on that port?)")]
    Connect { target: String, reason: String },
    #[error("listing keys failed: {0}")]
    List(String),
}

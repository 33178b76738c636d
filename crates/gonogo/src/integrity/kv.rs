//! The key-value operations an integrity phase needs from a service, per protocol.
//!
//! Owns: the shared vocabulary of write and read outcomes, and the contract every
//! protocol's client keeps (HTTP here; Redis and PostgreSQL in sibling files).
//! Does not own: scheduling writes, the ledger, or judging the results.
//!
//! Contract for every protocol client (`HttpKv`, `RedisKv`, `PostgresKv`), each
//! built from the phase's write and read workloads (their templates carry `{key}`
//! and `{value}`) and the service's port:
//!
//! ```text
//! async fn connect(write: &WorkloadPlan, read: &WorkloadPlan, port: u16) -> Result<Self, KvError>;
//! async fn write(&mut self, key: &str, value: &str) -> WriteOutcome;
//! async fn read(&mut self, key: &str) -> ReadOutcome;
//! /// Keys that start with `prefix`, or `Ok(None)` when the protocol has no way to list.
//! async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError>;
//! ```
//!
//! Timeouts are applied by the caller around each call (a write cut short by its
//! timeout is [`WriteOutcome::Indeterminate`]); a client reconnects by itself on the
//! next call after its connection broke.

/// What one read of a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The key holds this value.
    Found(Vec<u8>),
    /// The service says the key does not exist (404, nil, no row).
    Missing,
    /// The read itself failed (connection error, error answer): nothing is known.
    Error(String),
}

/// A client could not be set up or a listing failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("integrity workload {workload}: {reason}")]
    Setup { workload: String, reason: String },
    #[error("cannot connect to {target}: {reason} (is the service up on that port?)")]
    Connect { target: String, reason: String },
    #[error("listing keys failed: {0}")]
    List(String),
}

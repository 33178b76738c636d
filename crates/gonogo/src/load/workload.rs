//! The one [`Workload`] trait: connect, send one operation, classify its outcome;
//! and its [`KeyValue`] extension: write a given key and value, read a key back,
//! list keys by prefix, for integrity phases.
//!
//! Owns: the contract every protocol keeps (HTTP here, in [`HttpTarget`]; Redis in
//! `redis`, PostgreSQL in `postgres`, each behind its cargo feature), [`attempt`],
//! the connect-if-needed-then-send step that the worker loop (`worker`: steady,
//! ramp, soak and scaling steps) and the scaling loader (`fill`) both run, and
//! [`with_key_value`], which picks a workload's [`KeyValue`] once, and
//! [`PhaseWorkloads`], the workloads an integrity phase names. Does not own:
//! timing, timeouts or recording (the callers'), nor integrity's keys, ledger and
//! sessions (`integrity`, generic over [`KeyValue`]).
//!
//! Each implementation has its own connection type; callers are generic over the
//! trait and monomorphised per protocol, so the HTTP path has no dynamic dispatch,
//! boxing or allocation per request.
//!
//! [`KeyValue`] outcomes, per protocol: a write answered as the protocol's success
//! is [`WriteOutcome::Acknowledged`] (HTTP: one of `expect_status`; Redis: any reply
//! but an error reply; PostgreSQL: the statement completed, which in autocommit is
//! its commit); an answer that refuses it is `Failed` (another status, an error
//! reply, a database error of severity ERROR); a connection lost after sending (or
//! a PostgreSQL FATAL error) is `Indeterminate`. A connect that fails before
//! anything is sent is the caller's to call `Failed`. A read is found (HTTP: the
//! body of an expected status; Redis: a bulk or simple string, or an integer as
//! text; PostgreSQL: the first row's first column, as the server sends it), missing
//! (HTTP 404, `nil`, no row or NULL) or an error.

use std::fmt::Display;
use std::future::Future;

use rand::rngs::SmallRng;

use rand::Rng;

use super::http::{Connection, RequestError};
use super::recorder::RequestOutcome;
use super::request::{KvFill, RequestBuildError, RequestFactory};
use crate::model::WriteOutcome;
use crate::plan::{PhasePlan, Plan, Protocol, WorkloadPlan};

/// Largest response body a key-value read keeps (a value, or a key listing); a
/// larger one is an error, so a hostile service cannot make gonogo hold an
/// unbounded answer.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What one operation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub outcome: RequestOutcome,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The protocol's status where it has one (HTTP), else 0.
    pub status: u16,
    /// Whether the connection can take the next operation.
    pub keep: bool,
}

impl Sent {
    /// Nothing was exchanged: `outcome`, and the connection is not kept.
    pub fn failed(outcome: RequestOutcome) -> Self {
        Sent {
            outcome,
            bytes_sent: 0,
            bytes_received: 0,
            status: 0,
            keep: false,
        }
    }
}

/// A connection that could not be made: its outcome and the protocol's error.
#[derive(Debug)]
pub struct Refused<E> {
    pub outcome: RequestOutcome,
    pub error: E,
}

/// One protocol's workload, bound to the service's port.
pub trait Workload: Send + Sync + 'static {
    /// One worker's connection.
    type Conn: Send + 'static;
    /// Why a connect failed (formatted only when someone asks why).
    type Error: Display + Send;

    /// Open a connection.
    fn connect(&self) -> impl Future<Output = Result<Self::Conn, Refused<Self::Error>>> + Send;

    /// Whether a kept connection can take another operation.
    fn usable(conn: &mut Self::Conn) -> bool;

    /// Send the workload's next operation (fresh `{key}`, `{seq}`, `{random}`) on
    /// `conn` and classify the answer.
    fn send(
        &self,
        conn: &mut Self::Conn,
        rng: &mut SmallRng,
        scratch: &mut Vec<u8>,
    ) -> impl Future<Output = Sent> + Send;

    /// Let the next operation's `{seq}` be `seq` (and count on from there).
    fn start_seq_at(&self, seq: u64);

    /// Bytes written and read so far for the operation in progress on `conn`, for
    /// one cut short by the caller's deadline; `(0, 0)` where the protocol does not
    /// count bytes.
    fn moved(_conn: &Self::Conn) -> (u64, u64) {
        (0, 0)
    }
}

/// One operation on `conn`, connecting first when there is no usable connection;
/// a connection the operation broke is dropped. A failed connect is returned as
/// `Err` (its outcome and error), so a caller can say why.
pub async fn attempt<W: Workload>(
    workload: &W,
    conn: &mut Option<W::Conn>,
    rng: &mut SmallRng,
    scratch: &mut Vec<u8>,
) -> Result<Sent, Refused<W::Error>> {
    if !conn.as_mut().is_some_and(W::usable) {
        *conn = None;
        *conn = Some(workload.connect().await?);
    }
    let Some(connection) = conn.as_mut() else {
        return Ok(Sent::failed(RequestOutcome::ConnectError));
    };
    let sent = workload.send(connection, rng, scratch).await;
    if !sent.keep {
        *conn = None;
    }
    Ok(sent)
}

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

/// The write, read and list workloads of an integrity phase.
#[derive(Debug, Clone, Copy)]
pub struct PhaseWorkloads<'a> {
    pub write: &'a WorkloadPlan,
    pub read: &'a WorkloadPlan,
    pub list: Option<&'a WorkloadPlan>,
}

impl<'a> PhaseWorkloads<'a> {
    /// The workloads `phase` names; `None` when it is not an integrity phase of `plan`.
    pub fn of(plan: &'a Plan, phase: &PhasePlan) -> Option<Self> {
        let integrity = phase.integrity?;
        Some(PhaseWorkloads {
            write: plan.workloads.get(*phase.workloads.first()?)?,
            read: plan.workloads.get(integrity.read)?,
            list: match integrity.list {
                Some(index) => Some(plan.workloads.get(index)?),
                None => None,
            },
        })
    }
}

/// Keys that start with a prefix; `Ok(None)` where the target cannot list.
pub type Listed = Result<Option<Vec<String>>, String>;

/// What one key-value operation came to, and whether its connection can be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    pub outcome: T,
    pub keep: bool,
}

impl<T> Answer<T> {
    pub fn kept(outcome: T) -> Self {
        Answer {
            outcome,
            keep: true,
        }
    }

    pub fn dropped(outcome: T) -> Self {
        Answer {
            outcome,
            keep: false,
        }
    }
}

/// A [`Workload`] that also reads and writes given keys: what integrity phases need.
/// The operation's templates are the target's own (`{key}` and `{value}` filled in),
/// so an integrity phase has a target for its write workload, one for its read
/// workload and, where the protocol can list, a lister; all share the write
/// target's connections.
pub trait KeyValue: Workload + Sized {
    /// Whether a session connects as it is set up (a refused connect is then its
    /// setup error); otherwise the first operation connects.
    const CONNECTS_AT_SETUP: bool;

    /// This protocol's target for `workload`; an error if it speaks another.
    fn build(
        workload: &WorkloadPlan,
        port: u16,
    ) -> impl Future<Output = Result<Self, RequestBuildError>> + Send;

    /// The target that lists an integrity phase's keys, `None` where there is no way.
    fn lister(
        workloads: PhaseWorkloads<'_>,
        port: u16,
    ) -> impl Future<Output = Result<Option<Self>, RequestBuildError>> + Send;

    /// Where the target connects, for messages.
    fn server(&self) -> String;

    /// Whether a kept connection can take a key-value operation.
    fn kv_usable(conn: &mut Self::Conn) -> bool {
        Self::usable(conn)
    }

    /// Write `value` at `key` with this target's operation.
    fn write(
        &self,
        conn: &mut Self::Conn,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Answer<WriteOutcome>> + Send;

    /// Read `key` with this target's operation.
    fn read(
        &self,
        conn: &mut Self::Conn,
        key: &str,
    ) -> impl Future<Output = Answer<ReadOutcome>> + Send;

    /// The keys that start with `prefix`, by this target's listing.
    fn list(
        &self,
        conn: &mut Self::Conn,
        prefix: &str,
    ) -> impl Future<Output = Answer<Listed>> + Send;
}

/// Work done with one protocol's [`KeyValue`], picked by [`with_key_value`].
pub trait KvJob: Send {
    type Output;
    fn run<K: KeyValue>(self) -> impl Future<Output = Self::Output> + Send;
}

/// Run `job` with the [`KeyValue`] of `workload`'s protocol, monomorphised;
/// `None` when this gonogo was built without that protocol.
pub async fn with_key_value<J: KvJob>(workload: &WorkloadPlan, job: J) -> Option<J::Output> {
    match workload.protocol {
        Protocol::Http => Some(job.run::<HttpTarget>().await),
        #[cfg(feature = "redis")]
        Protocol::Redis { .. } => Some(job.run::<super::redis::RedisTarget>().await),
        #[cfg(feature = "postgres")]
        Protocol::Postgres { .. } => Some(job.run::<super::postgres::PostgresTarget>().await),
        // The plan refuses a protocol this binary was built without.
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// `workload` speaks another protocol than `wanted`.
pub(super) fn other_protocol(workload: &WorkloadPlan, wanted: &str) -> RequestBuildError {
    RequestBuildError::Invalid {
        workload: workload.name.clone(),
        what: "protocol".to_string(),
        reason: format!(
            "speaks {}, but the other integrity workload speaks {wanted}; use one protocol for both",
            workload.protocol.as_str()
        ),
    }
}

/// A `list` workload beside a protocol that lists keys by itself.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(super) fn lists_by_itself(workloads: PhaseWorkloads<'_>) -> Result<(), RequestBuildError> {
    let write = workloads.write;
    match workloads.list {
        None => Ok(()),
        Some(_) => Err(RequestBuildError::Invalid {
            workload: write.name.clone(),
            what: "integrity phase".to_string(),
            reason: format!(
                "a `list` workload lists keys over HTTP only; {} lists keys by itself (drop `list` from the phase)",
                write.protocol.as_str()
            ),
        }),
    }
}

/// An HTTP/1.1 workload: its request factory and the statuses counted as `ok`.
#[derive(Debug)]
pub struct HttpTarget {
    pub factory: RequestFactory,
    pub port: u16,
    pub expect_status: Vec<u16>,
}

impl HttpTarget {
    /// One key-value operation's request on `conn`; its status, the body kept in
    /// `body` when one is given. `{seq}` is the number at the end of `key`.
    async fn exchange_kv(
        &self,
        conn: &mut Connection,
        fill: (&str, &str),
        body: Option<&mut Vec<u8>>,
    ) -> Result<u16, RequestError> {
        let (key, value) = fill;
        let numbers = Some((seq_in(key), rand::rng().random()));
        let mut request = Vec::new();
        let fill = KvFill {
            key,
            value,
            numbers,
        };
        self.factory.kv_request(self.port, fill, &mut request);
        let head = self.factory.is_head();
        let done = match body {
            None => conn.send(&request, head).await?,
            Some(body) => {
                conn.send_keeping_body(&request, head, body, MAX_BODY)
                    .await?
            }
        };
        Ok(done.status)
    }
}

/// The number at the end of a key (`gng-<token>-<seq>`), for `{seq}`; 0 otherwise.
fn seq_in(key: &str) -> u64 {
    key.rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl KeyValue for HttpTarget {
    const CONNECTS_AT_SETUP: bool = false;

    async fn build(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        if !matches!(workload.protocol, Protocol::Http) {
            return Err(other_protocol(workload, "http"));
        }
        Ok(HttpTarget {
            factory: RequestFactory::new(workload, port).await?,
            port,
            expect_status: workload.expect_status.clone(),
        })
    }

    /// The `list` workload: a GET whose body lists keys, one per line.
    async fn lister(
        workloads: PhaseWorkloads<'_>,
        port: u16,
    ) -> Result<Option<Self>, RequestBuildError> {
        match workloads.list {
            Some(list) => Self::build(list, port).await.map(Some),
            None => Ok(None),
        }
    }

    fn server(&self) -> String {
        self.factory.addr.to_string()
    }

    async fn write(&self, conn: &mut Connection, key: &str, value: &str) -> Answer<WriteOutcome> {
        match self.exchange_kv(conn, (key, value), None).await {
            Ok(status) if self.expect_status.contains(&status) => {
                Answer::kept(WriteOutcome::Acknowledged)
            }
            Ok(_) => Answer::kept(WriteOutcome::Failed),
            Err(_) => Answer::dropped(WriteOutcome::Indeterminate),
        }
    }

    /// 404 is missing, an expected status is the body, anything else an error.
    async fn read(&self, conn: &mut Connection, key: &str) -> Answer<ReadOutcome> {
        let mut body = Vec::new();
        match self.exchange_kv(conn, (key, ""), Some(&mut body)).await {
            Ok(404) => Answer::kept(ReadOutcome::Missing),
            Ok(status) if self.expect_status.contains(&status) => {
                Answer::kept(ReadOutcome::Found(body))
            }
            Ok(status) => Answer::kept(ReadOutcome::Error(format!("status {status}"))),
            Err(err) => Answer::dropped(ReadOutcome::Error(err.to_string())),
        }
    }

    /// The request with `{key}` as the prefix; the lines of a 2xx body that start
    /// with the prefix.
    async fn list(&self, conn: &mut Connection, prefix: &str) -> Answer<Listed> {
        let mut body = Vec::new();
        match self.exchange_kv(conn, (prefix, ""), Some(&mut body)).await {
            Ok(status) if (200..300).contains(&status) => Answer::kept(Ok(Some(
                String::from_utf8_lossy(&body)
                    .lines()
                    .map(str::trim)
                    .filter(|k| k.starts_with(prefix))
                    .map(str::to_string)
                    .collect(),
            ))),
            Ok(status) => Answer::kept(Err(format!("the listing answered {status}"))),
            Err(err) => Answer::dropped(Err(err.to_string())),
        }
    }
}

impl Workload for HttpTarget {
    type Conn = Connection;
    type Error = RequestError;

    async fn connect(&self) -> Result<Connection, Refused<RequestError>> {
        Connection::open(self.factory.addr)
            .await
            .map_err(|error| Refused {
                outcome: error.outcome(),
                error,
            })
    }

    fn usable(conn: &mut Connection) -> bool {
        conn.is_usable()
    }

    async fn send(&self, conn: &mut Connection, rng: &mut SmallRng, scratch: &mut Vec<u8>) -> Sent {
        let request = self.factory.request(self.port, rng, scratch);
        match conn.send(request, self.factory.is_head()).await {
            Ok(done) => Sent {
                outcome: if self.expect_status.contains(&done.status) {
                    RequestOutcome::Ok
                } else {
                    RequestOutcome::StatusMismatch
                },
                bytes_sent: done.bytes_sent,
                bytes_received: done.bytes_received,
                status: done.status,
                keep: true,
            },
            Err(err) => {
                // What crossed the socket before the error still counts.
                let (bytes_sent, bytes_received) = conn.moved();
                Sent {
                    bytes_sent,
                    bytes_received,
                    ..Sent::failed(err.outcome())
                }
            }
        }
    }

    fn start_seq_at(&self, seq: u64) {
        self.factory.start_seq_at(seq);
    }

    fn moved(conn: &Connection) -> (u64, u64) {
        conn.moved()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_is_the_number_at_the_end_of_a_key() {
        assert_eq!(seq_in("gng-0badcafe-42"), 42);
        assert_eq!(seq_in("gng-0badcafe-"), 0, "a listing's prefix");
        assert_eq!(seq_in("it:1"), 0);
    }

    #[test]
    fn answers_say_whether_the_connection_is_kept() {
        assert!(Answer::kept(ReadOutcome::Missing).keep);
        assert!(!Answer::dropped(WriteOutcome::Indeterminate).keep);
    }
}

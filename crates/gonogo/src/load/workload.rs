//! The one [`Workload`] trait: connect, send one operation, classify its outcome.
//!
//! Owns: the contract every protocol keeps (HTTP here, in [`HttpTarget`]; Redis in
//! `redis`, PostgreSQL in `postgres`, each behind its cargo feature), and
//! [`attempt`], the connect-if-needed-then-send step that the worker loop
//! (`worker`: steady, ramp, soak and scaling steps) and the scaling loader (`fill`)
//! both run. Does not own: timing, timeouts or recording (the callers'), nor
//! integrity reads and writes (`integrity`, whose clients reuse each protocol's
//! connect and classification).
//!
//! Each implementation has its own connection type; callers are generic over the
//! trait and monomorphised per protocol, so the HTTP path has no dynamic dispatch,
//! boxing or allocation per request.

use std::fmt::Display;
use std::future::Future;

use rand::rngs::SmallRng;

use super::http::{Connection, RequestError};
use super::recorder::RequestOutcome;
use super::request::RequestFactory;

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

/// An HTTP/1.1 workload: its request factory and the statuses counted as `ok`.
#[derive(Debug)]
pub struct HttpTarget {
    pub factory: RequestFactory,
    pub port: u16,
    pub expect_status: Vec<u16>,
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
            Err(err) => Sent::failed(err.outcome()),
        }
    }

    fn start_seq_at(&self, seq: u64) {
        self.factory.start_seq_at(seq);
    }
}

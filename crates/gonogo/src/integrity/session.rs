//! [`KvSession`]: one connection's integrity reads and writes, over any protocol's
//! [`KeyValue`] (monomorphised, like the load driver's worker loop).
//!
//! Owns: the phase's targets ([`KvTargets`]: its write, read and list workloads
//! built once for the service's port), connecting (patiently, while a server that
//! is still starting refuses), opening the connection again after it broke or after
//! a call was cut short by the caller's timeout, and calling a write whose connect
//! failed [`WriteOutcome::Failed`] (nothing was sent). Does not own: any protocol's
//! mechanics or outcome mapping (`load`'s [`KeyValue`] implementations).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::kv::{KvError, ReadOutcome};
use crate::load::{KeyValue, PhaseWorkloads, Refused, RequestBuildError};
use crate::model::WriteOutcome;

/// The pause between connection attempts of a patient connect.
const CONNECT_RETRY: Duration = Duration::from_millis(100);

/// An integrity phase's targets against the service's port. Every session
/// connects with the write target (the plan checks that the others reach the same
/// server).
#[derive(Debug)]
pub struct KvTargets<K> {
    pub write: K,
    pub read: K,
    /// The lister, where the protocol (or the phase) has one.
    pub list: Option<K>,
}

impl<K: KeyValue> KvTargets<K> {
    /// Build the targets once; a host that does not resolve is a connect error.
    pub async fn new(workloads: PhaseWorkloads<'_>, port: u16) -> Result<Self, KvError> {
        Ok(KvTargets {
            write: K::build(workloads.write, port).await.map_err(built)?,
            read: K::build(workloads.read, port).await.map_err(built)?,
            list: K::lister(workloads, port).await.map_err(built)?,
        })
    }
}

fn built(err: RequestBuildError) -> KvError {
    match err {
        RequestBuildError::Resolve {
            authority, reason, ..
        } => KvError::Connect {
            target: authority,
            reason,
        },
        other => KvError::Build(other),
    }
}

/// Call `attempt` until it is not a connect error or `patience` has passed.
async fn patiently<T, F: Future<Output = Result<T, KvError>>>(
    patience: Duration,
    mut attempt: impl FnMut() -> F,
) -> Result<T, KvError> {
    let deadline = Instant::now() + patience;
    loop {
        match attempt().await {
            Err(KvError::Connect { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(CONNECT_RETRY).await;
            }
            done => return done,
        }
    }
}

/// One connection's integrity operations (see the contract in [`super::kv`]).
#[derive(Debug)]
pub struct KvSession<K: KeyValue> {
    targets: Arc<KvTargets<K>>,
    conn: Option<K::Conn>,
    /// True while a call is under way; still true at the next call when the
    /// caller's timeout cut the last one short, whose connection is then dropped.
    busy: bool,
}

impl<K: KeyValue> KvSession<K> {
    /// A session on `targets`, connected now where the protocol connects at setup
    /// (trying again every 100 ms while the service refuses, until `patience` has
    /// passed: a server started again after a kill may still be replaying its log).
    pub async fn open(targets: Arc<KvTargets<K>>, patience: Duration) -> Result<Self, KvError> {
        let conn = if K::CONNECTS_AT_SETUP {
            let connect = || async {
                targets
                    .write
                    .connect()
                    .await
                    .map_err(|refused| KvError::Connect {
                        target: targets.write.server(),
                        reason: refused.error.to_string(),
                    })
            };
            Some(patiently(patience, connect).await?)
        } else {
            None
        };
        Ok(KvSession {
            targets,
            conn,
            busy: false,
        })
    }

    /// `count` sessions on targets built once, each opened with `patience`.
    pub async fn many(
        workloads: PhaseWorkloads<'_>,
        port: u16,
        count: usize,
        patience: Duration,
    ) -> Result<Vec<Self>, KvError> {
        let targets = patiently(patience, || KvTargets::new(workloads, port)).await?;
        let targets = Arc::new(targets);
        let mut sessions = Vec::with_capacity(count);
        for _ in 0..count {
            sessions.push(Self::open(Arc::clone(&targets), patience).await?);
        }
        Ok(sessions)
    }

    /// Build the phase's targets and [`KvSession::open`] a session on them.
    pub async fn connect_patiently(
        workloads: PhaseWorkloads<'_>,
        port: u16,
        patience: Duration,
    ) -> Result<Self, KvError> {
        let targets = patiently(patience, || KvTargets::new(workloads, port)).await?;
        Self::open(Arc::new(targets), patience).await
    }

    /// Write `value` at `key` with the write workload.
    pub async fn write(&mut self, key: &str, value: &str) -> WriteOutcome {
        let targets = &*self.targets;
        match ready(&mut self.conn, &mut self.busy, &targets.write).await {
            Ok(conn) => {
                let answer = targets.write.write(conn, key, value).await;
                self.settle(answer.outcome, answer.keep)
            }
            // Nothing was sent.
            Err(_) => self.settle(WriteOutcome::Failed, false),
        }
    }

    /// Read `key` with the read workload.
    pub async fn read(&mut self, key: &str) -> ReadOutcome {
        let targets = &*self.targets;
        match ready(&mut self.conn, &mut self.busy, &targets.write).await {
            Ok(conn) => {
                let answer = targets.read.read(conn, key).await;
                self.settle(answer.outcome, answer.keep)
            }
            Err(refused) => {
                let why = self.refusal(&refused);
                self.settle(ReadOutcome::Error(why), false)
            }
        }
    }

    /// Keys starting with `prefix`, or `Ok(None)` when there is no way to list.
    pub async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError> {
        let targets = &*self.targets;
        let Some(lister) = &targets.list else {
            return Ok(None);
        };
        let listed = match ready(&mut self.conn, &mut self.busy, &targets.write).await {
            Ok(conn) => {
                let answer = lister.list(conn, prefix).await;
                self.settle(answer.outcome, answer.keep)
            }
            Err(refused) => {
                let why = self.refusal(&refused);
                self.settle(Err(why), false)
            }
        };
        listed.map_err(KvError::List)
    }

    /// The call is over: drop a connection it broke, and hand back its outcome.
    fn settle<T>(&mut self, outcome: T, keep: bool) -> T {
        self.busy = false;
        if !keep {
            self.conn = None;
        }
        outcome
    }

    fn refusal(&self, refused: &Refused<K::Error>) -> String {
        let server = self.targets.write.server();
        format!("cannot connect to {server}: {}", refused.error)
    }
}

/// The session's connection, opened again when there is none, it cannot take an
/// operation, or the last call was cut short.
async fn ready<'c, K: KeyValue>(
    conn: &'c mut Option<K::Conn>,
    busy: &mut bool,
    target: &K,
) -> Result<&'c mut K::Conn, Refused<K::Error>> {
    if std::mem::replace(busy, true) {
        // The last call was cut short mid-exchange: its connection is unusable.
        *conn = None;
    }
    if !conn.as_mut().is_some_and(K::kv_usable) {
        *conn = None;
    }
    let kept = match conn.take() {
        Some(kept) => kept,
        None => target.connect().await?,
    };
    Ok(conn.insert(kept))
}

//! The one worker loop: take the next ticket from the schedule, wait until it is
//! due, send it on this worker's connection, record the result. The schedule and the
//! stop condition are values ([`Schedule`]); open and closed models share this code.
//!
//! Each worker runs on one of the load runtimes (one thread each) and records into
//! that runtime's shard of the recorder and counters, so workers on different cores
//! never contend on a lock or a cache line per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::time::Sleep;

use super::recorder::{Recorder, RequestOutcome, RequestResult};
use super::request::RequestBuildError;
use super::schedule::Schedule;
use super::timer::PreciseTimer;
use super::workload::{HttpTarget, KeyValue, Sent, Workload, attempt};
use crate::plan::{Protocol, WorkloadPlan};

/// Pause after a failed connect in the closed model, so a dead service does not
/// turn the driver into a busy loop of refused connections.
const CLOSED_CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// Per-runtime counters, each on its own cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct ShardCounters {
    pub abandoned: AtomicU64,
    pub in_flight: AtomicU64,
}

/// Everything the workers of one workload share.
#[derive(Debug)]
pub struct WorkloadRun {
    pub schedule: Schedule,
    pub recorder: Recorder,
    pub target: Target,
    pub timeout: Duration,
    /// No request outlives this instant (schedule end + drain); one cut short by it
    /// is a timeout and counts as abandoned.
    pub hard_deadline: Instant,
    /// One per load runtime, indexed by the worker's shard.
    pub counters: Vec<ShardCounters>,
}

impl WorkloadRun {
    /// Requests in flight right now, over every runtime.
    pub fn in_flight(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.in_flight.load(Ordering::Relaxed))
            .sum()
    }

    /// Requests cut short at the hard deadline, plus those still in flight.
    pub fn abandoned(&self) -> u64 {
        let cut_short: u64 = self
            .counters
            .iter()
            .map(|c| c.abandoned.load(Ordering::Relaxed))
            .sum();
        cut_short + self.in_flight()
    }
}

/// Where a workload's requests go and how they are made: one [`Workload`] per
/// protocol, picked once per worker.
#[derive(Debug)]
pub enum Target {
    Http(HttpTarget),
    #[cfg(feature = "redis")]
    Redis(super::redis::RedisTarget),
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::PostgresTarget),
}

impl Target {
    /// Check `workload`'s templates against `port` (and resolve an HTTP address).
    pub async fn new(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        Ok(match &workload.protocol {
            Protocol::Http => Target::Http(HttpTarget::build(workload, port).await?),
            #[cfg(feature = "redis")]
            Protocol::Redis { .. } => {
                Target::Redis(super::redis::RedisTarget::build(workload, port).await?)
            }
            #[cfg(feature = "postgres")]
            Protocol::Postgres { .. } => {
                Target::Postgres(super::postgres::PostgresTarget::build(workload, port).await?)
            }
            // The plan refuses a protocol this binary was built without.
            #[allow(unreachable_patterns)]
            other => {
                return Err(RequestBuildError::Invalid {
                    workload: workload.name.clone(),
                    what: format!("protocol {}", other.as_str()),
                    reason: format!(
                        "this gonogo was built without the `{}` feature",
                        other.as_str()
                    ),
                });
            }
        })
    }
}

/// Wait until `due`, on the runtime's precise timer when there is one.
async fn wait_until(timer: Option<&PreciseTimer>, due: Instant) {
    match timer {
        Some(timer) => timer.sleep_until(due).await,
        None => tokio::time::sleep_until(due.into()).await,
    }
}

/// `operation`'s output, or `None` once `deadline` (a pinned sleep, already reset)
/// has passed. The deadline is polled outside tokio's cooperative budget: a socket
/// that is always readable (a fast endless body, endless interim responses) spends
/// the task's whole budget in the operation at every poll, and a budgeted timer polled
/// after it would then never see its deadline pass.
async fn before<F: Future>(deadline: Pin<&mut Sleep>, operation: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        output = operation => Some(output),
        () = tokio::task::unconstrained(deadline) => None,
    }
}

/// Run until the schedule is exhausted or the hard deadline passes; `shard` is the
/// index of the runtime this worker runs on, and `timer` that runtime's timer.
pub async fn worker(run: Arc<WorkloadRun>, shard: usize, timer: Option<PreciseTimer>) {
    match &run.target {
        Target::Http(target) => drive(&run, target, shard, timer).await,
        #[cfg(feature = "redis")]
        Target::Redis(target) => drive(&run, target, shard, timer).await,
        #[cfg(feature = "postgres")]
        Target::Postgres(target) => drive(&run, target, shard, timer).await,
    }
}

/// The worker loop for one protocol (monomorphised per [`Workload`]).
async fn drive<W: Workload>(
    run: &WorkloadRun,
    target: &W,
    shard: usize,
    timer: Option<PreciseTimer>,
) {
    let mut conn: Option<W::Conn> = None;
    let mut rng = SmallRng::from_os_rng();
    let mut scratch = Vec::new();
    let counters = &run.counters[shard % run.counters.len()];
    // One timer per worker, moved forward for each request: a forward reset of a
    // pending timer is one atomic update, where a fresh `timeout` per request
    // inserts into and removes from the runtime's timer wheel every time.
    let mut timer_deadline = Box::pin(tokio::time::sleep_until(run.hard_deadline.into()));
    loop {
        let picked = Instant::now();
        let Some(ticket) = run.schedule.next(picked) else {
            break;
        };
        let sent = if ticket.intended > picked {
            wait_until(timer.as_ref(), ticket.intended).await;
            Instant::now()
        } else {
            picked
        };
        let request_deadline = sent + run.timeout;
        let deadline = request_deadline.min(run.hard_deadline);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        run.recorder.sent(shard, sent, run.in_flight());
        timer_deadline.as_mut().reset(deadline.into());
        let result = before(
            timer_deadline.as_mut(),
            attempt(target, &mut conn, &mut rng, &mut scratch),
        )
        .await;
        let exchanged = match result {
            Some(Ok(exchanged)) => exchanged,
            Some(Err(refused)) => Sent::failed(refused.outcome),
            None => {
                // The connection is mid-response; it cannot be reused. What crossed
                // it until the deadline still counts.
                let (bytes_sent, bytes_received) = conn.take().as_ref().map_or((0, 0), W::moved);
                if deadline < request_deadline {
                    counters.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                Sent {
                    bytes_sent,
                    bytes_received,
                    ..Sent::failed(RequestOutcome::Timeout)
                }
            }
        };
        counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let done = Instant::now();
        let outcome = exchanged.outcome;
        run.recorder.record(
            shard,
            &RequestResult {
                intended: ticket.intended,
                picked,
                sent,
                done,
                outcome,
                cap_wait: run.schedule.is_open() && picked > ticket.intended,
                bytes_sent: exchanged.bytes_sent,
                bytes_received: exchanged.bytes_received,
            },
        );
        if done >= run.hard_deadline {
            break;
        }
        if outcome == RequestOutcome::ConnectError && !run.schedule.is_open() {
            tokio::time::sleep(CLOSED_CONNECT_BACKOFF).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::http::Connection;
    use std::io::{Read, Write};

    /// A server that reads a request, writes `head`, then writes `endless` over and
    /// over as fast as it can until the client goes away.
    fn flooding(head: &'static [u8], endless: &'static [u8]) -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request);
            let _ = socket.write_all(head);
            let block = endless.repeat(64 * 1024 / endless.len());
            while socket.write_all(&block).is_ok() {}
        });
        addr
    }

    /// An always-readable socket must not keep the deadline from being seen.
    async fn ends_at_its_deadline(head: &'static [u8], endless: &'static [u8]) {
        const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let addr = flooding(head, endless);
        let mut conn = Connection::open(addr).await.unwrap();
        let limit = Duration::from_millis(300);
        let started = Instant::now();
        let mut deadline = Box::pin(tokio::time::sleep(limit));
        let result = before(deadline.as_mut(), conn.send(GET, false)).await;
        let took = started.elapsed();
        assert!(result.is_none(), "cut short at the deadline: {result:?}");
        assert!(
            took < limit + Duration::from_millis(100),
            "ended {:?} after its deadline",
            took.saturating_sub(limit)
        );
        let (wrote, read) = conn.moved();
        assert_eq!(wrote, GET.len() as u64);
        assert!(
            read > 0,
            "the bytes received before the deadline are counted"
        );
    }

    #[tokio::test]
    async fn a_fast_endless_body_ends_at_the_deadline() {
        ends_at_its_deadline(b"HTTP/1.1 200 OK\r\n\r\n", b"x").await;
    }

    #[tokio::test]
    async fn a_fast_endless_chunked_body_ends_at_the_deadline() {
        ends_at_its_deadline(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"1\r\nx\r\n",
        )
        .await;
    }
}

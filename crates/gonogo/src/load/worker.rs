//! The one worker loop: take the next ticket from the schedule, wait until it is
//! due, send it on this worker's connection, record the result. The schedule and the
//! stop condition are values ([`Schedule`]); open and closed models share this code.
//!
//! Each worker runs on one of the load runtimes (one thread each) and records into
//! that runtime's shard of the recorder and counters, so workers on different cores
//! never contend on a lock or a cache line per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::http::Connection;
use super::recorder::{Recorder, RequestOutcome, RequestResult};
use super::request::RequestFactory;
use super::schedule::Schedule;
use super::timer::PreciseTimer;

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
    pub factory: RequestFactory,
    pub port: u16,
    pub expect_status: Vec<u16>,
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

/// Wait until `due`, on the runtime's precise timer when there is one.
async fn wait_until(timer: Option<&PreciseTimer>, due: Instant) {
    match timer {
        Some(timer) => timer.sleep_until(due).await,
        None => tokio::time::sleep_until(due.into()).await,
    }
}

/// Run until the schedule is exhausted or the hard deadline passes; `shard` is the
/// index of the runtime this worker runs on, and `timer` that runtime's timer.
pub async fn worker(run: Arc<WorkloadRun>, shard: usize, timer: Option<PreciseTimer>) {
    let mut conn: Option<Connection> = None;
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
        if ticket.intended > picked {
            wait_until(timer.as_ref(), ticket.intended).await;
        }
        let sent = Instant::now();
        let request_deadline = sent + run.timeout;
        let deadline = request_deadline.min(run.hard_deadline);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        run.recorder.sent(shard, sent, run.in_flight());
        timer_deadline.as_mut().reset(deadline.into());
        let result = tokio::select! {
            biased;
            result = exchange(&run, &mut conn, &mut rng, &mut scratch) => Some(result),
            () = timer_deadline.as_mut() => None,
        };
        let (outcome, bytes_sent, bytes_received) = match result {
            Some(result) => result,
            None => {
                // The connection is mid-response; it cannot be reused.
                conn = None;
                if deadline < request_deadline {
                    counters.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                (RequestOutcome::Timeout, 0, 0)
            }
        };
        counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let done = Instant::now();
        run.recorder.record(
            shard,
            &RequestResult {
                intended: ticket.intended,
                picked,
                sent,
                done,
                outcome,
                cap_wait: run.schedule.is_open() && picked > ticket.intended,
                bytes_sent,
                bytes_received,
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

/// One request on `conn`, (re)connecting first when needed.
/// Returns the outcome and the bytes written and read for it.
async fn exchange(
    run: &WorkloadRun,
    conn: &mut Option<Connection>,
    rng: &mut SmallRng,
    scratch: &mut Vec<u8>,
) -> (RequestOutcome, u64, u64) {
    if !conn.as_mut().is_some_and(Connection::is_usable) {
        match Connection::open(run.factory.addr).await {
            Ok(fresh) => *conn = Some(fresh),
            Err(err) => {
                *conn = None;
                return (err.outcome(), 0, 0);
            }
        }
    }
    let Some(connection) = conn.as_mut() else {
        return (RequestOutcome::ConnectError, 0, 0);
    };
    let request = run.factory.request(run.port, rng, scratch);
    match connection.send(request, run.factory.is_head()).await {
        Ok(done) if run.expect_status.contains(&done.status) => {
            (RequestOutcome::Ok, done.bytes_sent, done.bytes_received)
        }
        Ok(done) => (
            RequestOutcome::StatusMismatch,
            done.bytes_sent,
            done.bytes_received,
        ),
        Err(err) => {
            *conn = None;
            (err.outcome(), 0, 0)
        }
    }
}

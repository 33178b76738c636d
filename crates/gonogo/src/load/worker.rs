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

use ::redis::aio::MultiplexedConnection;

use super::http::Connection;
use super::postgres::{PostgresConn, PostgresTarget};
use super::recorder::{Recorder, RequestOutcome, RequestResult};
use super::redis::RedisTarget;
use super::request::{RequestBuildError, RequestFactory};
use super::schedule::Schedule;
use super::timer::PreciseTimer;
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

/// Where a workload's requests go and how they are made, per protocol.
#[derive(Debug)]
pub enum Target {
    Http(RequestFactory),
    Redis(RedisTarget),
    Postgres(PostgresTarget),
}

impl Target {
    /// Check `workload`'s templates against `port` (and resolve an HTTP address).
    pub async fn new(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        let name = &workload.name;
        Ok(match &workload.protocol {
            Protocol::Http => Target::Http(RequestFactory::new(workload, port).await?),
            Protocol::Redis { address, command } => Target::Redis(RedisTarget::new(
                name,
                address,
                command,
                workload.keys,
                port,
            )?),
            Protocol::Postgres {
                config,
                statement,
                params,
                ..
            } => Target::Postgres(PostgresTarget::new(
                name,
                config,
                statement,
                params,
                workload.keys,
                port,
            )?),
        })
    }
}

/// One worker's connection, of its workload's protocol; `None` until connected
/// and after it broke.
enum Client {
    Http(Option<Connection>),
    Redis(Option<MultiplexedConnection>),
    Postgres(Option<PostgresConn>),
}

impl Client {
    fn for_target(target: &Target) -> Self {
        match target {
            Target::Http(_) => Client::Http(None),
            Target::Redis(_) => Client::Redis(None),
            Target::Postgres(_) => Client::Postgres(None),
        }
    }

    /// Drop the connection (it is mid-response and cannot be reused).
    fn reset(&mut self) {
        match self {
            Client::Http(conn) => *conn = None,
            Client::Redis(conn) => *conn = None,
            Client::Postgres(conn) => *conn = None,
        }
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
    let mut client = Client::for_target(&run.target);
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
        let result = tokio::select! {
            biased;
            result = dispatch(&run, &mut client, &mut rng, &mut scratch) => Some(result),
            () = timer_deadline.as_mut() => None,
        };
        let (outcome, bytes_sent, bytes_received) = match result {
            Some(result) => result,
            None => {
                // The connection is mid-response; it cannot be reused.
                client.reset();
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

/// One request of the run's protocol on the worker's client.
/// Returns the outcome and the bytes written and read for it.
async fn dispatch(
    run: &WorkloadRun,
    client: &mut Client,
    rng: &mut SmallRng,
    scratch: &mut Vec<u8>,
) -> (RequestOutcome, u64, u64) {
    match (&run.target, client) {
        (Target::Http(factory), Client::Http(conn)) => {
            exchange(run, factory, conn, rng, scratch).await
        }
        // Boxed, so that the HTTP path's future stays its own size.
        (Target::Redis(target), Client::Redis(conn)) => {
            Box::pin(target.exchange(conn, rng, scratch)).await
        }
        (Target::Postgres(target), Client::Postgres(conn)) => {
            Box::pin(target.exchange(conn, rng, scratch)).await
        }
        // Each worker's client is made from its run's target, so they always match.
        _ => (RequestOutcome::ConnectError, 0, 0),
    }
}

/// One HTTP request on `conn`, (re)connecting first when needed.
async fn exchange(
    run: &WorkloadRun,
    factory: &RequestFactory,
    conn: &mut Option<Connection>,
    rng: &mut SmallRng,
    scratch: &mut Vec<u8>,
) -> (RequestOutcome, u64, u64) {
    if !conn.as_mut().is_some_and(Connection::is_usable) {
        match Connection::open(factory.addr).await {
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
    let request = factory.request(run.port, rng, scratch);
    match connection.send(request, factory.is_head()).await {
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

//! The one worker loop: take the next ticket from the schedule, wait until it is
//! due, send it on this worker's connection, record the result. The schedule and the
//! stop condition are values ([`Schedule`]); open and closed models share this code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::http::Connection;
use super::recorder::{Recorder, RequestOutcome, RequestResult};
use super::request::RequestFactory;
use super::schedule::Schedule;

/// Pause after a failed connect in the closed model, so a dead service does not
/// turn the driver into a busy loop of refused connections.
const CLOSED_CONNECT_BACKOFF: Duration = Duration::from_millis(10);

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
    pub abandoned: AtomicU64,
    pub in_flight: AtomicU64,
}

/// Run until the schedule is exhausted or the hard deadline passes.
pub async fn worker(run: Arc<WorkloadRun>) {
    let mut conn: Option<Connection> = None;
    let mut rng = SmallRng::from_os_rng();
    loop {
        let picked = Instant::now();
        let Some(ticket) = run.schedule.next(picked) else {
            break;
        };
        if ticket.intended > picked {
            tokio::time::sleep_until(ticket.intended.into()).await;
        }
        let sent = Instant::now();
        let request_deadline = sent + run.timeout;
        let deadline = request_deadline.min(run.hard_deadline);
        run.in_flight.fetch_add(1, Ordering::Relaxed);
        let exchange =
            tokio::time::timeout_at(deadline.into(), exchange(&run, &mut conn, &mut rng));
        let (outcome, bytes_sent, bytes_received) = match exchange.await {
            Ok(result) => result,
            Err(_elapsed) => {
                // The connection is mid-response; it cannot be reused.
                conn = None;
                if deadline < request_deadline {
                    run.abandoned.fetch_add(1, Ordering::Relaxed);
                }
                (RequestOutcome::Timeout, 0, 0)
            }
        };
        run.in_flight.fetch_sub(1, Ordering::Relaxed);
        let done = Instant::now();
        run.recorder.record(&RequestResult {
            intended: ticket.intended,
            picked,
            sent,
            done,
            outcome,
            cap_wait: run.schedule.is_open() && picked > ticket.intended,
            bytes_sent,
            bytes_received,
        });
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
) -> (RequestOutcome, u64, u64) {
    if !conn.as_ref().is_some_and(Connection::is_usable) {
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
    let Ok(request) = run.factory.build(run.port, rng) else {
        // Templates were checked before the phase; a value that still fails to
        // render is counted, not hidden.
        return (RequestOutcome::IoError, 0, 0);
    };
    let (written_before, read_before) = connection.counters().totals();
    let result = connection.send(request).await;
    let (written, read) = connection.counters().totals();
    let bytes = (written - written_before, read - read_before);
    match result {
        Ok(status) if run.expect_status.contains(&status.as_u16()) => {
            (RequestOutcome::Ok, bytes.0, bytes.1)
        }
        Ok(_) => (RequestOutcome::StatusMismatch, bytes.0, bytes.1),
        Err(err) => {
            *conn = None;
            (err.outcome(), bytes.0, bytes.1)
        }
    }
}

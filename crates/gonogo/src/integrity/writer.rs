//! The write half of an integrity phase: unique writes at the phase's rate, each
//! outcome kept in the ledger, and the usual interval evidence for the write
//! workload (latency histograms, outcome counts) so latency, error rate, recovery
//! and charts read integrity phases like any other.
//!
//! Owns: the open-model write loop (intended times from the plan, a connection cap,
//! the workload's timeout around each write) and closing intervals on time, generic
//! over the protocol's [`KeyValue`] (picked once, then monomorphised). Reuses the
//! load driver's [`Schedule`], [`Recorder`] and [`IntervalGrid`]. Does not own:
//! reading back (`readback`) or faults (the conductor runs them beside this).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::keys;
use super::kv::KvError;
use super::session::KvSession;
use crate::load::{
    IntervalGrid, KeyValue, KvJob, LoadContext, PhaseWorkloads, Recorder, RequestOutcome,
    RequestResult, START_LEAD, Schedule, WorkloadShare, with_key_value,
};
use crate::model::{LedgerWrite, Record, WriteOutcome};
use crate::plan::{LoadModel, PhasePlan};

/// The writes of one phase run, by sequence number.
#[derive(Debug)]
pub struct Writes {
    /// When the write schedule started; each write's time counts from here.
    pub start: Instant,
    pub outcomes: Vec<LedgerWrite>,
    /// True when the campaign was cancelled during the writes.
    pub cancelled: bool,
}

/// What every writer of the phase shares.
#[derive(Debug)]
struct Shared {
    token: String,
    schedule: Schedule,
    recorder: Recorder,
    timeout: Duration,
    /// No write outlives this instant (schedule end + drain).
    hard_deadline: Instant,
    next_seq: AtomicU64,
    in_flight: AtomicU64,
    /// Outcomes as they arrive: (seq, write).
    ledger: Mutex<Vec<(u64, LedgerWrite)>>,
}

fn millis_since(start: Instant, at: Instant) -> u32 {
    u32::try_from(at.saturating_duration_since(start).as_millis()).unwrap_or(u32::MAX)
}

/// Offer the phase's writes against `port`, recording intervals as they close.
pub async fn write_phase(
    phase: &PhasePlan,
    workloads: PhaseWorkloads<'_>,
    port: u16,
    ctx: &LoadContext,
    token: &str,
) -> Result<Writes, KvError> {
    let job = WriteJob {
        phase,
        workloads,
        port,
        ctx,
        token,
    };
    with_key_value(workloads.write, job)
        .await
        .unwrap_or_else(|| Err(super::unsupported(workloads.write)))
}

/// [`write_phase`]'s work, for one protocol.
struct WriteJob<'a> {
    phase: &'a PhasePlan,
    workloads: PhaseWorkloads<'a>,
    port: u16,
    ctx: &'a LoadContext,
    token: &'a str,
}

impl KvJob for WriteJob<'_> {
    type Output = Result<Writes, KvError>;

    async fn run<K: KeyValue>(self) -> Self::Output {
        write_with::<K>(self).await
    }
}

async fn write_with<K: KeyValue>(job: WriteJob<'_>) -> Result<Writes, KvError> {
    let WriteJob {
        phase,
        workloads,
        port,
        ctx,
        token,
    } = job;
    let (rate, connections) = match phase.model {
        LoadModel::Open {
            rate,
            max_connections,
        } => (rate, max_connections.max(1)),
        // The spec refuses the closed model for integrity phases; one write a
        // millisecond per connection stands in should a plan be built by hand.
        LoadModel::Closed { connections } => (connections as f64 * 1000.0, connections.max(1)),
    };
    let grid = IntervalGrid::new(phase, ctx.interval, Instant::now() + START_LEAD);
    let shared = Arc::new(Shared {
        token: token.to_string(),
        schedule: Schedule::open(grid.start, grid.total, rate),
        recorder: grid.recorder(1),
        timeout: workloads.write.timeout,
        hard_deadline: grid.end() + phase.drain,
        next_seq: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        ledger: Mutex::new(Vec::new()),
    });
    let mut tasks = JoinSet::new();
    let sessions = KvSession::<K>::many(workloads, port, connections, shared.timeout).await?;
    for session in sessions {
        tasks.spawn(writer(Arc::clone(&shared), session));
    }
    let mut closer = grid.closer();
    let mut cancelled = false;
    while let Some(closed) = closer.close_next(&mut tasks, &ctx.cancel).await {
        cancelled = closed.cancelled;
        let share = WorkloadShare {
            name: &workloads.write.name,
            recorder: &shared.recorder,
            schedule: &shared.schedule,
            in_flight: shared.in_flight.load(Ordering::Relaxed),
            connections: connections as u64,
        };
        let record = closed.record(phase, share, &ctx.clock);
        let _ = ctx.records.send(Record::Interval(Box::new(record)));
        if cancelled {
            break;
        }
    }
    Ok(Writes {
        start: grid.start,
        outcomes: ledger(&shared),
        cancelled,
    })
}

/// Every attempted write by seq; one whose writer was stopped before it could
/// record an answer is indeterminate (it was sent, nothing more is known).
fn ledger(shared: &Shared) -> Vec<LedgerWrite> {
    let attempted = shared.next_seq.load(Ordering::Relaxed);
    let given_up = LedgerWrite {
        outcome: WriteOutcome::Indeterminate,
        at_ms: millis_since(shared.schedule.start(), Instant::now()),
    };
    let mut outcomes = vec![given_up; usize::try_from(attempted).unwrap_or(0)];
    let recorded = match shared.ledger.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    for (seq, write) in recorded.iter() {
        if let Some(slot) = usize::try_from(*seq).ok().and_then(|i| outcomes.get_mut(i)) {
            *slot = *write;
        }
    }
    outcomes
}

/// One connection's writes until the schedule ends or the hard deadline passes.
async fn writer<K: KeyValue>(shared: Arc<Shared>, mut session: KvSession<K>) {
    loop {
        let picked = Instant::now();
        let Some(ticket) = shared.schedule.next(picked) else {
            break;
        };
        if ticket.intended > picked {
            tokio::time::sleep_until(ticket.intended.into()).await;
        }
        let seq = shared.next_seq.fetch_add(1, Ordering::Relaxed);
        let key = keys::key(&shared.token, seq);
        let value = keys::value(&shared.token, seq);
        let sent = Instant::now();
        let deadline = (sent + shared.timeout).min(shared.hard_deadline);
        let in_flight = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        shared.recorder.sent(0, sent, in_flight);
        let written = tokio::time::timeout_at(deadline.into(), session.write(&key, &value)).await;
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        let done = Instant::now();
        let (outcome, measured) = match written {
            Ok(WriteOutcome::Acknowledged) => (WriteOutcome::Acknowledged, RequestOutcome::Ok),
            // The service refused or the connection was refused: nothing was kept.
            Ok(WriteOutcome::Failed) => (WriteOutcome::Failed, RequestOutcome::StatusMismatch),
            Ok(WriteOutcome::Indeterminate) => {
                (WriteOutcome::Indeterminate, RequestOutcome::IoError)
            }
            Err(_elapsed) => (WriteOutcome::Indeterminate, RequestOutcome::Timeout),
        };
        shared.recorder.record(
            0,
            &RequestResult {
                intended: ticket.intended,
                picked,
                sent,
                done,
                outcome: measured,
                cap_wait: picked > ticket.intended,
                bytes_sent: 0,
                bytes_received: 0,
            },
        );
        let write = LedgerWrite {
            outcome,
            at_ms: millis_since(shared.schedule.start(), done),
        };
        match shared.ledger.lock() {
            Ok(mut ledger) => ledger.push((seq, write)),
            Err(poisoned) => poisoned.into_inner().push((seq, write)),
        }
        if done >= shared.hard_deadline {
            break;
        }
    }
}

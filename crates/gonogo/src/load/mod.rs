//! The load driver: offers one phase's load (HTTP, Redis or PostgreSQL workloads) and records it interval by interval.
//!
//! Owns: splitting a phase's rate and connections across its workloads by weight,
//! running the workers ([`worker`]), closing each interval on time and sending it to
//! the conductor as a [`Record::Interval`], and draining in-flight requests at the
//! end. Does not own: the service, the store, or judging the numbers.
//!
//! Open model: intended send times come from the plan (`t0 + i/rate`); when every
//! connection is busy the next request waits, its schedule lag grows, and its
//! response time still runs from the intended time (coordinated omission corrected).
//! Closed model: each connection sends its next request as soon as the last one ends.
//!
//! Threads: one single-threaded runtime per core available to gonogo, each owning a
//! share of the workers (connections); the recorder keeps a shard per runtime, merged
//! when an interval is closed.

mod account;
mod fill;
mod hiccup;
#[doc(hidden)]
pub mod http;
mod interval;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
mod recorder;
#[cfg(feature = "redis")]
pub(crate) mod redis;
mod request;
mod schedule;
mod timer;
mod worker;
pub mod workload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use fill::{FillError, fill};
pub use hiccup::{METER_SLEEP, METER_SWITCH, meter_enabled};
pub(crate) use interval::{IntervalGrid, WorkloadShare};
pub use recorder::{RequestOutcome, RequestResult};
pub use request::RequestBuildError;
pub use schedule::{Schedule, Ticket};
pub use workload::{
    Answer, HttpTarget, KeyValue, KvJob, Listed, MAX_BODY, PhaseWorkloads, ReadOutcome, Refused,
    Workload, with_key_value,
};

#[cfg(feature = "postgres")]
pub use postgres::PostgresTarget;
#[cfg(feature = "redis")]
pub use redis::RedisTarget;

use crate::model::{Record, RecordSender, RunClock};
use crate::plan::{LoadModel, PhasePlan, Plan};
pub(crate) use recorder::Recorder;
use timer::PreciseTimer;
use worker::{ShardCounters, Target, WorkloadRun, worker};

/// Time between an interval's end and the moment it is closed, so that requests
/// finishing right at the boundary are in it.
const CLOSE_GRACE: Duration = Duration::from_millis(50);
/// Lead time to spawn workers before the first request is due.
pub(crate) const START_LEAD: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Request(#[from] RequestBuildError),
    #[error("phase {phase}: workload index {index} is not in the plan")]
    MissingWorkload { phase: String, index: usize },
    #[error("cannot start the load generator's threads: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Load runtimes: one per core available to gonogo.
fn load_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The load's threads: one single-threaded runtime on each, running until stopped.
/// Dropped without [`LoadRuntimes::stop`], the threads are stopped all the same.
#[derive(Debug)]
struct LoadRuntimes {
    handles: Vec<tokio::runtime::Handle>,
    /// Each runtime's precise timer; `None` where it could not be made (tokio's
    /// millisecond timer is used instead).
    timers: Vec<Option<PreciseTimer>>,
    stop: CancellationToken,
}

impl LoadRuntimes {
    fn start(threads: usize) -> std::io::Result<Self> {
        let stop = CancellationToken::new();
        let mut handles = Vec::new();
        let mut timers = Vec::new();
        for index in 0..threads.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            timers.push(PreciseTimer::start(runtime.handle()).ok());
            let stopped = stop.clone();
            std::thread::Builder::new()
                .name(format!("gonogo-load-{index}"))
                // The runtime (and any task still on it) is dropped on its own thread.
                .spawn(move || runtime.block_on(stopped.cancelled()))?;
        }
        Ok(LoadRuntimes {
            handles,
            timers,
            stop,
        })
    }
}

impl Drop for LoadRuntimes {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What the conductor needs to know when a phase's load ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseLoadSummary {
    /// Requests cut short at the drain deadline (counted as timeouts).
    pub abandoned: u64,
    /// Intervals recorded per workload.
    pub intervals: u32,
    /// True when the phase was cancelled before its end.
    pub cancelled: bool,
}

/// Shared context for a phase's load.
#[derive(Debug, Clone)]
pub struct LoadContext {
    pub clock: RunClock,
    pub records: RecordSender,
    pub cancel: CancellationToken,
    /// Evidence interval length.
    pub interval: Duration,
}

/// Rate (open) and connection count for each workload of a phase, split by weight.
fn shares(phase: &PhasePlan, weights: &[u32]) -> Vec<(Option<f64>, usize)> {
    let total: u32 = weights.iter().sum::<u32>().max(1);
    weights
        .iter()
        .map(|&w| {
            let share = f64::from(w) / f64::from(total);
            let split = |n: usize| ((n as f64 * share).round() as usize).max(1);
            match phase.model {
                LoadModel::Open {
                    rate,
                    max_connections,
                } => (Some(rate * share), split(max_connections)),
                LoadModel::Closed { connections } => (None, split(connections)),
            }
        })
        .collect()
}

/// Offer `phase`'s load to the service on `port` and record it.
pub async fn run_phase(
    plan: &Plan,
    phase: &PhasePlan,
    port: u16,
    ctx: &LoadContext,
) -> Result<PhaseLoadSummary, LoadError> {
    let workloads = phase
        .workloads
        .iter()
        .map(|&index| {
            plan.workloads.get(index).ok_or(LoadError::MissingWorkload {
                phase: phase.name.clone(),
                index,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Workers get runtimes of their own: the conductor's store writes and the
    // sampler's /proc reads block their threads for milliseconds at a time, which
    // would show up as the generator's own send delay.
    let runtimes = LoadRuntimes::start(load_threads()).map_err(LoadError::Runtime)?;
    let shards = runtimes.handles.len();
    let mut next_runtime = 0;
    let grid = IntervalGrid::new(phase, ctx.interval, Instant::now() + START_LEAD);
    let weights: Vec<u32> = workloads.iter().map(|w| w.weight).collect();
    let mut runs = Vec::new();
    let mut tasks = JoinSet::new();
    for (workload, (rate, connections)) in workloads.iter().zip(shares(phase, &weights)) {
        let target = Target::new(workload, port).await?;
        let schedule = match rate {
            Some(rate) => Schedule::open(grid.start, grid.total, rate),
            None => Schedule::closed(grid.start, grid.total),
        };
        let run = Arc::new(WorkloadRun {
            schedule,
            recorder: grid.recorder(shards),
            target,
            timeout: workload.timeout,
            hard_deadline: grid.hard_deadline(),
            counters: (0..shards).map(|_| ShardCounters::default()).collect(),
        });
        for _ in 0..connections {
            let shard = next_runtime % shards;
            next_runtime += 1;
            let timer = runtimes.timers[shard].clone();
            tasks.spawn_on(
                worker(Arc::clone(&run), shard, timer),
                &runtimes.handles[shard],
            );
        }
        runs.push((workload.name.clone(), run, connections as u64));
    }
    let mut closer = grid.closer();
    let mut health_meter = hiccup::HealthMeter::start();
    let mut cancelled = false;
    while let Some(closed_interval) = closer.close_next(&mut tasks, &ctx.cancel).await {
        cancelled = closed_interval.cancelled;
        let health = health_meter.as_mut().map(hiccup::HealthMeter::take);
        for (name, run, connections) in &runs {
            let share = WorkloadShare {
                name,
                recorder: &run.recorder,
                schedule: &run.schedule,
                in_flight: run.in_flight(),
                connections: *connections,
            };
            let mut record = closed_interval.record(phase, share, &ctx.clock);
            record.health.clone_from(&health);
            // A closed channel means the conductor is gone; nothing left to record to.
            let _ = ctx.records.send(Record::Interval(Box::new(record)));
        }
        if cancelled {
            break;
        }
    }
    drop(health_meter);
    // The runtimes wind down on their own threads.
    drop(runtimes);
    let abandoned = runs.iter().map(|(_, run, _)| run.abandoned()).sum();
    Ok(PhaseLoadSummary {
        abandoned,
        intervals: closer.closed(),
        cancelled,
    })
}

/// CPU time (user + system) used by this whole process so far, seconds.
pub fn generator_cpu_seconds() -> f64 {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            secs(usage.user_time()) + secs(usage.system_time())
        }
        Err(_) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(model: LoadModel) -> PhasePlan {
        PhasePlan {
            name: "p".into(),
            kind: crate::plan::PhaseKind::Steady,
            workloads: vec![0, 1],
            model,
            duration: Duration::from_secs(1),
            warmup: Duration::ZERO,
            drain: Duration::from_secs(1),
            leak: None,
            ramp: None,
            integrity: None,
            scaling: None,
            bad_input: None,
        }
    }

    #[test]
    fn rate_and_connections_split_by_weight() {
        let open = phase(LoadModel::Open {
            rate: 1000.0,
            max_connections: 40,
        });
        assert_eq!(
            shares(&open, &[3, 1]),
            vec![(Some(750.0), 30), (Some(250.0), 10)]
        );
        let closed = phase(LoadModel::Closed { connections: 1 });
        assert_eq!(
            shares(&closed, &[1, 1]),
            vec![(None, 1), (None, 1)],
            "at least one each"
        );
    }
}

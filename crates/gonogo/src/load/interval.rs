//! Closing a phase's evidence intervals on time, and turning what each workload
//! recorded in one into its [`IntervalRecord`].
//!
//! Owns: when an interval may be closed (its end plus [`CLOSE_GRACE`], or the end of
//! every task for the last one, bounded by the phase's deadline), its length, and the
//! per-interval figures taken at the close (peak in flight, connections, planned
//! sends and the account of those not sent, [`super::account`]). A stopped phase's
//! tasks are aborted and awaited before its last interval is taken, so every send
//! they made is counted. Shared by the load driver and the integrity writes. Does
//! not own: recording requests ([`super::recorder`]).

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::account::{Close, not_sent};
use super::{CLOSE_GRACE, Recorder, Schedule, generator_cpu_seconds};
use crate::model::{IntervalRecord, RunClock};
use crate::plan::PhasePlan;

/// A phase's evidence intervals: how long each is, and how many cover its load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntervalGrid {
    /// When the phase's load (interval 0) started.
    pub start: Instant,
    pub interval: Duration,
    /// The phase's whole load time, warm-up included.
    pub total: Duration,
    pub count: u32,
    /// Time in-flight requests get after the load time.
    pub drain: Duration,
}

/// How long after the phase's deadline the last interval still waits for tasks that
/// have not ended (none should: every request is cut short at the deadline) before
/// aborting them.
const STRAGGLERS: Duration = Duration::from_secs(1);
/// The most an aborted task is waited for (it ends at its next await).
const ABORT_WAIT: Duration = Duration::from_secs(1);

/// One evidence interval of a phase's load, to be closed on time.
#[derive(Debug, Clone, Copy)]
struct IntervalWindow {
    grid: IntervalGrid,
    index: u32,
}

/// Closes a phase's intervals one after another, timing the generator's CPU over
/// each.
#[derive(Debug)]
pub(crate) struct IntervalCloser {
    grid: IntervalGrid,
    /// How many have been closed so far.
    closed: u32,
    /// The generator's CPU time when the last one closed (or the closer was made).
    cpu_before: f64,
}

/// An interval once closed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedInterval {
    start: Instant,
    index: u32,
    /// From `start` to the interval's beginning.
    offset: Duration,
    /// Its length: the last or a cancelled one may be short.
    length: Duration,
    /// Whether the load was cancelled (the tasks are aborted).
    pub cancelled: bool,
    /// Whether it is the phase's last (the last of the grid, or a cancelled one).
    last: bool,
    /// The generator's CPU time over the interval.
    cpu_seconds: f64,
}

/// What one workload contributes to an interval's evidence.
#[derive(Debug)]
pub(crate) struct WorkloadShare<'a> {
    pub name: &'a str,
    pub recorder: &'a Recorder,
    pub schedule: &'a Schedule,
    /// Requests in flight at the close: they count toward the interval's peak.
    pub in_flight: u64,
    pub connections: u64,
}

impl IntervalGrid {
    /// The intervals of `phase`'s load from `start`: `interval` long (at least
    /// 10 ms), as many as cover its whole load time (at least one).
    pub fn new(phase: &PhasePlan, interval: Duration, start: Instant) -> Self {
        let interval = interval.max(Duration::from_millis(10));
        let total = phase.total();
        let count = u32::try_from(total.as_nanos().div_ceil(interval.as_nanos()))
            .unwrap_or(u32::MAX)
            .max(1);
        Self {
            start,
            interval,
            total,
            count,
            drain: phase.drain,
        }
    }

    /// When the phase's load ends (its warm-up included).
    pub fn end(&self) -> Instant {
        self.start + self.total
    }

    /// The phase's deadline: no request outlives its load time plus the drain.
    pub fn hard_deadline(&self) -> Instant {
        self.end() + self.drain
    }

    /// A recorder of requests into these intervals, in `shards` shards; completions
    /// after the last interval count in it.
    pub fn recorder(&self, shards: usize) -> Recorder {
        Recorder::new(self.start, self.interval, self.count - 1, shards)
    }

    /// A closer of these intervals; the first one's CPU time counts from now.
    pub fn closer(self) -> IntervalCloser {
        IntervalCloser {
            grid: self,
            closed: 0,
            cpu_before: generator_cpu_seconds(),
        }
    }
}

impl IntervalCloser {
    /// How many intervals have been closed so far.
    pub fn closed(&self) -> u32 {
        self.closed
    }

    /// Wait until the next interval may be closed and close it (see
    /// [`IntervalWindow::close`]); `None` once all are.
    pub async fn close_next<T: 'static>(
        &mut self,
        tasks: &mut JoinSet<T>,
        cancel: &CancellationToken,
    ) -> Option<ClosedInterval> {
        if self.closed == self.grid.count {
            return None;
        }
        let window = IntervalWindow {
            grid: self.grid,
            index: self.closed,
        };
        let mut closed = window.close(tasks, cancel).await;
        let cpu_now = generator_cpu_seconds();
        closed.cpu_seconds = cpu_now - self.cpu_before;
        self.cpu_before = cpu_now;
        self.closed += 1;
        Some(closed)
    }
}

impl IntervalWindow {
    /// Wait until the interval may be closed: its end plus [`CLOSE_GRACE`], or for
    /// the last one until every task has ended (tasks still running [`STRAGGLERS`]
    /// after the phase's deadline are aborted). A cancel aborts the tasks; aborted
    /// tasks are awaited, so that nothing they did is left out of the interval.
    async fn close<T: 'static>(
        self,
        tasks: &mut JoinSet<T>,
        cancel: &CancellationToken,
    ) -> ClosedInterval {
        let last = self.index + 1 == self.grid.count;
        let offset = self.grid.interval * self.index;
        let mut cancelled = false;
        let mut abort = false;
        if last {
            let give_up = self.grid.hard_deadline() + STRAGGLERS;
            tokio::select! {
                _ = async { while tasks.join_next().await.is_some() {} } => {}
                () = cancel.cancelled() => cancelled = true,
                () = tokio::time::sleep_until(give_up.into()) => abort = true,
            }
        } else {
            let boundary = self.grid.start + offset + self.grid.interval + CLOSE_GRACE;
            tokio::select! {
                () = tokio::time::sleep_until(boundary.into()) => {}
                () = cancel.cancelled() => cancelled = true,
            }
        }
        if cancelled || abort {
            tasks.abort_all();
            let ended = async { while tasks.join_next().await.is_some() {} };
            // An aborted task ends at its next await; one that never awaits would
            // not end at all, and the phase does not wait for it.
            let _ = tokio::time::timeout(ABORT_WAIT, ended).await;
        }
        let length = if last || cancelled {
            Instant::now()
                .saturating_duration_since(self.grid.start + offset)
                .min(self.grid.total.saturating_sub(offset))
        } else {
            self.grid.interval
        };
        ClosedInterval {
            start: self.grid.start,
            index: self.index,
            offset,
            length,
            cancelled,
            last: last || cancelled,
            cpu_seconds: 0.0,
        }
    }
}

impl ClosedInterval {
    /// Take `share`'s requests of this interval from its recorder as evidence.
    pub fn record(
        &self,
        phase: &PhasePlan,
        share: WorkloadShare<'_>,
        clock: &RunClock,
    ) -> IntervalRecord {
        let mut stats = if self.last {
            share.recorder.take_rest(self.index)
        } else {
            share.recorder.take(self.index)
        };
        stats.peak_in_flight = stats.peak_in_flight.max(share.in_flight);
        stats.connections = share.connections;
        let end = self.offset + self.length;
        stats.planned = share.schedule.planned_between(self.offset, end);
        // The closed model has no plan to account for.
        stats.not_sent = share.schedule.is_open().then(|| {
            let close = match (self.cancelled, self.last) {
                (true, _) => Close::Stopped,
                (false, true) => Close::Ended,
                (false, false) => Close::Continues,
            };
            let due = share.schedule.planned_before(end);
            not_sent(due, share.recorder.sent_so_far(), close)
        });
        IntervalRecord {
            phase: phase.name.clone(),
            workload: share.name.to_string(),
            index: self.index,
            start: clock.offset(self.start + self.offset),
            length: self.length,
            warmup: self.offset < phase.warmup,
            generator_cpu_seconds: self.cpu_seconds,
            stats,
            health: None,
        }
    }
}

//! Closing a phase's evidence intervals on time, and turning what each workload
//! recorded in one into its [`IntervalRecord`].
//!
//! Owns: when an interval may be closed (its end plus [`CLOSE_GRACE`], or the end of
//! every task for the last one), its length, and the per-interval figures taken at
//! the close (peak in flight, connections, planned sends). Shared by the load driver
//! and the integrity writes. Does not own: recording requests ([`super::recorder`]).

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{CLOSE_GRACE, Recorder, Schedule};
use crate::model::{IntervalRecord, RunClock};
use crate::plan::PhasePlan;

/// One evidence interval of a phase's load, to be closed on time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntervalWindow {
    /// When the phase's load (interval 0) started.
    pub start: Instant,
    pub interval: Duration,
    /// The phase's whole load time, warm-up included.
    pub total: Duration,
    pub index: u32,
    pub count: u32,
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

impl IntervalWindow {
    /// Wait until the interval may be closed: its end plus [`CLOSE_GRACE`], or for
    /// the last one until every task has ended. A cancel aborts the tasks.
    pub async fn close<T: 'static>(
        self,
        tasks: &mut JoinSet<T>,
        cancel: &CancellationToken,
    ) -> ClosedInterval {
        let last = self.index + 1 == self.count;
        let offset = self.interval * self.index;
        let mut cancelled = false;
        if last {
            tokio::select! {
                _ = async { while tasks.join_next().await.is_some() {} } => {}
                () = cancel.cancelled() => cancelled = true,
            }
        } else {
            let boundary = self.start + offset + self.interval + CLOSE_GRACE;
            tokio::select! {
                () = tokio::time::sleep_until(boundary.into()) => {}
                () = cancel.cancelled() => cancelled = true,
            }
        }
        if cancelled {
            tasks.abort_all();
        }
        let length = if last || cancelled {
            Instant::now()
                .saturating_duration_since(self.start + offset)
                .min(self.total.saturating_sub(offset))
        } else {
            self.interval
        };
        ClosedInterval {
            start: self.start,
            index: self.index,
            offset,
            length,
            cancelled,
        }
    }
}

impl ClosedInterval {
    /// Take `share`'s requests of this interval from its recorder as evidence;
    /// `cpu_seconds` is the generator's CPU time over the interval.
    pub fn record(
        &self,
        phase: &PhasePlan,
        share: WorkloadShare<'_>,
        cpu_seconds: f64,
        clock: &RunClock,
    ) -> IntervalRecord {
        let mut stats = share.recorder.take(self.index);
        stats.peak_in_flight = stats.peak_in_flight.max(share.in_flight);
        stats.connections = share.connections;
        stats.planned = share
            .schedule
            .planned_between(self.offset, self.offset + self.length);
        IntervalRecord {
            phase: phase.name.clone(),
            workload: share.name.to_string(),
            index: self.index,
            start: clock.offset(self.start + self.offset),
            length: self.length,
            warmup: self.offset < phase.warmup,
            generator_cpu_seconds: cpu_seconds,
            stats,
        }
    }
}

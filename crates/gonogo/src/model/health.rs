//! The load generator's own health over one evidence interval: how late gonogo's
//! hiccup meter woke up (the jHiccup idea) and what the kernel says about gonogo's
//! scheduling (run-queue wait, cgroup CPU throttling, host steal time).
//!
//! Owns: [`GeneratorHealth`] and the figures read off it (the share of the interval
//! gonogo was not running). Does not own: measuring it (`load::hiccup`), storing it
//! (`evidence`) or the bounds that make an interval generator-bound (`evaluate`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::IntervalHistogram;

/// What the generator's process went through during one interval. Each kernel
/// figure is `None` where it could not be read (never 0 for "unknown").
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorHealth {
    /// How late the hiccup meter woke from each of its fixed short sleeps, µs.
    pub hiccup: IntervalHistogram,
    /// The scheduling evidence of the same interval.
    pub sched: SchedEvidence,
}

/// The kernel's account of gonogo's scheduling over one interval (deltas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SchedEvidence {
    /// Sum of the meter's lateness beyond 1 ms (its timer's own noise) over the
    /// interval, µs: time the process was not running when it wanted to (a stall of
    /// the meter is a stall of gonogo).
    pub hiccup_total_us: u64,
    /// CPU time gonogo's threads ran (`/proc/self/task/*/schedstat`, first field), µs.
    pub threads_cpu_us: Option<u64>,
    /// Time gonogo's threads were runnable but waiting for a CPU (second field), µs.
    pub run_queue_wait_us: Option<u64>,
    /// Times gonogo's threads were put on a CPU (third field): the waits above
    /// are spread over these.
    #[serde(default)]
    pub timeslices: Option<u64>,
    /// Periods in which gonogo's cgroup was throttled (`cpu.stat` `nr_throttled`).
    pub throttled_periods: Option<u64>,
    /// Time gonogo's cgroup was throttled (`throttled_time`/`throttled_usec`), µs.
    pub throttled_us: Option<u64>,
    /// Host steal time over all CPUs (`/proc/stat`), µs.
    pub steal_us: Option<u64>,
    /// The wall time these figures cover, µs: from the last interval's close to this
    /// one's (the last interval's also covers the drain). 0 where unknown.
    #[serde(default)]
    pub covered_us: u64,
}

impl GeneratorHealth {
    /// The wall time the figures cover: [`SchedEvidence::covered_us`], else `length`.
    pub fn covered(&self, length: Duration) -> Duration {
        if self.sched.covered_us > 0 {
            Duration::from_micros(self.sched.covered_us)
        } else {
            length
        }
    }

    /// The share of the time covered gonogo was not running, by the hiccup meter's
    /// lateness and by the cgroup's throttled time, whichever is larger.
    pub fn stalled_share(&self, length: Duration) -> f64 {
        let length = self.covered(length).as_micros() as f64;
        if length <= 0.0 {
            return 0.0;
        }
        let stalled = self
            .sched
            .hiccup_total_us
            .max(self.sched.throttled_us.unwrap_or(0));
        (stalled as f64 / length).min(1.0)
    }

    /// The share of the time gonogo's threads wanted a CPU that they spent waiting
    /// for one: `wait / (wait + run)`; `None` where schedstat was not readable.
    pub fn run_queue_share(&self) -> Option<f64> {
        let wait = self.sched.run_queue_wait_us?;
        let run = self.sched.threads_cpu_us?;
        let wanted = wait + run;
        (wanted > 0).then(|| wait as f64 / wanted as f64)
    }

    /// The share of `length` gonogo's cgroup was throttled; `None` where unknown.
    pub fn throttled_share(&self, length: Duration) -> Option<f64> {
        let length = self.covered(length).as_micros() as f64;
        let throttled = self.sched.throttled_us?;
        (length > 0.0).then(|| (throttled as f64 / length).min(1.0))
    }

    /// The hiccup meter's lateness at `quantile`, µs (`None` with no wake-up).
    pub fn hiccup_at(&self, quantile: f64) -> Option<u64> {
        (!self.hiccup.is_empty()).then(|| self.hiccup.value_at_quantile(quantile))
    }
}

/// The generator's starvation over a window of intervals, as the evaluation found
/// it: rendered as the cause of a generator-bound doubt.
#[derive(Debug, Clone, PartialEq)]
pub struct Starved {
    /// Intervals in which gonogo was starved of CPU, of `of` read.
    pub intervals: usize,
    pub of: usize,
    /// The largest share of an interval gonogo was not running (by the hiccup
    /// meter, the cgroup's throttled time, or its threads' run-queue wait).
    pub worst_not_running: f64,
    /// What showed it, each with its worst figure and its bound (e.g. "hiccup p99
    /// up to 48 ms (bound 2 ms)").
    pub signals: Vec<String>,
}

impl std::fmt::Display for Starved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gonogo was not running for {} of the time in {} of {} intervals ({}): CPU \
             starvation of the load generator, not the service; pin gonogo and the service \
             to separate cores, give gonogo its CPU quota, use more generators, or lower the \
             rate",
            crate::units::format::percent(self.worst_not_running),
            self.intervals,
            self.of,
            self.signals.join("; ")
        )
    }
}

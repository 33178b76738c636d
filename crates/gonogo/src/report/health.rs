//! The generator's own health in a report: per phase and workload, the hiccup meter
//! and the scheduling evidence of each measured interval (`model::GeneratorHealth`),
//! and which intervals the starvation check marks.
//!
//! Owns: [`HealthSummary`] (JSON `phases[].generator_health`, format 1.8), its one
//! line of text for the terminal and Markdown. Does not own: the bounds
//! (`evaluate::starvation`) nor the HTML chart (`timeline`).

use schemars::JsonSchema;
use serde::Serialize;

use crate::evaluate::{self, IntervalStarvation};
use crate::model::{IntervalRecord, new_histogram};
use crate::stats;
use crate::units::format;

/// The generator's health over a phase's measured intervals of one workload.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HealthSummary {
    /// Intervals with health evidence (the meter ran), of the measured ones.
    pub measured: u32,
    /// Intervals the starvation check marks generator-bound under the default hiccup
    /// bound (`hiccup_bound_seconds`); a latency criterion's own bound may be tighter.
    pub starved: u32,
    /// The hiccup p99 bound applied here, seconds.
    pub hiccup_bound_seconds: f64,
    /// The meter's lateness over all the measured intervals: p99 and max, seconds.
    pub hiccup_p99: Option<f64>,
    pub hiccup_max: Option<f64>,
    /// Per measured interval.
    pub intervals: Vec<HealthInterval>,
}

/// One interval's generator health. Shares are of the wall time it covers; null
/// where the kernel did not give the figure.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HealthInterval {
    /// Interval index within the phase.
    pub index: u32,
    /// Start, seconds since the run started.
    pub start_seconds: f64,
    /// The hiccup meter's lateness p99 and max, seconds.
    pub hiccup_p99: Option<f64>,
    pub hiccup_max: Option<f64>,
    /// CPU of gonogo's whole process over the interval, cores.
    pub cpu_cores: Option<f64>,
    /// Share of the time gonogo was stopped (the meter's lateness beyond 1 ms).
    pub stopped_share: f64,
    /// Share of the time gonogo's threads were ready that they waited for a CPU.
    pub run_queue_share: Option<f64>,
    /// Share of the time gonogo's cgroup was throttled, and in how many periods.
    pub throttled_share: Option<f64>,
    pub throttled_periods: Option<u64>,
    /// Host steal time as a share of the interval.
    pub steal_share: Option<f64>,
    /// Whether the starvation check marks it generator-bound.
    pub starved: bool,
}

/// The health of `records` (one workload's measured intervals); `None` when none
/// carries any (the meter was off, or the run predates it).
pub(super) fn summary(records: &[&IntervalRecord]) -> Option<HealthSummary> {
    let bound = evaluate::HICCUP_LIMIT;
    let mut merged = new_histogram();
    let mut intervals = Vec::new();
    for record in records {
        let (Some(health), Some(figures)) = (&record.health, IntervalStarvation::of(record)) else {
            continue;
        };
        health.hiccup.add_to(&mut merged);
        let seconds = health.covered(record.length).as_secs_f64();
        intervals.push(HealthInterval {
            index: record.index,
            start_seconds: record.start.as_secs_f64(),
            // Read from the stored bytes: no decoded copy kept per interval.
            hiccup_p99: health.hiccup_at(0.99).map(|us| us as f64 / 1e6),
            hiccup_max: (!health.hiccup.is_empty()).then(|| health.hiccup.max() as f64 / 1e6),
            cpu_cores: (record.length.as_secs_f64() > 0.0)
                .then(|| record.generator_cpu_seconds / record.length.as_secs_f64()),
            stopped_share: figures.stopped,
            run_queue_share: health.run_queue_share(),
            throttled_share: figures.throttled,
            throttled_periods: health.sched.throttled_periods,
            steal_share: health
                .sched
                .steal_us
                .filter(|_| seconds > 0.0)
                .map(|s| s as f64 / 1e6 / seconds),
            starved: figures.starved(bound),
        });
    }
    if intervals.is_empty() {
        return None;
    }
    Some(HealthSummary {
        measured: intervals.len() as u32,
        starved: intervals.iter().filter(|i| i.starved).count() as u32,
        hiccup_bound_seconds: bound.as_secs_f64(),
        hiccup_p99: stats::quantile_seconds(&merged, 0.99),
        hiccup_max: stats::max_seconds(&merged),
        intervals,
    })
}

/// `hiccup p99 120 µs, max 2.10 ms · starved 0 of 4 intervals · throttled -`.
pub fn line(summary: &HealthSummary) -> String {
    let secs = |v: Option<f64>| v.map_or_else(|| "-".to_string(), format::seconds);
    let worst = |f: fn(&HealthInterval) -> Option<f64>| {
        summary
            .intervals
            .iter()
            .filter_map(f)
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
            .map_or_else(|| "not available".to_string(), format::percent)
    };
    format!(
        "hiccup p99 {}, max {} · starved {} of {} intervals · stopped up to {} · \
         run-queue wait up to {} · throttled up to {}",
        secs(summary.hiccup_p99),
        secs(summary.hiccup_max),
        summary.starved,
        summary.measured,
        worst(|i| Some(i.stopped_share)),
        worst(|i| i.run_queue_share),
        worst(|i| i.throttled_share),
    )
}

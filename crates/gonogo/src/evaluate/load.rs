//! What the latency and traffic families share: a phase's measured intervals, and
//! the generator self-check that decides whether those intervals describe the service
//! or gonogo itself.
//!
//! Owns: the measured window (intervals after the warm-up, optionally one workload),
//! merging interval statistics (histograms added, never averaged), and the rule that
//! marks an interval generator-bound. Does not own: the comparison with the threshold
//! (`evaluate::conclude`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::Measurement;
use super::describe;
use super::starvation;
use crate::model::{
    Doubt, GeneratorBound, IntervalRecord, IntervalStats, PhaseRecord, RunEvidence, Window,
};
use crate::plan::CriterionPlan;
use crate::units::format;

/// An interval whose generator delay at [`GENERATOR_DELAY_QUANTILE`] exceeds this is
/// generator-bound: gonogo sent requests late for reasons of its own (CPU starvation,
/// scheduling), not because the service held connections.
pub const GENERATOR_DELAY_LIMIT: Duration = Duration::from_millis(5);

/// The quantile of the generator's own send delay compared with
/// [`GENERATOR_DELAY_LIMIT`]: the 90th percentile, so that an interval is flagged when
/// at least one send in ten left late. A generator that cannot keep up is late on most
/// sends; the tail alone (p99) also catches the few-millisecond scheduling hiccups that
/// a shared or virtual machine shows even when idle, which are not a generator limit.
pub const GENERATOR_DELAY_QUANTILE: f64 = 0.9;

/// An open-model interval that sent fewer than this share of its planned sends
/// (counted by send time, so requests still in flight do not count against it), while
/// the service held none of its connections (no request waited for one, and never
/// were all connections busy at once), is generator-bound: the generator
/// neither sent on time nor was held back by the service.
pub const GENERATOR_SHORTFALL: f64 = 0.9;

/// Whether one interval is generator-bound (see [`GENERATOR_DELAY_LIMIT`] and
/// [`GENERATOR_SHORTFALL`]).
pub fn generator_bound(stats: &IntervalStats) -> bool {
    delayed(stats) || short(stats)
}

fn delay_micros(stats: &IntervalStats) -> Option<u64> {
    (!stats.gen_delay.is_empty())
        .then(|| stats.gen_delay.value_at_quantile(GENERATOR_DELAY_QUANTILE))
}

fn delayed(stats: &IntervalStats) -> bool {
    delay_micros(stats).is_some_and(|delay| delay > GENERATOR_DELAY_LIMIT.as_micros() as u64)
}

fn short(stats: &IntervalStats) -> bool {
    stats.planned > 0
        && stats.cap_waits == 0
        && (stats.sent as f64) < GENERATOR_SHORTFALL * stats.planned as f64
        // Every connection busy at once: a stalled service, not a slow generator.
        // Runs stored before this was recorded have 0 connections: no such evidence.
        && (stats.connections == 0 || stats.peak_in_flight < stats.connections)
}

/// The phase's intervals after the warm-up, of one workload or of all of them, in
/// stored order.
pub(crate) fn measured_intervals<'a>(
    evidence: &'a RunEvidence,
    phase: &str,
    workload: Option<&str>,
) -> Vec<&'a IntervalRecord> {
    evidence
        .intervals
        .iter()
        .filter(|r| r.phase == phase && !r.warmup)
        .filter(|r| workload.is_none_or(|w| r.workload == w))
        .collect()
}

/// Measured time of a set of intervals: the sum of the lengths of distinct interval
/// indices, so that intervals of several workloads covering the same second count once.
pub(crate) fn measured_time(records: &[&IntervalRecord]) -> Duration {
    let mut by_index: BTreeMap<u32, Duration> = BTreeMap::new();
    for record in records {
        let length = by_index.entry(record.index).or_default();
        *length = (*length).max(record.length);
    }
    by_index.values().sum()
}

/// Merge the statistics of several intervals.
pub(crate) fn merge(records: &[&IntervalRecord]) -> IntervalStats {
    let mut merged = IntervalStats::default();
    for record in records {
        merged.merge(&record.stats);
    }
    merged
}

/// Measure a load metric over the phase's measured intervals: `value` reads the
/// merged statistics and the measured time; `what` says how, for the method.
pub(super) fn measure(
    criterion: &CriterionPlan,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
    what: &str,
    value: impl Fn(&IntervalStats, Duration) -> Option<f64>,
) -> Measurement {
    let workload = criterion.workload.as_deref();
    let records = measured_intervals(evidence, &phase.name, workload);
    let merged = merge(&records);
    let samples = merged.outcomes.total();
    let observed = value(&merged, measured_time(&records));
    let place = describe::where_measured(&phase.name, workload);
    let hiccup_bound = starvation::hiccup_bound(Some(criterion));
    let check = GeneratorCheck::of(&records, hiccup_bound);
    let basis = format!("over {} requests in {place}", format::count(samples));
    let doubt = if check.bound > 0 {
        Some(check.doubt(place))
    } else if samples < criterion.min_samples {
        Some(Doubt::TooFewRequests {
            have: samples,
            need: criterion.min_samples,
            place,
        })
    } else if observed.is_none() {
        Some(Doubt::NoValues {
            metric: criterion.metric.name(),
            place,
        })
    } else {
        None
    };
    Measurement {
        observed,
        interval: None,
        samples,
        window: Some(window(phase, &records)),
        method: describe::load_method(what, workload),
        basis,
        doubt,
    }
}

fn window(phase: &PhaseRecord, records: &[&IntervalRecord]) -> Window {
    let start = records.iter().map(|r| r.start).min();
    let end = records.iter().map(|r| r.start + r.length).max();
    Window {
        start: start.unwrap_or(phase.started + phase.warmup),
        end: end.or(phase.ended),
        first_interval: records.iter().map(|r| r.index).min(),
        last_interval: records.iter().map(|r| r.index).max(),
    }
}

/// The generator self-check over a window of intervals.
#[derive(Debug, Default)]
struct GeneratorCheck {
    /// Intervals that are generator-bound for any reason.
    bound: usize,
    /// Intervals read.
    of: usize,
    /// Intervals whose generator delay p90 exceeded the limit.
    delayed: usize,
    /// Intervals that fell short of their planned sends without cap waits.
    short: usize,
    /// The largest generator delay p90 among the delayed intervals, µs.
    worst_delay_micros: u64,
    /// Lowest share of planned sends completed among the short intervals.
    worst_share: f64,
    /// The generator's starvation (hiccup meter, scheduling evidence), if any.
    starved: Option<crate::model::Starved>,
}

impl GeneratorCheck {
    fn of(records: &[&IntervalRecord], hiccup_bound: Duration) -> GeneratorCheck {
        let mut check = GeneratorCheck {
            of: records.len(),
            worst_share: 1.0,
            starved: starvation::window(records, hiccup_bound),
            ..GeneratorCheck::default()
        };
        for record in records {
            let stats = &record.stats;
            if delayed(stats) {
                check.delayed += 1;
                let delay = delay_micros(stats).unwrap_or(0);
                check.worst_delay_micros = check.worst_delay_micros.max(delay);
            }
            if short(stats) {
                check.short += 1;
                let share = stats.sent as f64 / stats.planned as f64;
                check.worst_share = check.worst_share.min(share);
            }
            if generator_bound(stats) || starvation::starved(record, hiccup_bound) {
                check.bound += 1;
            }
        }
        check
    }

    fn doubt(&self, place: String) -> Doubt {
        Doubt::GeneratorBound(GeneratorBound {
            place,
            intervals: self.bound,
            of: self.of,
            delayed: self.delayed,
            worst_delay: Duration::from_micros(self.worst_delay_micros),
            limit: GENERATOR_DELAY_LIMIT,
            short: self.short,
            worst_share: self.worst_share,
            starved: self.starved.clone(),
        })
    }
}

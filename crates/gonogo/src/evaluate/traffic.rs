//! The traffic family: throughput (completed requests per measured second) and the
//! error rate of a phase's measured requests.
//!
//! Owns: each traffic metric's value and method. Does not own: the measured window
//! and the generator self-check (`load`), the comparison (`evaluate::conclude`).

use std::time::Duration;

use super::{Measurement, load};
use crate::model::{IntervalStats, PhaseRecord, RunEvidence, TrafficMetric};
use crate::plan::CriterionPlan;
use crate::stats;

pub(super) fn measure(
    criterion: &CriterionPlan,
    metric: TrafficMetric,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    load::measure(
        criterion,
        phase,
        evidence,
        method(metric),
        |merged, time| value(metric, merged, time),
    )
}

/// The metric's value from merged statistics over `measured` time, in its base unit.
fn value(metric: TrafficMetric, merged: &IntervalStats, measured: Duration) -> Option<f64> {
    match metric {
        TrafficMetric::Throughput => stats::rate(merged.outcomes.total(), measured),
        TrafficMetric::ErrorRate => stats::ratio(merged.outcomes.failed(), merged.outcomes.total()),
    }
}

fn method(metric: TrafficMetric) -> &'static str {
    match metric {
        TrafficMetric::Throughput => {
            "completed requests divided by the measured time (the sum of the measured interval \
             lengths, an interval shared by several workloads counted once)"
        }
        TrafficMetric::ErrorRate => {
            "failed requests (status mismatch, connect error, timeout, I/O error) divided by \
             all completed requests"
        }
    }
}

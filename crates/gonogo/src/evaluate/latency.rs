//! The latency family: response time percentiles, service time and schedule lag of a
//! phase's measured requests (histograms merged, never averaged).
//!
//! Owns: each latency metric's value and method. Does not own: the measured window
//! and the generator self-check (`load`), the comparison (`evaluate::conclude`).

use super::{Measurement, describe, load};
use crate::model::{IntervalStats, LatencyMetric, PhaseRecord, RunEvidence};
use crate::plan::CriterionPlan;
use crate::stats;

pub(super) fn measure(
    criterion: &CriterionPlan,
    metric: LatencyMetric,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let what = method(metric, phase);
    load::measure(criterion, phase, evidence, &what, |merged, _| {
        value(metric, merged)
    })
}

/// The metric's value from merged statistics, in seconds.
fn value(metric: LatencyMetric, merged: &IntervalStats) -> Option<f64> {
    match metric {
        LatencyMetric::P50 => stats::quantile_seconds(&merged.response, 0.50),
        LatencyMetric::P90 => stats::quantile_seconds(&merged.response, 0.90),
        LatencyMetric::P99 => stats::quantile_seconds(&merged.response, 0.99),
        LatencyMetric::P999 => stats::quantile_seconds(&merged.response, 0.999),
        LatencyMetric::Max => stats::max_seconds(&merged.response),
        LatencyMetric::ServiceTimeP99 => stats::quantile_seconds(&merged.service, 0.99),
        LatencyMetric::LagP99 => stats::quantile_seconds(&merged.lag, 0.99),
    }
}

/// How the metric is computed, before the window's words.
fn method(metric: LatencyMetric, phase: &PhaseRecord) -> String {
    let origin = if phase.model == "closed" {
        "from the actual send (closed model)"
    } else {
        "from the intended send time (open model, coordinated omission corrected)"
    };
    let merged = "of the merged per-interval HDR histograms (3 significant digits)";
    match metric {
        LatencyMetric::P50 => describe::percentile("50th", merged, origin),
        LatencyMetric::P90 => describe::percentile("90th", merged, origin),
        LatencyMetric::P99 => describe::percentile("99th", merged, origin),
        LatencyMetric::P999 => describe::percentile("99.9th", merged, origin),
        LatencyMetric::Max => {
            format!("largest value {merged} of response time measured {origin}")
        }
        LatencyMetric::ServiceTimeP99 => format!(
            "99th percentile {merged} of service time, from the actual send to the end of the response"
        ),
        LatencyMetric::LagP99 => format!(
            "99th percentile {merged} of schedule lag, the actual send time minus the intended send time"
        ),
    }
}

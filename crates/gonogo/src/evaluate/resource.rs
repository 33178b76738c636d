//! Resource metrics: RSS, CPU, file descriptors and threads of the service's process
//! tree, read from the resource samples taken during a phase.
//!
//! Owns: the sample window (after the phase's warm-up, up to its end, only while the
//! service was running) and the value of each resource metric. Does not own: the
//! comparison with the threshold (`evaluate::conclude`).

use std::time::Duration;

use super::Measurement;
use crate::model::{Doubt, PhaseRecord, ResourceMetric, ResourceSample, RunEvidence, Window};
use crate::plan::CriterionPlan;
use crate::stats;
use crate::units::format;

/// Samples of a phase's measured window, with the window itself.
#[derive(Debug)]
pub(crate) struct PhaseSamples<'a> {
    pub samples: Vec<&'a ResourceSample>,
    pub window: Window,
}

/// Samples with `at` in [phase start + warm-up, phase end] (or up to the last sample
/// when the phase did not end) taken while the service had at least one process.
pub(crate) fn phase_samples<'a>(
    evidence: &'a RunEvidence,
    phase: &PhaseRecord,
) -> PhaseSamples<'a> {
    let start = phase.started + phase.warmup;
    let end = phase.ended.unwrap_or(Duration::MAX);
    let samples: Vec<&ResourceSample> = evidence
        .samples
        .iter()
        .filter(|s| s.at >= start && s.at <= end && s.processes > 0)
        .collect();
    let last_at = samples.last().map(|s| s.at);
    PhaseSamples {
        window: Window {
            start,
            end: phase.ended.or(last_at),
            first_interval: None,
            last_interval: None,
        },
        samples,
    }
}

/// The maximum of one field over the samples.
fn max_of(samples: &[&ResourceSample], field: impl Fn(&ResourceSample) -> u64) -> Option<f64> {
    samples.iter().map(|s| field(s)).max().map(|v| v as f64)
}

/// A resource metric's value over a phase's samples, in its base unit.
pub(crate) fn value(metric: ResourceMetric, samples: &[&ResourceSample]) -> Option<f64> {
    match metric {
        ResourceMetric::RssMax => max_of(samples, |s| s.rss_bytes),
        ResourceMetric::FdsMax => max_of(samples, |s| s.open_fds),
        ResourceMetric::ThreadsMax => max_of(samples, |s| s.threads),
        ResourceMetric::CpuMean => stats::cpu_mean(samples),
    }
}

/// How a resource metric is computed, in words.
fn method(metric: ResourceMetric) -> String {
    let over = "across the resource samples of the service's process tree taken between the end \
                of the warm-up and the end of the phase while the service was running";
    match metric {
        ResourceMetric::RssMax => {
            format!("largest resident set size (summed over the tree) {over}")
        }
        ResourceMetric::CpuMean => format!(
            "CPU time (user + system) used between the first and the last sample (the sum of \
             the non-negative increments between consecutive samples, so a restart does not \
             cancel what came before), divided by the time between them, in cores, {over}"
        ),
        ResourceMetric::FdsMax => format!("largest number of open file descriptors {over}"),
        ResourceMetric::ThreadsMax => format!("largest number of threads {over}"),
    }
}

pub(super) fn measure(
    criterion: &CriterionPlan,
    metric: ResourceMetric,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let PhaseSamples { samples, window } = phase_samples(evidence, phase);
    let count = samples.len() as u64;
    let observed = value(metric, &samples);
    let doubt = if count < criterion.min_samples {
        Some(Doubt::TooFewSamples {
            have: count,
            need: criterion.min_samples,
            phase: phase.name.clone(),
        })
    } else if observed.is_none() {
        Some(Doubt::TooFewSampleTimes {
            metric: criterion.metric.name(),
            have: count,
            phase: phase.name.clone(),
        })
    } else {
        None
    };
    Measurement {
        observed,
        interval: None,
        samples: count,
        window: Some(window),
        method: method(metric),
        basis: format!(
            "over {} resource samples in phase {}",
            format::count(count),
            phase.name
        ),
        doubt,
    }
}

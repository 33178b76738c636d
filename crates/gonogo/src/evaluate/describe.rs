//! Words for findings: how each metric is computed (`method`) and the sentence that
//! says why a finding passed, failed or could not be decided (`explanation`).
//!
//! Owns: the wording only. Does not own: the numbers (see `load`, `resource`,
//! `implicit`) nor value formatting (see `report::format`).

use crate::model::{Metric, PhaseRecord};
use crate::plan::CriterionPlan;
use crate::units::format;

/// How a load metric is computed, in words.
pub(super) fn load_method(metric: Metric, phase: &PhaseRecord, workload: Option<&str>) -> String {
    let response_origin = if phase.model == "closed" {
        "from the actual send (closed model)"
    } else {
        "from the intended send time (open model, coordinated omission corrected)"
    };
    let merged = "of the merged per-interval HDR histograms (3 significant digits)";
    let what = match metric {
        Metric::LatencyP50 => percentile("50th", merged, response_origin),
        Metric::LatencyP90 => percentile("90th", merged, response_origin),
        Metric::LatencyP99 => percentile("99th", merged, response_origin),
        Metric::LatencyP999 => percentile("99.9th", merged, response_origin),
        Metric::LatencyMax => {
            format!("largest value {merged} of response time measured {response_origin}")
        }
        Metric::ServiceTimeP99 => format!(
            "99th percentile {merged} of service time, from the actual send to the end of the response"
        ),
        Metric::LagP99 => format!(
            "99th percentile {merged} of schedule lag, the actual send time minus the intended send time"
        ),
        Metric::Throughput => "completed requests divided by the measured time (the sum of the \
                               measured interval lengths, an interval shared by several workloads \
                               counted once)"
            .to_string(),
        Metric::ErrorRate => {
            "failed requests (status mismatch, connect error, timeout, I/O error) \
                              divided by all completed requests"
                .to_string()
        }
        other => format!("{} read from the load intervals", other.name()),
    };
    format!("{what}, warm-up excluded, {}", scope(workload))
}

fn percentile(rank: &str, merged: &str, origin: &str) -> String {
    format!("{rank} percentile {merged} of response time measured {origin}")
}

fn scope(workload: Option<&str>) -> String {
    match workload {
        Some(name) => format!("workload {name} only"),
        None => "all workloads of the phase together".to_string(),
    }
}

/// How a resource metric is computed, in words.
pub(super) fn resource_method(metric: Metric) -> String {
    let over = "across the resource samples of the service's process tree taken between the end \
                of the warm-up and the end of the phase while the service was running";
    match metric {
        Metric::RssMax => format!("largest resident set size (summed over the tree) {over}"),
        Metric::CpuMean => format!(
            "CPU time (user + system) used between the first and the last sample (the sum of \
             the non-negative increments between consecutive samples, so a restart does not \
             cancel what came before), divided by the time between them, in cores, {over}"
        ),
        Metric::FdsMax => format!("largest number of open file descriptors {over}"),
        Metric::ThreadsMax => format!("largest number of threads {over}"),
        other => format!("{} {over}", other.name()),
    }
}

/// How `service.crashed` is computed, in words.
pub(super) fn crash_method() -> String {
    "1 when a service exit that gonogo did not ask for was recorded between the phase's start \
     and its end (or the end of the run), else 0"
        .to_string()
}

/// `latency.p99 <= 50.0 ms`: the criterion's comparison with a formatted threshold.
pub(super) fn comparison(criterion: &CriterionPlan) -> String {
    format!(
        "{} {} {}",
        criterion.metric.name(),
        criterion.op.symbol(),
        format::value(criterion.metric.unit(), criterion.threshold)
    )
}

/// The explanation of a decided finding: observed value, what it was read over, and
/// whether it meets the threshold.
pub(super) fn decided(
    criterion: &CriterionPlan,
    observed: f64,
    basis: &str,
    holds: bool,
) -> String {
    let value = format::value(criterion.metric.unit(), observed);
    let judgement = if holds { "which meets" } else { "which breaks" };
    format!(
        "{} was {value} {basis}, {judgement} the threshold {}.",
        criterion.metric.name(),
        comparison(criterion)
    )
}

/// "phase X" or "phase X (workload Y)".
pub(super) fn where_measured(phase: &str, workload: Option<&str>) -> String {
    match workload {
        Some(name) => format!("phase {phase} (workload {name})"),
        None => format!("phase {phase}"),
    }
}

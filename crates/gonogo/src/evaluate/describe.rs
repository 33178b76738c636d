//! Words for findings: how each metric is computed (`method`) and the sentence that
//! says why a finding passed, failed or could not be decided (`explanation`).
//!
//! Owns: the wording shared by the families. Does not own: the numbers, nor each
//! metric's own method (its family module), nor value formatting (`units::format`).

use crate::plan::CriterionPlan;
use crate::units::format;

/// How a load metric is computed, in words: `what` (from the family), then the window.
pub(super) fn load_method(what: &str, workload: Option<&str>) -> String {
    format!("{what}, warm-up excluded, {}", scope(workload))
}

pub(super) fn percentile(rank: &str, merged: &str, origin: &str) -> String {
    format!("{rank} percentile {merged} of response time measured {origin}")
}

fn scope(workload: Option<&str>) -> String {
    match workload {
        Some(name) => format!("workload {name} only"),
        None => "all workloads of the phase together".to_string(),
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

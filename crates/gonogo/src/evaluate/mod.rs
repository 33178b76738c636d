//! Evaluation: criteria × stored evidence → findings, one per criterion, followed by
//! the implicit findings gonogo applies on its own (the service stayed up, the run
//! completed).
//!
//! Owns: which evidence each metric reads (the measured window), how the value is
//! computed, the generator self-check, and the words that explain each finding.
//! Does not own: the aggregation into a verdict (`verdict`) nor rendering (`report`).
//! Pure: no I/O and no clock reads; the same evidence always gives the same findings.

mod describe;
mod finding;
mod implicit;
mod load;
mod resource;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub use finding::{Finding, Outcome, Window};
pub use implicit::{RUN_COMPLETED, SERVICE_STAYED_UP, metric_label};
pub use load::{GENERATOR_DELAY_LIMIT, GENERATOR_SHORTFALL, generator_bound};

pub(crate) use implicit::describe_exit;
pub(crate) use load::{measured_intervals, measured_time, merge as merge_intervals};
pub(crate) use resource::phase_samples;

use crate::evidence::model::{PhaseRecord, RunEvidence};
use crate::plan::{CriterionPlan, Metric};

/// Judge every criterion against the stored evidence, plus implicit rules.
///
/// Returns one finding per criterion, in the criteria's order, then one blocker
/// finding per unexpected service exit, then one for a run that did not complete.
pub fn evaluate(criteria: &[CriterionPlan], evidence: &RunEvidence) -> Vec<Finding> {
    let mut findings: Vec<Finding> = criteria.iter().map(|c| judge(c, evidence)).collect();
    findings.extend(implicit::findings(evidence));
    findings
}

/// Which part of the evidence a metric reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Per-interval load statistics.
    Load,
    /// Resource samples of the service's process tree.
    Resource,
    /// Service exit events.
    Events,
}

fn source(metric: Metric) -> Source {
    match metric {
        Metric::LatencyP50
        | Metric::LatencyP90
        | Metric::LatencyP99
        | Metric::LatencyP999
        | Metric::LatencyMax
        | Metric::ServiceTimeP99
        | Metric::LagP99
        | Metric::Throughput
        | Metric::ErrorRate => Source::Load,
        Metric::RssMax | Metric::CpuMean | Metric::FdsMax | Metric::ThreadsMax => Source::Resource,
        Metric::ServiceCrashed => Source::Events,
    }
}

/// What a metric module measured, before the comparison with the threshold.
#[derive(Debug)]
struct Measurement {
    observed: Option<f64>,
    samples: u64,
    window: Option<Window>,
    method: String,
    /// What the value was read over, completing "latency.p99 was 12 ms …".
    basis: String,
    /// Why the value cannot be trusted or is missing; makes the finding inconclusive.
    doubt: Option<String>,
}

fn judge(criterion: &CriterionPlan, evidence: &RunEvidence) -> Finding {
    let Some(phase) = find_phase(evidence, &criterion.phase) else {
        return not_run(criterion);
    };
    let measurement = match source(criterion.metric) {
        Source::Load => load::measure(criterion, phase, evidence),
        Source::Resource => resource::measure(criterion, phase, evidence),
        Source::Events => implicit::measure_crashed(phase, evidence),
    };
    conclude(criterion, measurement)
}

fn find_phase<'a>(evidence: &'a RunEvidence, name: &str) -> Option<&'a PhaseRecord> {
    evidence.phases.iter().find(|p| p.name == name)
}

fn conclude(criterion: &CriterionPlan, m: Measurement) -> Finding {
    let (outcome, explanation) = match (&m.doubt, m.observed) {
        (Some(doubt), _) => (Outcome::Inconclusive, doubt.clone()),
        (None, None) => (
            Outcome::Inconclusive,
            format!("nothing could be measured {}.", m.basis),
        ),
        (None, Some(observed)) => {
            let holds = criterion.op.holds(observed, criterion.threshold);
            let outcome = if holds { Outcome::Pass } else { Outcome::Fail };
            (
                outcome,
                describe::decided(criterion, observed, &m.basis, holds),
            )
        }
    };
    Finding {
        criterion: criterion.label.clone(),
        implicit: false,
        phase: criterion.phase.clone(),
        workload: criterion.workload.clone(),
        metric: criterion.metric,
        op: criterion.op,
        threshold: criterion.threshold,
        unit: criterion.metric.unit(),
        severity: criterion.severity,
        observed: m.observed,
        samples: m.samples,
        outcome,
        window: m.window,
        method: m.method,
        explanation,
    }
}

fn not_run(criterion: &CriterionPlan) -> Finding {
    let doubt = format!(
        "phase {} did not run, so {} could not be judged; check the run's events for why it \
         stopped early.",
        criterion.phase,
        describe::comparison(criterion)
    );
    let measurement = Measurement {
        observed: None,
        samples: 0,
        window: None,
        method: "no evidence was read: the phase has no record in this run".to_string(),
        basis: String::new(),
        doubt: Some(doubt),
    };
    conclude(criterion, measurement)
}

//! Evaluation: criteria × stored evidence → findings, one per criterion, followed by
//! the implicit findings gonogo applies on its own (the service stayed up, the run
//! completed).
//!
//! Owns: the routing of each metric family to its module (one exhaustive `match`:
//! `latency`, `traffic`, `resource`, `implicit` for `service.crashed`, `soak`,
//! `capacity`, `recovery`, `integrity`, `scaling`), which evidence each metric reads (the measured window), how the value is
//! computed, the generator self-check, and the words that explain each finding.
//! Does not own: the aggregation into a verdict (`verdict`) nor rendering (`report`).
//! Pure: no I/O and no clock reads; the same evidence always gives the same findings.

mod bad_input;
mod capacity;
mod describe;
mod implicit;
mod integrity;
mod latency;
mod load;
mod recovery;
mod resource;
mod scaling;
mod soak;
mod starvation;
mod traffic;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use crate::model::{ConfidenceInterval, Doubt, Finding, Outcome, Scope, Window};
pub use bad_input::{BAD_INPUT_REFUSED, Problem, problems as bad_input_problems};
pub use capacity::{
    Broken, Capacity, StepJudgement, StepVerdict, capacity, climb_on, judge_step, stop_conditions,
};
pub use implicit::{NO_EMERGENCY_STOP, RUN_COMPLETED, SERVICE_STAYED_UP, metric_label};
pub use integrity::{IntegrityCounts, NO_WRITE_LOST, phase_counts as integrity_counts};
pub use load::{GENERATOR_DELAY_LIMIT, GENERATOR_SHORTFALL, generator_bound};
pub use recovery::{FAULT_TOOK_EFFECT, FaultRecovery, fault_recoveries};
pub use scaling::{
    Classification, LINEAR_TOLERANCE, QuantityFit, SCALING_CONFIDENCE, Scaling, ScalingStep,
    classify, describe_fit, scaling, scaling_method,
};
pub use soak::{LEAK_CONFIDENCE, LeakTrend, LeakVerdict, leak_trend, leak_verdict, trend_points};
pub use starvation::{
    HICCUP_FLOOR, HICCUP_LIMIT, HICCUP_SHARE_OF_THRESHOLD, IntervalStarvation, RUN_QUEUE_FLOOR,
    RUN_QUEUE_LIMIT, STALL_LIMIT, STEAL_LIMIT, hiccup_bound, latency_bound, starved,
};

pub(crate) use load::{measured_intervals, measured_time, merge as merge_intervals};
pub(crate) use resource::phase_samples;

use crate::model::{Metric, PhaseRecord, RecoveryMetric, RunEvidence, ServiceMetric};
use crate::plan::{CriterionPlan, FaultPlan, PhasePlan, Plan};

/// Judge every criterion of `plan` against the stored evidence, plus implicit rules.
///
/// Returns one finding per criterion, in the criteria's order, then one "no
/// acknowledged write lost" finding per integrity phase without an `integrity.lost`
/// criterion, then one blocker finding per unexpected service exit, one per emergency stop, then one for a run
/// that did not complete. The plan's phases supply the settings that some metrics need (a soak phase's
/// leak bounds).
pub fn evaluate_plan(plan: &Plan, evidence: &RunEvidence) -> Vec<Finding> {
    let context = Context {
        phases: &plan.phases,
        faults: &plan.faults,
        expected_rate: plan.service.expected_rate,
    };
    evaluate_with(&plan.criteria, &context, evidence)
}

/// [`evaluate_plan`] for bare criteria: phase settings take their defaults and there
/// is no expected rate.
pub fn evaluate(criteria: &[CriterionPlan], evidence: &RunEvidence) -> Vec<Finding> {
    let context = Context {
        phases: &[],
        faults: &[],
        expected_rate: None,
    };
    evaluate_with(criteria, &context, evidence)
}

/// What some metrics need from the plan besides the criterion.
#[derive(Debug, Clone, Copy)]
struct Context<'a> {
    phases: &'a [PhasePlan],
    faults: &'a [FaultPlan],
    expected_rate: Option<f64>,
}

impl Context<'_> {
    fn phase(&self, name: &str) -> Option<&PhasePlan> {
        self.phases.iter().find(|p| p.name == name)
    }
}

fn evaluate_with(
    criteria: &[CriterionPlan],
    context: &Context<'_>,
    evidence: &RunEvidence,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = criteria
        .iter()
        .map(|c| judge(c, context, evidence))
        .collect();
    findings.extend(integrity::implicit(criteria, evidence));
    findings.extend(bad_input::implicit(criteria, evidence));
    findings.extend(implicit::findings(evidence));
    findings.extend(recovery::findings(evidence));
    findings
}

/// What a metric module measured, before the comparison with the threshold.
#[derive(Debug)]
struct Measurement {
    observed: Option<f64>,
    /// The confidence interval of `observed`, for estimated figures.
    interval: Option<ConfidenceInterval>,
    samples: u64,
    window: Option<Window>,
    method: String,
    /// What the value was read over, completing "latency.p99 was 12 ms …".
    basis: String,
    /// Why the value cannot be trusted or is missing; makes the finding inconclusive.
    doubt: Option<Doubt>,
}

impl Measurement {
    /// No value at all, for the reason `doubt` (the finding is inconclusive).
    fn none(method: String, basis: String, doubt: Doubt) -> Self {
        Measurement {
            observed: None,
            interval: None,
            samples: 0,
            window: None,
            method,
            basis,
            doubt: Some(doubt),
        }
    }
}

fn judge(criterion: &CriterionPlan, context: &Context<'_>, evidence: &RunEvidence) -> Finding {
    let measurement = match &criterion.scope {
        Scope::Phase { .. } => {
            let Some(phase) = find_phase(evidence, &criterion.phase) else {
                return not_run(criterion);
            };
            measure(criterion, context, phase, evidence)
        }
        Scope::Run => measure_run(criterion, evidence),
        // The comparison statistics are not computed yet: never a pass.
        Scope::Pair { .. } => undecided(Doubt::NotJudgedYet {
            what: "comparisons",
        }),
        Scope::External { name } => undecided(Doubt::NoExternalEvidence { name: name.clone() }),
    };
    conclude(criterion, measurement)
}

/// A whole-run criterion: resolution admits only the metrics
/// [`Metric::judged_over_run`], and the others are inconclusive here as well. The
/// match stays exhaustive (no catch-all over metrics), so a new family must decide
/// here whether it reads the whole run.
fn measure_run(criterion: &CriterionPlan, evidence: &RunEvidence) -> Measurement {
    match criterion.metric {
        Metric::Service(ServiceMetric::Crashed) => implicit::measure_crashed_over_run(evidence),
        Metric::Latency(_)
        | Metric::Traffic(_)
        | Metric::Resource(_)
        | Metric::Leak(..)
        | Metric::Capacity(_)
        | Metric::Recovery(_)
        | Metric::Integrity(_)
        | Metric::BadInput(_)
        | Metric::Scaling(..) => undecided(Doubt::NotJudgedYet {
            what: "whole-run criteria on this metric",
        }),
    }
}

/// Nothing read, for the reason `doubt`.
fn undecided(doubt: Doubt) -> Measurement {
    Measurement::none("no evidence was read".to_string(), String::new(), doubt)
}

/// Route the criterion to its metric's family: the one place that knows every
/// family, and a `match` the compiler checks is complete.
fn measure(
    criterion: &CriterionPlan,
    context: &Context<'_>,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let planned = context.phase(&criterion.phase);
    match criterion.metric {
        Metric::Latency(m) => latency::measure(criterion, m, phase, evidence),
        Metric::Traffic(m) => traffic::measure(criterion, m, phase, evidence),
        Metric::Resource(m) => resource::measure(criterion, m, phase, evidence),
        Metric::Service(ServiceMetric::Crashed) => implicit::measure_crashed(phase, evidence),
        Metric::Leak(resource, figure) => {
            let leak = planned.and_then(|p| p.leak).unwrap_or_default();
            soak::measure(criterion, (resource, figure), phase, &leak, evidence)
        }
        Metric::Capacity(m) => {
            let stop = planned
                .and_then(|p| p.ramp)
                .map(|r| r.stop)
                .unwrap_or_default();
            capacity::measure(m, phase, &stop, context.expected_rate, evidence)
        }
        Metric::Recovery(RecoveryMetric::Time) => {
            recovery::measure(criterion, phase, context.faults, evidence)
        }
        Metric::Integrity(m) => integrity::measure(criterion, m, phase, evidence),
        Metric::Scaling(quantity, figure) => scaling::measure((quantity, figure), phase, evidence),
        Metric::BadInput(m) => bad_input::measure(m, phase, evidence),
    }
}

fn find_phase<'a>(evidence: &'a RunEvidence, name: &str) -> Option<&'a PhaseRecord> {
    evidence.phases.iter().find(|p| p.name == name)
}

fn conclude(criterion: &CriterionPlan, m: Measurement) -> Finding {
    let (outcome, explanation) = match (&m.doubt, m.observed) {
        (Some(doubt), _) => (Outcome::Inconclusive, doubt.to_string()),
        (None, None) => (
            Outcome::Inconclusive,
            Doubt::NoData {
                basis: m.basis.clone(),
            }
            .to_string(),
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
        scope: Some(criterion.scope.clone()),
        workload: criterion.workload.clone(),
        metric: criterion.metric,
        op: criterion.op,
        threshold: criterion.threshold,
        unit: criterion.metric.unit(),
        severity: criterion.severity,
        observed: m.observed,
        interval: m.interval.filter(|_| m.doubt.is_none()),
        samples: m.samples,
        outcome,
        window: m.window,
        method: m.method,
        explanation,
    }
}

fn not_run(criterion: &CriterionPlan) -> Finding {
    let doubt = Doubt::PhaseNotRun {
        phase: criterion.phase.clone(),
        comparison: describe::comparison(criterion),
    };
    let measurement = Measurement::none(
        "no evidence was read: the phase has no record in this run".to_string(),
        String::new(),
        doubt,
    );
    conclude(criterion, measurement)
}

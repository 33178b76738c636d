//! Faults in the evidence: recovery time after each fault, and the implicit rule
//! that a network fault must have touched traffic to say anything.
//!
//! Owns: matching the plan's faults to their `fault_applied`/`fault_removed` events,
//! and finding the first interval after a fault's end that meets its
//! `recovered_when` conditions. Does not own: applying faults (`run`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Measurement, generator_bound, implicit};
use crate::model::{
    Doubt, EventKind, Finding, IntervalRecord, IntervalStats, Metric, Op, Outcome, PhaseRecord,
    RunEvidence, Window,
};
use crate::plan::{CriterionPlan, FaultPlan, Recovery};
use crate::units::{Unit, format};

/// Name of the implicit rule that is inconclusive when a network fault touched no
/// connection while it was in force.
pub const FAULT_TOOK_EFFECT: &str = "fault took effect";

/// When a fault of `phase` ended, by its label: lifted, resumed, or service ready again.
fn fault_ends<'a>(
    evidence: &'a RunEvidence,
    phase: &'a str,
) -> impl Iterator<Item = (&'a str, Duration)> {
    evidence
        .events
        .iter()
        .filter_map(move |event| match &event.kind {
            EventKind::FaultRemoved {
                fault, phase: p, ..
            } if p == phase => Some((fault.as_str(), event.at)),
            _ => None,
        })
}

/// One interval index of a phase with all workloads merged, reduced to what the
/// recovery conditions read, so a long phase never holds its merged histograms.
struct Merged {
    start: Duration,
    length: Duration,
    requests: u64,
    failed: u64,
    generator_bound: bool,
    /// p99 response time, µs.
    response_p99: u64,
}

/// The phase's intervals with all workloads merged per index, in time order; each
/// index takes the start and length of its first record.
fn merged_intervals(evidence: &RunEvidence, phase: &str) -> Vec<Merged> {
    let mut groups: BTreeMap<u32, Vec<&IntervalRecord>> = BTreeMap::new();
    for record in evidence.intervals.iter().filter(|r| r.phase == phase) {
        groups.entry(record.index).or_default().push(record);
    }
    groups
        .into_values()
        .filter_map(|records| {
            let first = records.first()?;
            let mut stats = IntervalStats::default();
            for record in &records {
                stats.merge(&record.stats);
            }
            Some(Merged {
                start: first.start,
                length: first.length,
                requests: stats.outcomes.total(),
                failed: stats.outcomes.failed(),
                generator_bound: generator_bound(&stats),
                response_p99: stats.response.value_at_quantile(0.99),
            })
        })
        .collect()
}

fn meets(interval: &Merged, recovery: &Recovery) -> bool {
    let total = interval.requests;
    if total == 0 || interval.generator_bound {
        return false;
    }
    let latency_ok = recovery
        .latency_p99
        .is_none_or(|bound| interval.response_p99 as f64 / 1e6 <= bound.as_secs_f64());
    let errors_ok = recovery
        .error_rate
        .is_none_or(|bound| interval.failed as f64 / total as f64 <= bound);
    latency_ok && errors_ok
}

fn conditions(recovery: &Recovery) -> String {
    let mut parts = Vec::new();
    if let Some(latency) = recovery.latency_p99 {
        parts.push(format!(
            "response-time p99 <= {}",
            format::seconds(latency.as_secs_f64())
        ));
    }
    if let Some(rate) = recovery.error_rate {
        parts.push(format!("error rate <= {}", format::percent(rate)));
    }
    if parts.is_empty() {
        "at least one completed request".to_string()
    } else {
        parts.join(" and ")
    }
}

/// One fault's recovery: `Ok(time)` or `Err(lower bound)` when it had not recovered
/// by the end of the phase.
fn recovery_of(
    end: Duration,
    recovery: &Recovery,
    intervals: &[Merged],
    phase_end: Duration,
) -> Result<Duration, Duration> {
    intervals
        .iter()
        .filter(|i| i.start >= end)
        .find(|i| meets(i, recovery))
        .map(|i| (i.start + i.length).saturating_sub(end))
        .ok_or(phase_end.saturating_sub(end))
}

/// How one fault of a phase ended and how long the service took to recover.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRecovery {
    /// The fault as written (its label).
    pub label: String,
    /// When the fault ended (lifted, resumed, or the service ready again).
    pub ended: Duration,
    /// `Ok(recovery time)`, or `Err(time left in the phase)` when the service had not
    /// recovered by the phase's last interval.
    pub recovery: Result<Duration, Duration>,
}

/// Every fault of `phase` that ended during the run, with its recovery judged by the
/// plan's `recovered_when` conditions, and the end of the phase's last interval.
/// `recovery.time` reads exactly these.
pub fn fault_recoveries(
    evidence: &RunEvidence,
    phase: &PhaseRecord,
    faults: &[FaultPlan],
) -> (Vec<FaultRecovery>, Duration) {
    let intervals = merged_intervals(evidence, &phase.name);
    let phase_end = intervals
        .last()
        .map_or(phase.started, |i| i.start + i.length);
    let mut results = Vec::new();
    for (label, end) in fault_ends(evidence, &phase.name) {
        let Some(fault) = faults.iter().find(|f| f.label == label) else {
            continue;
        };
        results.push(FaultRecovery {
            label: label.to_string(),
            ended: end,
            recovery: recovery_of(end, &fault.recovered_when, &intervals, phase_end),
        });
    }
    (results, phase_end)
}

/// `recovery.time` for one phase: the longest recovery over the phase's faults.
pub(super) fn measure(
    criterion: &CriterionPlan,
    phase: &PhaseRecord,
    faults: &[FaultPlan],
    evidence: &RunEvidence,
) -> Measurement {
    let (results, phase_end) = fault_recoveries(evidence, phase, faults);
    let method = format!(
        "for each fault of the phase, the time from its end (lifted, resumed, or the \
         service ready again after a kill or restart) to the end of the first interval \
         that starts after it, is not generator-bound, and meets the fault's \
         recovered_when conditions (default: {}); the longest over the phase's faults; \
         resolution one interval",
        conditions(&Recovery {
            latency_p99: None,
            error_rate: Some(0.01)
        })
    );
    let first_end = results.iter().map(|r| r.ended).min();
    let window = first_end.map(|start| Window {
        start,
        end: Some(phase_end),
        first_interval: None,
        last_interval: None,
    });
    let worst = results
        .iter()
        .map(|r| match r.recovery {
            Ok(t) | Err(t) => t,
        })
        .max();
    let unrecovered: Vec<String> = results
        .iter()
        .filter_map(|r| {
            r.recovery.err().map(|bound| {
                format!(
                    "{} (no recovery within the {} left)",
                    r.label,
                    format::seconds(bound.as_secs_f64())
                )
            })
        })
        .collect();
    let doubt = if results.is_empty() {
        Some(Doubt::NoFaultEnded {
            phase: phase.name.clone(),
        })
    } else if !unrecovered.is_empty()
        && worst.is_some_and(|w| criterion.op.holds(w.as_secs_f64(), criterion.threshold))
    {
        // Only a lower bound is known, and it does not settle the criterion.
        Some(Doubt::NotRecovered {
            phase: phase.name.clone(),
            unrecovered: unrecovered.clone(),
            criterion: criterion.label.clone(),
        })
    } else {
        None
    };
    let basis = if unrecovered.is_empty() {
        format!("over {} fault(s) in phase {}", results.len(), phase.name)
    } else {
        format!(
            "over {} fault(s) in phase {} (at least: {})",
            results.len(),
            phase.name,
            unrecovered.join(", ")
        )
    };
    Measurement {
        observed: worst.map(|w| w.as_secs_f64()),
        interval: None,
        samples: results.len() as u64,
        window,
        method,
        basis,
        doubt,
    }
}

/// One inconclusive blocker per network fault that touched no connection.
pub(super) fn findings(evidence: &RunEvidence) -> Vec<Finding> {
    evidence
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::FaultRemoved {
                fault,
                phase,
                connections: Some(0),
                ..
            } => Some(Finding {
                metric: Metric::RecoveryTime,
                op: Op::Ge,
                threshold: 1.0,
                unit: Unit::Count,
                observed: Some(0.0),
                ..implicit::event_finding(
                    FAULT_TOOK_EFFECT,
                    phase.clone(),
                    event.at,
                    Outcome::Inconclusive,
                    "the proxy counts the connections and bytes each fault acted on while it \
                     was in force",
                    Doubt::FaultNeverApplied {
                        fault: fault.clone(),
                        phase: phase.clone(),
                    }
                    .to_string(),
                )
            }),
            _ => None,
        })
        .collect()
}

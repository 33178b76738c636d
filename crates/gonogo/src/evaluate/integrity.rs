//! Integrity phases: the counts read from a stored ledger, the `integrity.*`
//! metrics, and the implicit rule "no acknowledged write lost".
//!
//! Owns: what each count means. Per key, the final read is the second read unless it
//! failed, then the first. *Lost* = acknowledged, and the final read found the key
//! missing or holding another value. *Recovered* = indeterminate, and the final read
//! found the value. *Unexpected* = keys listed under the phase's prefix that were
//! never attempted, plus failed writes found present anyway (the service said no and
//! kept it); not checked (no number) without a listing. *Unstable* = keys whose two
//! reads both answered and differ. *RPO* = from the earliest lost acknowledgement to
//! the start of the first fault of the phase at or after it, or, with no such fault,
//! the span of the lost acknowledgements; 0 with nothing lost. Without a read-back
//! that answered at least once, nothing is decided (INCONCLUSIVE, never a pass).
//! Does not own: running the phase (`integrity`).

use std::time::Duration;

use super::Measurement;
use crate::model::{
    Doubt, EventKind, Finding, IntegrityLedger, IntegrityMetric, Metric, Op, Outcome, PhaseRecord,
    ReadCheck, RunEvidence, Scope, Severity, Window, WriteOutcome,
};
use crate::plan::CriterionPlan;
use crate::units::format;

/// Name of the implicit rule of every integrity phase without an `integrity.lost`
/// criterion of its own.
pub const NO_WRITE_LOST: &str = "no acknowledged write lost";

/// What an integrity phase's ledger says, key by key, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntegrityCounts {
    pub attempted: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub indeterminate: u64,
    /// Whether a read-back was made and at least one read answered.
    pub read_back: bool,
    pub lost: u64,
    pub recovered: u64,
    /// Keys listed but never attempted plus failed writes found present; `None`
    /// when there was no listing.
    pub unexpected: Option<u64>,
    /// Failed writes whose key was found present (part of `unexpected`).
    pub failed_present: u64,
    pub unstable: u64,
    /// Keys both of whose reads failed; of them, acknowledged ones.
    pub unread: u64,
    pub unread_acknowledged: u64,
    /// Data-loss window, see the module doc; `None` without a read-back.
    pub rpo: Option<Duration>,
    /// Whether the RPO ran to a fault's start (else it is the lost writes' span).
    pub rpo_to_fault: bool,
}

/// The final state of a key from its two reads; `None` when neither answered.
fn final_read([first, second]: [ReadCheck; 2]) -> Option<ReadCheck> {
    match (first, second) {
        (ReadCheck::Error, ReadCheck::Error) => None,
        (found, ReadCheck::Error) => Some(found),
        (_, found) => Some(found),
    }
}

/// Count `ledger`; `fault_starts` are the run offsets at which the phase's faults
/// were applied.
pub fn counts(ledger: &IntegrityLedger, fault_starts: &[Duration]) -> IntegrityCounts {
    let mut c = IntegrityCounts {
        attempted: ledger.writes.len() as u64,
        ..IntegrityCounts::default()
    };
    for write in &ledger.writes {
        match write.outcome {
            WriteOutcome::Acknowledged => c.acknowledged += 1,
            WriteOutcome::Failed => c.failed += 1,
            WriteOutcome::Indeterminate => c.indeterminate += 1,
        }
    }
    let Some(read_back) = &ledger.read_back else {
        return c;
    };
    let mut lost_acks: Vec<Duration> = Vec::new();
    for (write, reads) in ledger.writes.iter().zip(&read_back.reads) {
        let both = reads[0] != ReadCheck::Error && reads[1] != ReadCheck::Error;
        if both && reads[0] != reads[1] {
            c.unstable += 1;
        }
        let Some(read) = final_read(*reads) else {
            c.unread += 1;
            c.unread_acknowledged += u64::from(write.outcome == WriteOutcome::Acknowledged);
            continue;
        };
        let present = matches!(read, ReadCheck::Match | ReadCheck::Wrong);
        match write.outcome {
            WriteOutcome::Acknowledged if read != ReadCheck::Match => {
                c.lost += 1;
                lost_acks.push(ledger.writes_start + Duration::from_millis(write.at_ms.into()));
            }
            WriteOutcome::Indeterminate if read == ReadCheck::Match => c.recovered += 1,
            WriteOutcome::Failed if present => c.failed_present += 1,
            _ => {}
        }
    }
    c.read_back = c.attempted == 0 || c.unread < c.attempted;
    if !c.read_back {
        return c;
    }
    c.unexpected = read_back
        .listing
        .map(|listing| listing.never_attempted + c.failed_present);
    let (rpo, to_fault) = rpo(&lost_acks, fault_starts);
    c.rpo = Some(rpo);
    c.rpo_to_fault = to_fault;
    c
}

/// The RPO of lost acknowledgements at `lost` (run offsets), and whether it ran to
/// a fault's start.
fn rpo(lost: &[Duration], fault_starts: &[Duration]) -> (Duration, bool) {
    let (Some(first), Some(last)) = (lost.iter().min(), lost.iter().max()) else {
        return (Duration::ZERO, false);
    };
    match fault_starts.iter().filter(|f| *f >= first).min() {
        Some(fault) => (*fault - *first, true),
        None => (*last - *first, false),
    }
}

/// When the faults of `phase` were applied, as run offsets.
fn fault_starts(evidence: &RunEvidence, phase: &str) -> Vec<Duration> {
    evidence
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::FaultApplied { phase: p, .. } if p == phase => Some(event.at),
            _ => None,
        })
        .collect()
}

/// The counts of `phase`'s ledger in `evidence`, if it has one.
pub fn phase_counts(evidence: &RunEvidence, phase: &str) -> Option<IntegrityCounts> {
    let ledger = evidence.integrity.iter().find(|l| l.phase == phase)?;
    Some(counts(ledger, &fault_starts(evidence, phase)))
}

fn method(metric: IntegrityMetric, counts: Option<&IntegrityCounts>) -> String {
    let base = "every attempted key read back twice after the settle time and compared with \
                the value its write carried";
    match metric {
        IntegrityMetric::Lost => format!("{base}; lost = acknowledged but missing or wrong"),
        IntegrityMetric::Recovered => format!("{base}; recovered = indeterminate but present"),
        IntegrityMetric::Unexpected => format!(
            "{base}, then the phase's key prefix listed; unexpected = listed but never \
             attempted, plus failed writes found present"
        ),
        IntegrityMetric::Rpo => if counts.is_some_and(|c| c.rpo_to_fault) {
            "RPO: from the earliest lost acknowledgement to the start of the first fault at \
             or after it"
        } else {
            "RPO: the time span of the lost acknowledged writes (no fault after the first of \
             them)"
        }
        .to_string(),
        IntegrityMetric::Indeterminate | IntegrityMetric::Acknowledged => {
            "each write's outcome as the client saw it (acknowledged, failed, or \
              indeterminate: sent with no answer)"
                .to_string()
        }
    }
}

fn observed(metric: IntegrityMetric, c: &IntegrityCounts) -> Option<f64> {
    Some(match metric {
        IntegrityMetric::Lost => c.lost as f64,
        IntegrityMetric::Unexpected => c.unexpected? as f64,
        IntegrityMetric::Recovered => c.recovered as f64,
        IntegrityMetric::Indeterminate => c.indeterminate as f64,
        IntegrityMetric::Acknowledged => c.acknowledged as f64,
        IntegrityMetric::Rpo => c.rpo?.as_secs_f64(),
    })
}

/// Measure an `integrity.*` criterion on `phase`.
pub(super) fn measure(
    criterion: &CriterionPlan,
    metric: IntegrityMetric,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let counts = phase_counts(evidence, &phase.name);
    let window = Some(Window {
        start: phase.started,
        end: phase.ended,
        first_interval: None,
        last_interval: None,
    });
    let basis = format!(
        "over the {} writes of phase {}",
        counts.map_or(0, |c| c.attempted),
        phase.name
    );
    let observed = counts.as_ref().and_then(|c| observed(metric, c));
    let doubt = counts.as_ref().map_or_else(
        || {
            Some(Doubt::NoLedger {
                phase: phase.name.clone(),
            })
        },
        |c| doubt(criterion, metric, c, observed),
    );
    Measurement {
        observed,
        interval: None,
        samples: counts.map_or(0, |c| c.acknowledged),
        window,
        method: method(metric, counts.as_ref()),
        basis,
        doubt,
    }
}

/// Why the counts cannot decide `criterion`, if they cannot.
fn doubt(
    criterion: &CriterionPlan,
    metric: IntegrityMetric,
    c: &IntegrityCounts,
    observed: Option<f64>,
) -> Option<Doubt> {
    if !c.read_back {
        return Some(Doubt::NoFinalRead { keys: c.attempted });
    }
    if c.acknowledged < criterion.min_samples {
        return Some(Doubt::TooFewAcknowledged {
            have: c.acknowledged,
            need: criterion.min_samples,
        });
    }
    let holds = observed.is_some_and(|v| criterion.op.holds(v, criterion.threshold));
    // Lost writes may hide among the unread keys: these figures are lower bounds.
    let lower_bound = match metric {
        IntegrityMetric::Lost | IntegrityMetric::Rpo => true,
        IntegrityMetric::Unexpected
        | IntegrityMetric::Recovered
        | IntegrityMetric::Indeterminate
        | IntegrityMetric::Acknowledged => false,
    };
    if lower_bound && holds && c.unread_acknowledged > 0 {
        return Some(Doubt::UnreadAcknowledged {
            keys: c.unread_acknowledged,
            metric: criterion.metric.name(),
        });
    }
    if metric == IntegrityMetric::Unexpected && c.unexpected.is_none() {
        return Some(Doubt::UnexpectedNotChecked {
            failed_present: c.failed_present,
        });
    }
    None
}

/// The implicit "no acknowledged write lost" finding of every integrity phase that
/// ran and has no `integrity.lost` criterion of its own.
pub(super) fn implicit(criteria: &[CriterionPlan], evidence: &RunEvidence) -> Vec<Finding> {
    evidence
        .phases
        .iter()
        .filter(|p| p.kind == "integrity")
        .filter(|p| {
            !criteria
                .iter()
                .any(|c| c.phase == p.name && c.metric == Metric::IntegrityLost)
        })
        .map(|phase| {
            let criterion = CriterionPlan {
                label: NO_WRITE_LOST.to_string(),
                scope: Scope::Phase {
                    name: phase.name.clone(),
                },
                phase: phase.name.clone(),
                workload: None,
                metric: Metric::IntegrityLost,
                op: Op::Le,
                threshold: 0.0,
                severity: Severity::Blocker,
                min_samples: Metric::IntegrityLost.default_min_samples(),
            };
            let measurement = measure(&criterion, IntegrityMetric::Lost, phase, evidence);
            let mut finding = super::conclude(&criterion, measurement);
            finding.implicit = true;
            if finding.outcome == Outcome::Fail
                && let Some(c) = phase_counts(evidence, &phase.name)
            {
                finding.explanation = lost_explanation(&c);
            }
            finding
        })
        .collect()
}

fn lost_explanation(c: &IntegrityCounts) -> String {
    let rpo = c.rpo.map_or_else(
        || "unknown".to_string(),
        |rpo| format::seconds(rpo.as_secs_f64()),
    );
    format!(
        "{} of {} acknowledged writes were missing or wrong on the read-back ({} attempted, {} \
         failed, {} indeterminate, {} of them recovered); RPO {rpo}.",
        c.lost, c.acknowledged, c.attempted, c.failed, c.indeterminate, c.recovered
    )
}

#[cfg(test)]
mod tests;

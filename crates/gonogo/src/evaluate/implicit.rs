//! Implicit rules gonogo applies without a criterion — the service stayed up, the run
//! completed — and the `service.crashed` metric, which reads the same exit events.
//!
//! Owns: finding unexpected service exits on the timeline and the phase each fell in,
//! and the wording of the implicit findings. Does not own: criteria (`evaluate`).

use std::time::Duration;

use super::Measurement;
use super::describe;
use crate::model::{
    EventKind, Finding, Metric, Op, Outcome, PhaseRecord, RunEvidence, RunStatus, Severity, Window,
};
use crate::units::{Unit, format};

/// Name of the implicit rule failed by every unexpected service exit.
pub const SERVICE_STAYED_UP: &str = "service stayed up";

/// Name of the implicit rule that is inconclusive when the run was aborted or never
/// finished.
pub const RUN_COMPLETED: &str = "run completed";

/// Name of the implicit rule failed (or, for the host's memory, left undecided) by
/// every emergency stop.
pub const NO_EMERGENCY_STOP: &str = "no emergency stop";

/// The metric name to show for a finding. The implicit "run completed" and "no
/// emergency stop" rules have no metric of their own in [`Metric`] and are shown as
/// `run.completed` and `emergency.stop`.
pub fn metric_label(finding: &Finding) -> &'static str {
    if finding.implicit && finding.criterion == RUN_COMPLETED {
        "run.completed"
    } else if finding.implicit && finding.criterion == super::FAULT_TOOK_EFFECT {
        "fault.connections"
    } else if finding.implicit && finding.criterion == NO_EMERGENCY_STOP {
        "emergency.stop"
    } else {
        finding.metric.name()
    }
}

/// One finding per emergency stop: FAIL when the service passed a limit (its RSS,
/// its error rate), INCONCLUSIVE when the host ran short of memory (the environment,
/// not necessarily the service).
fn emergency_findings(evidence: &RunEvidence) -> impl Iterator<Item = Finding> + '_ {
    evidence.events.iter().filter_map(|event| {
        let EventKind::EmergencyStop { limit, phase, .. } = &event.kind else {
            return None;
        };
        let host = limit == "host_memory_floor";
        let detail = crate::model::event_detail(&event.kind);
        let explanation = if host {
            format!(
                "{detail} at {} into the run; the campaign was stopped, and a host short of \
                 memory says as much about the machine as about the service, so this cannot \
                 be decided; free memory on the host or lower the load, and run again.",
                format::seconds(event.at.as_secs_f64())
            )
        } else {
            format!(
                "{detail} at {} into the run; the campaign was stopped there.",
                format::seconds(event.at.as_secs_f64())
            )
        };
        let outcome = if host {
            Outcome::Inconclusive
        } else {
            Outcome::Fail
        };
        Some(event_finding(
            NO_EMERGENCY_STOP,
            phase.clone().unwrap_or_default(),
            event.at,
            outcome,
            "the conductor checks every resource sample and interval against [limits] and \
             stops the campaign when one trips",
            explanation,
        ))
    })
}

/// An exit of the service that gonogo did not ask for.
#[derive(Debug, Clone, Copy)]
struct UnexpectedExit {
    at: Duration,
    code: Option<i32>,
    signal: Option<i32>,
}

fn unexpected_exits(evidence: &RunEvidence) -> impl Iterator<Item = UnexpectedExit> + '_ {
    evidence.events.iter().filter_map(|event| match event.kind {
        EventKind::ServiceExited {
            code,
            signal,
            expected: false,
        } => Some(UnexpectedExit {
            at: event.at,
            code,
            signal,
        }),
        _ => None,
    })
}

/// Whether `at` falls within the phase: from its start to its end, or to the end of
/// the run when the phase did not end.
fn within(phase: &PhaseRecord, at: Duration) -> bool {
    at >= phase.started && phase.ended.is_none_or(|end| at <= end)
}

/// `service.crashed` for one phase: 1 when an unexpected exit falls within it.
pub(super) fn measure_crashed(phase: &PhaseRecord, evidence: &RunEvidence) -> Measurement {
    let exit = unexpected_exits(evidence).find(|e| within(phase, e.at));
    let basis = match exit {
        Some(e) => format!(
            "during phase {} (the service exited unexpectedly at {} into the run, {})",
            phase.name,
            format::seconds(e.at.as_secs_f64()),
            crate::model::describe_exit(e.code, e.signal)
        ),
        None => format!("during phase {}", phase.name),
    };
    Measurement {
        observed: Some(if exit.is_some() { 1.0 } else { 0.0 }),
        interval: None,
        samples: 1,
        window: Some(Window {
            start: phase.started,
            end: phase.ended,
            first_interval: None,
            last_interval: None,
        }),
        method: describe::crash_method(),
        basis,
        doubt: None,
    }
}

/// `service.crashed` over the whole run: 1 when any unexpected exit was recorded.
pub(super) fn measure_crashed_over_run(evidence: &RunEvidence) -> Measurement {
    let exit = unexpected_exits(evidence).next();
    let basis = match exit {
        Some(e) => format!(
            "during the run (the service exited unexpectedly at {} into the run, {})",
            format::seconds(e.at.as_secs_f64()),
            crate::model::describe_exit(e.code, e.signal)
        ),
        None => "during the run".to_string(),
    };
    Measurement {
        observed: Some(if exit.is_some() { 1.0 } else { 0.0 }),
        interval: None,
        samples: 1,
        window: Some(Window {
            start: Duration::ZERO,
            end: evidence.phases.iter().filter_map(|p| p.ended).max(),
            first_interval: None,
            last_interval: None,
        }),
        method: "1 when a service exit that gonogo did not ask for was recorded at any time \
                 during the run, else 0"
            .to_string(),
        basis,
        doubt: None,
    }
}

/// The implicit findings: one failure per unexpected exit, then one inconclusive
/// finding when the run did not complete.
pub(super) fn findings(evidence: &RunEvidence) -> Vec<Finding> {
    let mut out: Vec<Finding> = unexpected_exits(evidence)
        .map(|exit| crash_finding(evidence, exit))
        .collect();
    out.extend(emergency_findings(evidence));
    if evidence.status != RunStatus::Completed {
        out.push(incomplete_finding(evidence));
    }
    out
}

fn crash_finding(evidence: &RunEvidence, exit: UnexpectedExit) -> Finding {
    let phase = evidence.phases.iter().find(|p| within(p, exit.at));
    let (phase_name, place) = match phase {
        Some(p) => (p.name.clone(), format!("during phase {}", p.name)),
        None => (String::new(), "outside any phase".to_string()),
    };
    let explanation = format!(
        "the service exited without being asked to at {} into the run {place} ({}); \
         measurements after that point describe a dead or restarted service.",
        format::seconds(exit.at.as_secs_f64()),
        crate::model::describe_exit(exit.code, exit.signal)
    );
    event_finding(
        SERVICE_STAYED_UP,
        phase_name,
        exit.at,
        Outcome::Fail,
        "every service exit that gonogo did not ask for is a failure, criterion or not",
        explanation,
    )
}

fn incomplete_finding(evidence: &RunEvidence) -> Finding {
    let unfinished = evidence.phases.iter().find(|p| p.ended.is_none());
    let last_phase = evidence.phases.last();
    let mut explanation = match evidence.status {
        RunStatus::Aborted => "the run was aborted before the campaign finished".to_string(),
        _ => "the run is still marked running: it is in progress, or gonogo stopped without \
              recording its end"
            .to_string(),
    };
    if let Some(cause) = stop_cause(evidence) {
        explanation.push_str(&format!(" ({cause})"));
    }
    explanation.push_str("; the evidence is partial");
    if let Some(phase) = unfinished {
        explanation.push_str(&format!(" and phase {} did not finish", phase.name));
    }
    explanation.push_str(", so phases that did not run cannot be judged; run the campaign again.");
    let phase = unfinished
        .or(last_phase)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    Finding {
        threshold: 1.0,
        observed: None,
        samples: 0,
        window: None,
        ..event_finding(
            RUN_COMPLETED,
            phase,
            Duration::ZERO,
            Outcome::Inconclusive,
            "the run's recorded status must be completed for its evidence to be whole",
            explanation,
        )
    }
}

/// An implicit blocker finding about something that happened at `at`, as a yes/no
/// rule: observed 1 (it happened) against 0. Rules without a metric of their own carry
/// `service.crashed` here; [`metric_label`] gives the name reports show.
pub(super) fn event_finding(
    rule: &str,
    phase: String,
    at: Duration,
    outcome: Outcome,
    method: &str,
    explanation: String,
) -> Finding {
    Finding {
        criterion: rule.to_string(),
        implicit: true,
        phase,
        workload: None,
        scope: None,
        metric: Metric::ServiceCrashed,
        op: Op::Eq,
        threshold: 0.0,
        unit: Unit::Boolean,
        severity: Severity::Blocker,
        observed: Some(1.0),
        interval: None,
        samples: 1,
        outcome,
        window: Some(Window {
            start: at,
            end: Some(at),
            first_interval: None,
            last_interval: None,
        }),
        method: method.to_string(),
        explanation,
    }
}

/// The last recorded reason the run stopped early, in words.
fn stop_cause(evidence: &RunEvidence) -> Option<String> {
    evidence
        .events
        .iter()
        .rev()
        .find_map(|event| match &event.kind {
            EventKind::Interrupted { signal } => Some(format!("interrupted by {signal}")),
            EventKind::Failure { message } => Some(format!("failure: {message}")),
            kind @ EventKind::EmergencyStop { .. } => Some(crate::model::event_detail(kind)),
            _ => None,
        })
}

//! Why a run did not finish, read from its stored events, so that a run re-rendered
//! later says the same: the service never became ready (`COULD NOT RUN`), or the
//! campaign stopped after it was (`ABORTED`), and by what — a signal, a `[limits]`
//! emergency stop, a crash of the service, a gonogo error, or nothing recorded at all:
//! the writer is gone (`ABORTED (writer gone)`: gonogo was killed, crashed, or could
//! not write its store; the store shows such a run aborted as it is read).
//!
//! Owns: [`StopInfo`] and its headline, which every renderer shows in place of the
//! decision. Reads only the run's status and events. Pure.

use schemars::JsonSchema;
use serde::Serialize;

use crate::model::{Event, EventKind, RunEvidence, RunStatus, describe_exit, event_detail};

/// Why a run stopped before it finished; absent (null) for a completed or running run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StopInfo {
    /// `could_not_run` when the service never became ready (nothing was measured),
    /// `aborted` when the campaign stopped after it was ready (the evidence is partial).
    pub kind: StopKind,
    /// What stopped it.
    pub cause: StopCause,
    /// The report's headline in place of the decision, e.g. `COULD NOT RUN: service
    /// exited with exit code 1 before it was ready`.
    pub headline: String,
    /// The recorded text in full (a failure's message with the service's last stderr
    /// lines, the signal, the tripped limit); empty when none was recorded.
    pub detail: String,
}

/// Whether the run measured anything before it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// The service never became ready.
    CouldNotRun,
    /// Stopped after the service was ready.
    Aborted,
}

/// What stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// The operator interrupted gonogo (Ctrl-C, SIGTERM).
    Signal,
    /// A `[limits]` limit tripped.
    EmergencyStop,
    /// The service exited unexpectedly.
    ServiceExited,
    /// gonogo could not go on (spawn failure, store error, …).
    Error,
    /// The run recorded no reason: its writer is gone (gonogo was killed, crashed, or
    /// could not write its store, e.g. on a full disk), shown `(writer gone)`.
    Unknown,
}

/// Why the run stopped, or `None` when it was not aborted.
pub(super) fn stop_info(evidence: &RunEvidence) -> Option<StopInfo> {
    if evidence.status != RunStatus::Aborted {
        return None;
    }
    let events = &evidence.events;
    let stop = events.iter().position(|e| {
        matches!(
            e.kind,
            EventKind::Interrupted { .. }
                | EventKind::EmergencyStop { .. }
                | EventKind::Failure { .. }
        )
    });
    let before = &events[..stop.unwrap_or(events.len())];
    let ready = before
        .iter()
        .any(|e| matches!(e.kind, EventKind::ServiceReady { .. }));
    let (cause, what) = match stop.map(|i| &events[i]) {
        Some(event) => cause_of(event, before, ready),
        None => (StopCause::Unknown, writer_gone(ready)),
    };
    let (kind, headline) = if ready {
        (StopKind::Aborted, format!("ABORTED {what}"))
    } else {
        (StopKind::CouldNotRun, format!("COULD NOT RUN: {what}"))
    };
    Some(StopInfo {
        kind,
        cause,
        headline,
        detail: stop.map_or_else(String::new, |i| event_detail(&events[i].kind)),
    })
}

/// The words of a run whose writer is gone, by whether the service was ready.
fn writer_gone(ready: bool) -> String {
    let why = "gonogo stopped recording without recording why (it was killed, crashed, or could not write its store)";
    if ready {
        format!("(writer gone): {why}")
    } else {
        format!("writer gone before the service was ready: {why}")
    }
}

/// The cause of the stop `event` and its words; `before` are the events before it.
fn cause_of(event: &Event, before: &[Event], ready: bool) -> (StopCause, String) {
    match &event.kind {
        EventKind::Interrupted { signal } if ready => {
            (StopCause::Signal, format!("by signal {signal}"))
        }
        EventKind::Interrupted { signal } => (
            StopCause::Signal,
            format!("interrupted by {signal} before the service was ready"),
        ),
        EventKind::EmergencyStop { .. } => (
            StopCause::EmergencyStop,
            format!("by [limits] {}", event_detail(&event.kind)),
        ),
        EventKind::Failure { message } => match crash(before) {
            Some(exit) if ready => (
                StopCause::ServiceExited,
                format!("by a crash of the service: it exited unexpectedly, {exit}"),
            ),
            Some(exit) => (
                StopCause::ServiceExited,
                format!("service exited with {exit} before it was ready"),
            ),
            None => {
                let first = message.lines().next().unwrap_or_default();
                let by = if ready {
                    "by a gonogo error: "
                } else {
                    "gonogo error: "
                };
                (StopCause::Error, format!("{by}{first}"))
            }
        },
        _ => (StopCause::Unknown, "with no reason recorded".to_string()),
    }
}

/// The exit status of an unexpected service exit after the last time it was ready.
fn crash(before: &[Event]) -> Option<String> {
    before
        .iter()
        .rev()
        .take_while(|e| !matches!(e.kind, EventKind::ServiceReady { .. }))
        .find_map(|e| match e.kind {
            EventKind::ServiceExited {
                code,
                signal,
                expected: false,
            } => Some(describe_exit(code, signal)),
            _ => None,
        })
}

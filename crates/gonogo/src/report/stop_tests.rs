//! Tests of why a run stopped: one fixture per cause, each headline derived from the
//! stored events alone, and every format carrying the same status.

use super::stop::{StopCause, StopKind, stop_info};
use super::*;
use crate::evaluate::evaluate;
use crate::evaluate::fixtures::{event, exited, go_run, secs};
use crate::model::{EventKind, RunEvidence, RunStatus};
use crate::verdict::decide;

/// The GO run, aborted, with `events` as its timeline.
fn aborted(events: Vec<EventKind>) -> RunEvidence {
    let (mut evidence, _) = go_run();
    evidence.status = RunStatus::Aborted;
    evidence.events = events
        .into_iter()
        .enumerate()
        .map(|(i, kind)| event(0.5 * i as f64, kind))
        .collect();
    evidence
}

/// The GO run as it would be stored had its service never become ready.
fn never_ready(events: Vec<EventKind>) -> RunEvidence {
    let mut evidence = aborted(events);
    evidence.phases.clear();
    evidence.intervals.clear();
    evidence.samples.clear();
    evidence
}

fn started() -> EventKind {
    EventKind::ServiceStarted {
        pid: 41,
        port: 8080,
        command: vec!["sh".into(), "-c".into(), "echo boom >&2; exit 1".into()],
    }
}

fn ready() -> EventKind {
    EventKind::ServiceReady { after: secs(0.25) }
}

fn failure(message: &str) -> EventKind {
    EventKind::Failure {
        message: message.to_string(),
    }
}

const EXITED: &str = "the service exited before it was ready (exit code 1); last lines of \
                      logs/runs/3/service.stderr:\nboom";

/// A run whose service exited with code 1 before it was ready, and [`EXITED`].
fn exited_before_ready() -> RunEvidence {
    never_ready(vec![
        started(),
        exited(Some(1), None, false),
        failure(EXITED),
    ])
}

/// The headline and cause of `evidence`.
fn stopped(evidence: &RunEvidence) -> (StopKind, StopCause, String) {
    let stop = stop_info(evidence).expect("an aborted run has a stop");
    (stop.kind, stop.cause, stop.headline)
}

#[test]
fn a_service_that_exits_before_it_is_ready_could_not_run() {
    let evidence = exited_before_ready();
    let (kind, cause, headline) = stopped(&evidence);
    assert_eq!(
        (kind, cause),
        (StopKind::CouldNotRun, StopCause::ServiceExited)
    );
    assert_eq!(
        headline,
        "COULD NOT RUN: service exited with exit code 1 before it was ready"
    );
    assert!(stop_info(&evidence).unwrap().detail.ends_with("\nboom"));
}

#[test]
fn a_service_that_cannot_be_spawned_is_a_gonogo_error() {
    let evidence = never_ready(vec![failure(
        "could not start `nope` in /tmp: No such file or directory (os error 2)",
    )]);
    let (kind, cause, headline) = stopped(&evidence);
    assert_eq!((kind, cause), (StopKind::CouldNotRun, StopCause::Error));
    assert_eq!(
        headline,
        "COULD NOT RUN: gonogo error: could not start `nope` in /tmp: No such file or \
         directory (os error 2)"
    );
}

#[test]
fn an_interrupt_says_which_signal_before_or_after_the_service_was_ready() {
    let signal = || EventKind::Interrupted {
        signal: "SIGINT".into(),
    };
    let early = stopped(&never_ready(vec![started(), signal()]));
    assert_eq!(
        early,
        (
            StopKind::CouldNotRun,
            StopCause::Signal,
            "COULD NOT RUN: interrupted by SIGINT before the service was ready".to_string()
        )
    );
    let late = stopped(&aborted(vec![started(), ready(), signal()]));
    assert_eq!(
        late,
        (
            StopKind::Aborted,
            StopCause::Signal,
            "ABORTED by signal SIGINT".to_string()
        )
    );
}

#[test]
fn an_emergency_stop_names_the_limit() {
    let stop = EventKind::EmergencyStop {
        limit: "service_rss_ceiling".into(),
        observed: 3.0 * 1024.0 * 1024.0 * 1024.0,
        threshold: 2.0 * 1024.0 * 1024.0 * 1024.0,
        phase: Some("baseline".into()),
    };
    let (kind, cause, headline) = stopped(&aborted(vec![started(), ready(), stop]));
    assert_eq!((kind, cause), (StopKind::Aborted, StopCause::EmergencyStop));
    assert!(
        headline.starts_with("ABORTED by [limits] emergency stop in phase baseline: "),
        "{headline}"
    );
    assert!(
        headline.contains("limits.service_rss_ceiling"),
        "{headline}"
    );
}

#[test]
fn a_crash_after_ready_is_told_from_a_gonogo_error() {
    let crash = aborted(vec![
        started(),
        ready(),
        exited(None, Some(9), false),
        failure("the service exited unexpectedly"),
    ]);
    assert_eq!(
        stopped(&crash),
        (
            StopKind::Aborted,
            StopCause::ServiceExited,
            "ABORTED by a crash of the service: it exited unexpectedly, signal 9 (SIGKILL)"
                .to_string()
        )
    );
    // An exit before a later ready (a restart) is not what stopped the run.
    let error = aborted(vec![
        started(),
        exited(None, Some(9), false),
        ready(),
        failure("store error: disk full\n  caused by: ENOSPC"),
    ]);
    assert_eq!(
        stopped(&error),
        (
            StopKind::Aborted,
            StopCause::Error,
            "ABORTED by a gonogo error: store error: disk full".to_string()
        )
    );
}

#[test]
fn an_aborted_run_without_a_recorded_reason_lost_its_writer_and_a_finished_one_has_no_stop() {
    let (kind, cause, headline) = stopped(&aborted(vec![started(), ready()]));
    assert_eq!((kind, cause), (StopKind::Aborted, StopCause::Unknown));
    assert_eq!(
        headline,
        "ABORTED (writer gone): gonogo stopped recording without recording why (it was killed, crashed, or could not write its store)"
    );
    let (kind, cause, headline) = stopped(&aborted(vec![started()]));
    assert_eq!((kind, cause), (StopKind::CouldNotRun, StopCause::Unknown));
    assert!(
        headline.starts_with("COULD NOT RUN: writer gone before the service was ready: "),
        "{headline}"
    );
    assert_eq!(stop_info(&go_run().0), None);
}

#[test]
fn every_format_carries_the_could_not_run_status() {
    let evidence = exited_before_ready();
    let (_, criteria) = go_run();
    let findings = evaluate(&criteria, &evidence);
    let model = ReportModel::build(&evidence, &findings, &decide(&findings));
    let headline = "COULD NOT RUN: service exited with exit code 1 before it was ready";
    let terminal = render(&model, Format::Terminal);
    assert!(terminal.starts_with(&format!("{headline}\n")), "{terminal}");
    assert!(terminal.contains("  | boom\n"), "{terminal}");
    for format in [Format::Markdown, Format::Html, Format::Junit] {
        let text = render(&model, format);
        assert!(text.contains(headline), "{}:\n{text}", format.name());
        assert!(text.contains("boom"), "{}:\n{text}", format.name());
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(&model, Format::Json)).expect("JSON");
    assert_eq!(json["stopped"]["kind"], "could_not_run");
    assert_eq!(json["stopped"]["cause"], "service_exited");
    assert_eq!(json["stopped"]["headline"], headline);
    assert_eq!(json["format_version"], "1.8");
}

#[test]
fn a_stopped_run_validates_against_the_committed_schema() {
    let validator = super::tests::committed_validator();
    let evidence = aborted(vec![started(), ready(), failure("store error: disk full")]);
    let (_, criteria) = go_run();
    let findings = evaluate(&criteria, &evidence);
    let model = ReportModel::build(&evidence, &findings, &decide(&findings));
    let json = super::tests::valid_json(&validator, &model);
    assert_eq!(json["stopped"]["cause"], "error");
    let mut wrong = json.clone();
    wrong["stopped"]["cause"] = serde_json::json!("gremlins");
    assert!(!validator.is_valid(&wrong));
}

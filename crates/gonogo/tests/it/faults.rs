//! Fault campaigns end to end: the real testbed behind gonogo's proxy, faults applied
//! in windows of a phase, their proof of effect and the recovery time in the evidence.

use std::time::Duration;

use crate::support::{Campaign, describe, stdout};
use gonogo::evidence::model::{EventKind, IntervalStats, RunEvidence};
use gonogo::exit;

fn body(faults: &str, criteria: &str) -> String {
    format!(
        r#"
[[workload]]
name = "get"
http = {{ method = "GET", url = "http://127.0.0.1:{{port}}/kv/{{key}}", expect_status = [200, 404], timeout = "500ms" }}

[[phase]]
name = "chaos"
kind = "steady"
rate = 200
duration = "8s"
warmup = "1s"

{faults}
{criteria}
"#
    )
}

/// (start, merged stats) of each interval of the phase, all workloads together.
fn intervals(evidence: &RunEvidence) -> Vec<(Duration, IntervalStats)> {
    let mut out: Vec<(Duration, IntervalStats)> = Vec::new();
    for record in &evidence.intervals {
        match out.iter_mut().find(|(start, _)| *start == record.start) {
            Some((_, stats)) => stats.merge(&record.stats),
            None => out.push((record.start, record.stats.clone())),
        }
    }
    out.sort_by_key(|(start, _)| *start);
    out
}

/// The window of the (single) fault from its events.
fn fault_window(evidence: &RunEvidence) -> (Duration, Duration, Option<u64>) {
    let applied = evidence
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::FaultApplied { .. }))
        .expect("a fault_applied event");
    let (removed, connections) = evidence
        .events
        .iter()
        .find_map(|e| match e.kind {
            EventKind::FaultRemoved { connections, .. } => Some((e.at, connections)),
            _ => None,
        })
        .expect("a fault_removed event");
    (applied.at, removed, connections)
}

pub fn a_latency_fault_shows_in_the_latency_of_its_window_and_the_service_recovers() {
    let campaign = Campaign::new(
        &[],
        &body(
            r#"
[[fault]]
phase = "chaos"
kind = "latency"
delay = "100ms"
direction = "to_service"
from = "25%"
to = "50%"
"#,
            r#"
[[criterion]]
phase = "chaos"
metric = "recovery.time"
op = "<="
value = "3s"
"#,
        ),
    );
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(i32::from(exit::GO)),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    let (from, to, connections) = fault_window(&evidence);
    assert!(
        connections.unwrap_or(0) > 0,
        "proof of effect: {connections:?}"
    );
    let p50 = |s: &IntervalStats| s.response.value_at_quantile(0.5) as f64 / 1e3;
    for (start, stats) in intervals(&evidence) {
        let end = start + Duration::from_secs(1);
        if start >= from && end <= to {
            assert!(
                p50(&stats) >= 100.0,
                "inside the fault at {start:?}: p50 {} ms",
                p50(&stats)
            );
        } else if end <= from {
            assert!(
                p50(&stats) < 50.0,
                "before the fault at {start:?}: p50 {} ms",
                p50(&stats)
            );
        }
    }
    assert!(
        stdout(&output).contains("recovery.time"),
        "{}",
        describe(&output)
    );
}

pub fn a_blackhole_produces_timeouts_and_then_recovery() {
    let campaign = Campaign::new(
        &[],
        &body(
            r#"
[[fault]]
phase = "chaos"
kind = "blackhole"
from = "25%"
to = "50%"
recovered_when = { error_rate = "0%" }
"#,
            r#"
[[criterion]]
phase = "chaos"
metric = "recovery.time"
op = "<="
value = "4s"

[[criterion]]
phase = "chaos"
metric = "error_rate"
op = "<="
value = "1%"
severity = "advisory"
"#,
        ),
    );
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(i32::from(exit::GO)),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    let (from, to, connections) = fault_window(&evidence);
    assert!(connections.unwrap_or(0) > 0);
    let timeouts: u64 = intervals(&evidence)
        .iter()
        .filter(|(start, _)| *start >= from && *start < to)
        .map(|(_, s)| s.outcomes.timeout)
        .sum();
    assert!(
        timeouts > 50,
        "requests into the blackhole time out: {timeouts}"
    );
    let last = intervals(&evidence).last().cloned().expect("intervals");
    assert_eq!(
        last.1.outcomes.failed(),
        0,
        "recovered by the end: {:?}",
        last.1.outcomes
    );
}

pub fn a_kill_restarts_the_service_and_is_not_a_crash() {
    let campaign = Campaign::new(
        &[],
        &body(
            r#"
[[fault]]
phase = "chaos"
kind = "kill"
at = "40%"
"#,
            r#"
[[criterion]]
phase = "chaos"
metric = "recovery.time"
op = "<="
value = "3s"

[[criterion]]
phase = "chaos"
metric = "service.crashed"
op = "=="
value = false
"#,
        ),
    );
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(i32::from(exit::GO)),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    let starts = evidence
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ServiceStarted { .. }))
        .count();
    assert_eq!(
        starts, 2,
        "started, killed, started again: {:?}",
        evidence.events
    );
    assert!(evidence.events.iter().any(|e| matches!(
        e.kind,
        EventKind::ServiceExited {
            signal: Some(9),
            expected: true,
            ..
        }
    )));
    let samples_after = evidence
        .samples
        .iter()
        .filter(|s| s.at > fault_window(&evidence).1 && s.processes > 0)
        .count();
    assert!(samples_after >= 2, "the sampler follows the new pid");
}

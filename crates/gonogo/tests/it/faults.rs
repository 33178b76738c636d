//! Fault campaigns end to end: the real testbed behind gonogo's proxy, faults applied
//! in windows of a phase, their proof of effect and the recovery time in the evidence.

use std::time::Duration;

use crate::support::spec::{Raw, Spec, Table, criterion, fault, get, steady};
use crate::support::{Campaign, describe, stdout};
use gonogo::exit;
use gonogo::model::{EventKind, IntervalStats, RunEvidence};

/// GETs at 200/s for 8 s (1 s warm-up) in phase `chaos`, with `fault` and `criteria`
/// (a recovery time of at most `recovery` first); the campaign must be GO.
fn run_go(fault: Table, recovery: &str, criteria: &[Table]) -> (Campaign, std::process::Output) {
    let mut spec = Spec::new()
        .with(get("500ms"))
        .with(steady("chaos", 200, "8s").set("warmup", "1s"))
        .with(fault)
        .with(criterion("chaos", "recovery.time", "<=", recovery));
    for table in criteria {
        spec = spec.with(table.clone());
    }
    let campaign = Campaign::new(&[], &spec.to_string());
    let output = campaign.run_expecting(exit::GO);
    (campaign, output)
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
    let latency = fault("chaos", "latency")
        .set("delay", "100ms")
        .set("direction", "to_service")
        .set("from", "25%")
        .set("to", "50%");
    let (campaign, output) = run_go(latency, "3s", &[]);
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
    let blackhole = fault("chaos", "blackhole")
        .set("from", "25%")
        .set("to", "50%")
        .set("recovered_when", Raw("{ error_rate = \"0%\" }"));
    let errors = criterion("chaos", "error_rate", "<=", "1%").set("severity", "advisory");
    let (campaign, _) = run_go(blackhole, "4s", &[errors]);
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
    let kill = fault("chaos", "kill").set("at", "40%");
    let not_crashed = criterion("chaos", "service.crashed", "==", false);
    let (campaign, _) = run_go(kill, "3s", &[not_crashed]);
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

//! Emergency stop limits end to end: a leaking testbed passes the RSS ceiling, the
//! campaign stops early, the run records which limit tripped and when, and the
//! verdict says so.

use crate::support::spec::{Spec, Table, criterion, get, sampled_every, steady};
use crate::support::{Campaign, describe, stdout};
use gonogo::exit;
use gonogo::model::{EventKind, RunStatus};

pub fn service_rss_ceiling_stops_the_campaign_and_fails_the_verdict() {
    // 64 KiB per request at 200/s grows RSS by about 12.5 MiB/s: a 48 MiB ceiling trips
    // within a few seconds of a 30 s phase, and the second phase never runs.
    let body = Spec::new()
        .with(sampled_every("200ms"))
        .with(
            Table::new("[limits]")
                .set("service_rss_ceiling", "48MiB")
                .set("host_memory_floor", "1MiB"),
        )
        .with(get("2s"))
        .with(steady("steady", 200, "30s"))
        .with(steady("after", 10, "5s"))
        .with(criterion("steady", "error_rate", "<=", "1%"));
    let campaign = Campaign::new(&["--leak-per-request", "64KiB"], &body.to_string());
    let started = std::time::Instant::now();
    let output = campaign.run_expecting(exit::NO_GO);
    assert!(
        started.elapsed().as_secs() < 25,
        "the 30 s phase was cut short"
    );
    assert!(
        stdout(&output).contains("emergency stop in phase steady"),
        "{}",
        describe(&output)
    );

    let evidence = campaign.evidence(1);
    assert_eq!(evidence.status, RunStatus::Aborted);
    let stop = evidence
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::EmergencyStop {
                limit,
                observed,
                threshold,
                phase,
            } => Some((e.at, limit.clone(), *observed, *threshold, phase.clone())),
            _ => None,
        })
        .expect("an emergency_stop event");
    assert_eq!(stop.1, "service_rss_ceiling");
    assert!(
        stop.2 > stop.3 && stop.3 == 48.0 * 1024.0 * 1024.0,
        "{stop:?}"
    );
    assert_eq!(stop.4.as_deref(), Some("steady"));
    assert!(
        evidence.phases.iter().all(|p| p.name != "after"),
        "no phase runs after an emergency stop"
    );
}

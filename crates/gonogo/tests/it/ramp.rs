//! Ramp phases end to end: the rate climbs in steps until the service breaks a stop
//! condition; each step is stored as its own phase; capacity and headroom follow.
//!
//! The testbed answers every request after a fixed 5 ms and the ramp opens at most
//! 2 connections, so the service side carries at most 2 / 5 ms = 400 requests/s
//! (less with scheduling overhead). Steps of 100/s from 100/s therefore break by
//! 400/s at the latest, far below what the generator can send: once both connections
//! are always busy, requests wait for one and the schedule lag grows without bound
//! (seconds within a step), past the 200 ms `lag_p99` stop condition. Response-time
//! bounds are left out: on a busy 2-core CI machine a 5 ms sleep alone can take 50 ms
//! at the tail, which would make the breaking point depend on the neighbours.

use crate::support::finding;
use crate::support::{Campaign, steps_of, testbed_service};
use gonogo::exit;
use gonogo::model::Outcome;

const RAMP: &str = r#"
[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404], timeout = "2s" }

[[phase]]
name = "ramp"
kind = "ramp"
start_rate = 100
step = 100
max_rate = 800
max_connections = 2
duration = "2s"
warmup = "1s"
drain = "1s"
stop_when = { error_rate = "1%", shortfall = "5%", lag_p99 = "200ms" }

[[criterion]]
phase = "ramp"
metric = "capacity.last_good_rate"
op = ">="
value = 100

[[criterion]]
phase = "ramp"
metric = "headroom"
op = ">="
value = 1

[[criterion]]
phase = "ramp"
metric = "capacity.first_bad_rate"
op = "<="
value = 500
"#;

pub fn ramp_climbs_until_the_service_breaks_and_reports_capacity_and_headroom() {
    // Headroom needs the expected production rate.
    let service = testbed_service("127.0.0.1", &["--latency", "5ms", "--threads", "1"])
        .set("expected_rate", 100);
    let campaign = Campaign::with_service(&service.to_string(), RAMP);
    campaign.run_expecting(exit::GO);

    let findings = campaign.findings();
    let last_good = finding(&findings, "capacity.last_good_rate");
    let first_bad = finding(&findings, "capacity.first_bad_rate");
    let headroom = finding(&findings, "headroom");
    for f in [last_good, first_bad, headroom] {
        assert_eq!(f.outcome, Outcome::Pass, "{f:#?}");
    }
    let good = last_good.observed.unwrap();
    let bad = first_bad.observed.unwrap();
    assert!(
        (200.0..=300.0).contains(&good),
        "last good {good}: {last_good:#?}"
    );
    assert_eq!(
        bad,
        good + 100.0,
        "the first bad step follows the last good one"
    );
    assert_eq!(headroom.observed, Some(good / 100.0));
    assert!(
        first_bad.explanation.contains("broke schedule lag p99"),
        "the saturated step's lag grew: {first_bad:#?}"
    );

    // Each step is its own stored phase under the ramp, and the climb stopped at the
    // first bad step.
    let evidence = campaign.evidence(1);
    let steps = steps_of(&evidence, "ramp");
    let rates: Vec<f64> = steps.iter().map(|p| p.planned_rate.unwrap()).collect();
    let expected: Vec<f64> = (1..=(bad / 100.0) as u32)
        .map(|i| f64::from(i) * 100.0)
        .collect();
    assert_eq!(rates, expected, "steps up to the first bad one, no further");
    assert!(
        steps
            .iter()
            .all(|s| s.kind == "ramp_step" && s.ended.is_some())
    );
    for pair in steps.windows(2) {
        assert!(
            pair[0].ended.unwrap() <= pair[1].started,
            "steps do not overlap"
        );
    }
    for step in &steps {
        assert!(
            evidence
                .intervals
                .iter()
                .any(|i| i.phase == step.name && !i.warmup),
            "step {} has measured intervals",
            step.name
        );
    }
}

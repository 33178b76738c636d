//! Scaling phases end to end: before each step a loader brings the testbed to the
//! step's number of items, the step is measured, and the exponent of each quantity
//! against size is fitted with its interval.
//!
//! With `--get-cost-per-item 10us` every GET waits 10 µs per key held: 2.5 ms at 250
//! keys up to 20 ms at 2,000, so response time is linear in the data set (exponent
//! 1). The assertion is deliberately loose (the interval's lower bound above 0.5): on
//! a busy 2-core machine timer slack and scheduling add a roughly constant few
//! milliseconds, which bends the small sizes up and the exponent below 1. Without
//! the knob, response time does not depend on the data set, and the interval must
//! not claim super-linear growth.

use crate::support::{Campaign, describe, steps_of};
use gonogo::exit;
use gonogo::model::EventKind;
use gonogo::model::Outcome;

/// A scaling phase over `sizes` with the given loader lines; the measured part is 4
/// connections of GETs on keys that exist from the first step on.
fn spec(loader: &str) -> String {
    format!(
        r#"
[settings]
sample_interval = "250ms"

[[workload]]
name = "put"
http = {{ method = "PUT", url = "http://127.0.0.1:{{port}}/kv/key-{{seq}}", body = "v-{{seq}}", expect_status = [201, 204] }}

[[workload]]
name = "get"
keys = 250
http = {{ method = "GET", url = "http://127.0.0.1:{{port}}/kv/{{key}}", expect_status = [200, 404], timeout = "2s" }}

[[phase]]
name = "grow"
kind = "scaling"
sizes = [250, 500, 1000, 2000]
{loader}
workload = "get"
connections = 4
duration = "2s"
warmup = "500ms"
drain = "1s"

[[criterion]]
phase = "grow"
metric = "scaling.latency_p50.exponent_lower"
op = ">="
value = 0.5

[[criterion]]
phase = "grow"
metric = "scaling.latency_p50.exponent_lower"
op = "<="
value = 1.1
severity = "advisory"

[[criterion]]
phase = "grow"
metric = "scaling.rss.exponent"
op = "<="
value = 5
severity = "advisory"
"#
    )
}

pub fn a_per_item_cost_shows_as_latency_growing_with_the_data_set() {
    let campaign = Campaign::new(
        &["--get-cost-per-item", "10us"],
        &spec("load = \"put\"\nload_connections = 4"),
    );
    campaign.run_expecting(exit::GO);
    let findings = campaign.findings();
    let lower = &findings[0];
    assert_eq!(lower.outcome, Outcome::Pass, "{lower:#?}");
    assert!(lower.observed.unwrap() > 0.5, "{lower:#?}");
    assert_eq!(lower.samples, 4, "four measured steps");
    assert_eq!(
        findings[2].outcome,
        Outcome::Pass,
        "rss was fitted: {:#?}",
        findings[2]
    );

    // Each step is its own stored phase with its size; the loader wrote exactly the
    // new items before each step (250, then 250, 500 and 1,000 more).
    let evidence = campaign.evidence(1);
    let steps = steps_of(&evidence, "grow");
    let sizes: Vec<Option<u64>> = steps.iter().map(|s| s.size).collect();
    assert_eq!(sizes, [Some(250), Some(500), Some(1000), Some(2000)]);
    assert!(
        steps
            .iter()
            .all(|s| s.kind == "scaling_step" && s.ended.is_some())
    );
    let loaded: Vec<(u64, u64)> = evidence
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ScalingLoaded { size, requests, .. } => Some((*size, *requests)),
            _ => None,
        })
        .collect();
    assert_eq!(loaded, [(250, 250), (500, 250), (1000, 500), (2000, 1000)]);
    let failed: u64 = evidence
        .intervals
        .iter()
        .filter(|i| i.phase.starts_with("grow#"))
        .map(|i| i.stats.outcomes.failed())
        .sum();
    assert_eq!(failed, 0, "every GET found its key");
}

pub fn without_a_per_item_cost_latency_is_not_called_super_linear() {
    let campaign = Campaign::new(
        &[],
        &spec("setup = [\"sh\", \"-c\", \"echo {n} >> sizes.txt\"]"),
    );
    let output = campaign.run();
    // The blocker (exponent lower bound >= 0.5) must not pass on a flat latency.
    assert_ne!(
        output.status.code(),
        Some(exit::GO as i32),
        "{}",
        describe(&output)
    );
    let findings = campaign.findings();
    let flat = &findings[1];
    assert_eq!(flat.outcome, Outcome::Pass, "not super-linear: {flat:#?}");
    assert!(
        !flat.explanation.contains("super-linear"),
        "{}",
        flat.explanation
    );
    // The setup command ran before each step with its size, in the spec's directory.
    let written = std::fs::read_to_string(campaign.dir.path().join("sizes.txt")).unwrap();
    assert_eq!(
        written.lines().collect::<Vec<_>>(),
        ["250", "500", "1000", "2000"]
    );
}

//! Integrity campaigns end to end: the real testbed takes unique writes through a
//! fault, gonogo reads every key back and counts what was lost.

use crate::support::{Campaign, assert_exit, describe, stdout};
use gonogo::exit;
use gonogo::model::Outcome;

/// A spec body: PUT/GET/list workloads, one integrity phase, and `fault`.
fn body(fault: &str) -> String {
    format!(
        r#"
[[workload]]
name = "put"
http = {{ method = "PUT", url = "http://127.0.0.1:{{port}}/kv/{{key}}", body = "{{value}}", expect_status = [201, 204], timeout = "500ms" }}

[[workload]]
name = "get"
http = {{ method = "GET", url = "http://127.0.0.1:{{port}}/kv/{{key}}", expect_status = [200, 404], timeout = "1s" }}

[[workload]]
name = "keys"
http = {{ method = "GET", url = "http://127.0.0.1:{{port}}/kv?prefix={{key}}", timeout = "2s" }}

[[phase]]
name = "writes"
kind = "integrity"
workload = "put"
read = "get"
list = "keys"
rate = 100
max_connections = 16
duration = "4s"
settle = "500ms"

{fault}
"#
    )
}

const KILL: &str = r#"
[[fault]]
phase = "writes"
kind = "kill"
at = "50%"
"#;

/// The verdict's finding of the implicit rule, and the phase's counts.
fn judged(campaign: &Campaign) -> (Outcome, gonogo::evaluate::IntegrityCounts) {
    let (evidence, counts, outcome) = campaign.integrity_judged();
    assert!(
        !evidence.intervals.is_empty(),
        "the writes leave interval evidence too"
    );
    (outcome, counts)
}

pub fn durable_writes_survive_a_sigkill_and_the_phase_passes() {
    let campaign = Campaign::new(&["--data-file", "data.journal"], &body(KILL));
    campaign.run_expecting(exit::GO);
    let (outcome, c) = judged(&campaign);
    assert_eq!(outcome, Outcome::Pass);
    assert!(c.acknowledged > 100, "{c:?}");
    assert_eq!(c.lost, 0, "{c:?}");
    assert_eq!(c.unexpected, Some(0), "{c:?}");
    assert!(c.read_back);
    assert_eq!(c.acknowledged + c.failed + c.indeterminate, c.attempted);
}

pub fn in_memory_writes_are_lost_to_a_sigkill_and_counted() {
    let campaign = Campaign::new(&[], &body(KILL));
    let output = campaign.run_expecting(exit::NO_GO);
    let (outcome, c) = judged(&campaign);
    assert_eq!(outcome, Outcome::Fail);
    assert!(
        c.lost > 50,
        "about half the writes went before the kill: {c:?}"
    );
    assert!(c.lost <= c.acknowledged);
    assert!(c.rpo.is_some_and(|rpo| rpo.as_secs_f64() > 0.5), "{c:?}");
    assert!(c.rpo_to_fault, "the lost writes end at the kill");
    assert!(
        stdout(&output).contains("no acknowledged write lost"),
        "{}",
        describe(&output)
    );
    // The report re-judges the same counts from the store.
    let report = campaign.gonogo(&["report", "1", "--format", "json"]);
    let json = stdout(&report);
    assert!(
        json.contains(&format!("\"lost\": {}", c.lost)),
        "{}",
        describe(&report)
    );
}

pub fn a_network_fault_makes_writes_indeterminate_and_the_counts_add_up() {
    let campaign = Campaign::new(
        &["--data-file", "data.journal"],
        &body(
            r#"
[[fault]]
phase = "writes"
kind = "blackhole"
from = "25%"
to = "50%"
"#,
        ),
    );
    let output = campaign.run();
    let (_, c) = judged(&campaign);
    assert!(
        c.indeterminate > 10,
        "writes into the blackhole time out: {c:?}"
    );
    assert_eq!(c.acknowledged + c.failed + c.indeterminate, c.attempted);
    assert!(c.recovered <= c.indeterminate);
    assert_eq!(c.lost, 0, "durable: {c:?}");
    assert_exit(&output, exit::GO);
}

//! Every phase kind that writes, on every protocol that can write: a scaling phase
//! whose loader is a Redis `SET` or a PostgreSQL `INSERT`, and an integrity phase
//! on each, against a real `redis-server` and `postgres` started by the test.
//!
//! The verdict of a scaling phase depends on how busy the machine is; what is
//! checked here is the mechanics: the loader wrote exactly the new items before
//! each step, every step was measured, and no measured request failed.

use crate::support::servers::{PostgresCluster, RedisDir, kv_insert, kv_select, redis_workload};
use crate::support::spec::{Spec, Table, integrity_writes};
use crate::support::{Campaign, describe, serial, steps_of};
use gonogo::evaluate::integrity_counts;
use gonogo::evidence::Store;
use gonogo::exit;
use gonogo::model::{EventKind, RunEvidence};

/// A scaling phase over 100, 200 and 400 items loaded by `put`, measured with `get`.
fn scaling_spec(workloads: &str) -> String {
    format!(
        r#"{workloads}
[[phase]]
name = "grow"
kind = "scaling"
sizes = [100, 200, 400]
load = "put"
load_connections = 4
workload = "get"
connections = 2
duration = "1s"
drain = "1s"

[[criterion]]
phase = "grow"
metric = "scaling.latency_p50.exponent"
op = "<="
value = 5
severity = "advisory"
"#
    )
}

/// Run a scaling campaign and check what the loader and the steps did.
fn check_scaling(campaign: &Campaign) {
    let output = campaign.run();
    let code = output.status.code();
    assert!(
        [exit::GO, exit::NO_GO, exit::INCONCLUSIVE]
            .map(i32::from)
            .contains(&code.unwrap_or(-1)),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    let loaded: Vec<(u64, u64)> = evidence
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ScalingLoaded { size, requests, .. } => Some((*size, *requests)),
            EventKind::ScalingLoadFailed { message, .. } => panic!("load failed: {message}"),
            _ => None,
        })
        .collect();
    assert_eq!(
        loaded,
        [(100, 100), (200, 100), (400, 200)],
        "{}",
        describe(&output)
    );
    let steps: Vec<Option<u64>> = steps_of(&evidence, "grow").iter().map(|p| p.size).collect();
    assert_eq!(steps, [Some(100), Some(200), Some(400)]);
    assert_eq!(failed_in(&evidence, "grow#"), 0, "{}", describe(&output));
}

/// Failed requests in the intervals of phases starting with `prefix`.
fn failed_in(evidence: &RunEvidence, prefix: &str) -> u64 {
    evidence
        .intervals
        .iter()
        .filter(|i| i.phase.starts_with(prefix))
        .map(|i| i.stats.outcomes.failed())
        .sum()
}

pub fn a_redis_scaling_phase_loads_with_set() {
    let _serial = serial();
    let redis = RedisDir::new();
    let workloads = Spec::new()
        .with(redis_workload(
            "put",
            r#"["SET", "item-{seq}", "v{seq}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(
            redis_workload("get", r#"["GET", "item-{key}"]"#, r#", timeout = "2s""#)
                .set("keys", 100),
        )
        .to_string();
    let campaign = Campaign::with_service(&redis.service(), &scaling_spec(&workloads));
    check_scaling(&campaign);
}

pub fn a_postgres_scaling_phase_loads_with_insert() {
    let _serial = serial();
    let cluster = PostgresCluster::kv();
    // A duplicate key would fail the INSERT: {seq} must continue across steps.
    let workloads = Spec::new()
        .with(kv_insert(
            "put",
            r#"["item-{seq}", "v{seq}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(kv_select("get", r#"["item-{key}"]"#, r#", timeout = "2s""#).set("keys", 100))
        .to_string();
    let campaign = Campaign::with_service(&cluster.service(), &scaling_spec(&workloads));
    check_scaling(&campaign);
}

/// An integrity phase (no fault) writing with `write`, reading with `read`.
fn integrity() -> Table {
    integrity_writes(100, 4, "2s", "200ms")
}

/// Run an integrity campaign: GO, every write acknowledged and read back intact.
fn check_integrity(campaign: &Campaign) {
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(i32::from(exit::GO)),
        "{}",
        describe(&output)
    );
    let store = Store::open(&campaign.store_path()).unwrap();
    let evidence = store.load_run(1).unwrap();
    let counts = integrity_counts(&evidence, "writes").unwrap();
    assert!(counts.read_back, "{counts:?}");
    assert!(counts.attempted >= 150, "{counts:?}");
    assert_eq!(counts.acknowledged, counts.attempted, "{counts:?}");
}

pub fn a_redis_integrity_phase_reads_back_every_write() {
    let _serial = serial();
    let redis = RedisDir::new();
    let body = Spec::new()
        .with(redis_workload(
            "write",
            r#"["SET", "{key}", "{value}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(redis_workload(
            "read",
            r#"["GET", "{key}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(integrity())
        .to_string();
    check_integrity(&Campaign::with_service(&redis.service(), &body));
}

pub fn a_postgres_integrity_phase_reads_back_every_write() {
    let _serial = serial();
    let cluster = PostgresCluster::kv();
    let body = Spec::new()
        .with(kv_insert(
            "write",
            r#"["{key}", "{value}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(kv_select("read", r#"["{key}"]"#, r#", timeout = "2s""#))
        .with(integrity())
        .to_string();
    check_integrity(&Campaign::with_service(&cluster.service(), &body));
}

//! Integrity campaigns against real Redis and PostgreSQL servers through a
//! SIGKILL: gonogo writes unique keys, kills the server halfway, starts it again
//! with the same command, and reads every key back. A server that persists before
//! it acknowledges loses nothing (GO); Redis without persistence loses every write
//! acknowledged before the kill (NO-GO, with the loss counted and the RPO given).

use crate::support::servers::{PostgresCluster, RedisDir, kv_insert, kv_select};
use crate::support::spec::{Spec, criterion, fault, integrity_writes};
use crate::support::{Campaign, describe, stdout};
use gonogo::evaluate::IntegrityCounts;
use gonogo::exit;
use gonogo::model::EventKind;
use gonogo::model::Outcome;

/// The integrity phase over the workloads `write` and `read` (150 writes/s for
/// 6 s, the server SIGKILLed at 50%) and a criterion on unexpected keys.
fn phase() -> String {
    Spec::new()
        .with(integrity_writes(150, 8, "6s", "1s"))
        .with(fault("writes", "kill").set("at", "50%"))
        .with(criterion("writes", "integrity.unexpected", "==", 0))
        .into()
}

const REDIS_WORKLOADS: &str = r#"
[[workload]]
name = "write"
redis = { address = "127.0.0.1:{port}", command = ["SET", "{key}", "{value}"], timeout = "2s" }

[[workload]]
name = "read"
redis = { address = "127.0.0.1:{port}", command = ["GET", "{key}"], timeout = "2s" }
"#;

/// Run the campaign, check its exit code, and return the phase's counts and the
/// outcome of the implicit "no acknowledged write lost" finding, from the store.
fn run_expecting(campaign: &Campaign, code: u8) -> (IntegrityCounts, Outcome) {
    let output = campaign.run_expecting(code);
    let (evidence, counts, outcome) = campaign.integrity_judged();
    // Started, then started again after the kill (and ready: the fault ended).
    let started = evidence
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ServiceStarted { .. }))
        .count();
    let kill_ended = evidence.events.iter().any(
        |e| matches!(&e.kind, EventKind::FaultRemoved { fault, .. } if fault.contains("kill")),
    );
    assert!(started == 2 && kill_ended, "{}", describe(&output));
    eprintln!("{counts:?}");
    assert!(counts.read_back, "{counts:?}");
    assert_eq!(
        counts.acknowledged + counts.failed + counts.indeterminate,
        counts.attempted,
        "{counts:?}"
    );
    // Writes went on after the restart: more than the half before the kill.
    assert!(counts.acknowledged > 200, "{counts:?}");
    (counts, outcome)
}

/// The phase's integrity summary in `gonogo report 1 --format json`.
fn json_summary(campaign: &Campaign) -> serde_json::Value {
    let report = campaign.gonogo(&["report", "1", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&report))
        .unwrap_or_else(|e| panic!("{e}: {}", describe(&report)));
    json["integrity"]
        .as_array()
        .and_then(|phases| phases.iter().find(|p| p["phase"] == "writes"))
        .cloned()
        .unwrap_or_else(|| panic!("no integrity summary: {json}"))
}

pub fn redis_with_fsynced_aof_keeps_every_acknowledged_write_through_a_sigkill() {
    let _serial = crate::support::serial();
    let redis = RedisDir::new();
    // Every write fsynced to the append-only file before it is acknowledged.
    let campaign =
        Campaign::with_service(&redis.service(), &format!("{REDIS_WORKLOADS}{}", phase()));
    let (c, outcome) = run_expecting(&campaign, exit::GO);
    assert_eq!(outcome, Outcome::Pass);
    assert_eq!(c.lost, 0, "{c:?}");
    assert_eq!(c.unexpected, Some(0), "SCAN lists the keys: {c:?}");
    assert_eq!(c.unread_acknowledged, 0, "{c:?}");
    let summary = json_summary(&campaign);
    assert_eq!(summary["lost"], 0, "{summary}");
    assert_eq!(summary["acknowledged"], c.acknowledged, "{summary}");
    assert_eq!(summary["attempted"], c.attempted, "{summary}");
}

pub fn redis_without_persistence_loses_the_writes_acknowledged_before_a_sigkill() {
    let _serial = crate::support::serial();
    let redis = RedisDir::new();
    let volatile = ["--save", "", "--appendonly", "no"];
    let campaign = Campaign::with_service(
        &redis.service_with(&volatile),
        &format!("{REDIS_WORKLOADS}{}", phase()),
    );
    let (c, outcome) = run_expecting(&campaign, exit::NO_GO);
    assert_eq!(outcome, Outcome::Fail);
    // About half the writes went before the kill (3 s at 150/s), all gone.
    assert!(c.lost > 100, "{c:?}");
    assert!(
        c.lost < c.acknowledged,
        "writes after the restart stay: {c:?}"
    );
    assert!(c.rpo.is_some_and(|rpo| rpo.as_secs_f64() > 1.0), "{c:?}");
    assert!(c.rpo_to_fault, "the lost writes end at the kill: {c:?}");
    assert_eq!(c.unexpected, Some(0), "{c:?}");
    let summary = json_summary(&campaign);
    assert_eq!(summary["lost"], c.lost, "{summary}");
    assert!(
        summary["rpo_seconds"].as_f64().is_some_and(|s| s > 1.0),
        "{summary}"
    );
}

pub fn postgres_with_fsync_keeps_every_committed_insert_through_a_sigkill() {
    let _serial = crate::support::serial();
    let cluster = PostgresCluster::kv();
    let workloads = Spec::new()
        .with(kv_insert(
            "write",
            r#"["{key}", "{value}"]"#,
            r#", timeout = "5s""#,
        ))
        .with(kv_select(
            "read",
            r#"["{key}"]"#,
            r#", list = "SELECT k FROM kv WHERE starts_with(k, $1)", timeout = "5s""#,
        ));
    let campaign = Campaign::with_service(&cluster.service(), &format!("{workloads}{}", phase()));
    let (c, outcome) = run_expecting(&campaign, exit::GO);
    assert_eq!(outcome, Outcome::Pass);
    assert_eq!(c.lost, 0, "{c:?}");
    assert_eq!(c.unexpected, Some(0), "the list statement ran: {c:?}");
    assert_eq!(c.unread_acknowledged, 0, "{c:?}");
}

/// A server started again after a kill refuses connections for a moment (Redis
/// replaying its file, PostgreSQL recovering): the integrity clients try again
/// for up to the workload's timeout instead of ending the run.
#[tokio::main(flavor = "current_thread")]
pub async fn integrity_clients_wait_for_a_server_that_is_still_starting() {
    use gonogo::integrity::kv::KvError;
    use gonogo::integrity::{KvSession, PhaseWorkloads};
    use gonogo::load::RedisTarget;
    use gonogo::model::WriteOutcome;
    use std::time::Duration;

    let redis = RedisDir::new();
    let spec = format!(
        "{}{REDIS_WORKLOADS}{}",
        redis.service_with(&["--save", ""]),
        phase()
    );
    let plan = gonogo::plan::from_str(std::path::Path::new("t.toml"), &spec).unwrap();
    let workloads = PhaseWorkloads::of(&plan, &plan.phases[0]).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens yet: without patience the refusal is the answer.
    let refused =
        KvSession::<RedisTarget>::connect_patiently(workloads, port, Duration::ZERO).await;
    assert!(
        matches!(refused, Err(KvError::Connect { .. })),
        "{refused:?}"
    );
    let dir = redis.data.path().to_path_buf();
    let server = redis.server.clone();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        std::process::Command::new(server)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--dir"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    });
    let connected =
        KvSession::<RedisTarget>::connect_patiently(workloads, port, Duration::from_secs(20)).await;
    let mut child = starter.join().unwrap();
    let written = match connected {
        Ok(mut client) => Ok(client.write("gng-wait-0", "v").await),
        Err(err) => Err(err),
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(written.unwrap(), WriteOutcome::Acknowledged);
}

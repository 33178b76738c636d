//! Redis and PostgreSQL workloads end to end: gonogo starts a real redis-server or
//! postgres (in a temp dir, on a free loopback port), offers open-model load with
//! the `redis` and `postgres` workload kinds, and records the same evidence as for
//! HTTP. The integrity clients are checked against the same real servers.

use std::time::Duration;

use crate::support::servers::{
    PostgresCluster, RedisDir, kv_select, postgres_workload, redis_workload,
};
use crate::support::spec::{Raw, Spec, criterion, phase, steady, workload};
use crate::support::{Campaign, describe};
use gonogo::exit;
use gonogo::model::{IntervalStats, RunEvidence};

/// Every measured (non-warm-up) interval of `workload`, merged.
fn measured(evidence: &RunEvidence, workload: &str) -> IntervalStats {
    let mut total = IntervalStats::default();
    for record in evidence
        .intervals
        .iter()
        .filter(|r| r.workload == workload && !r.warmup)
    {
        total.merge(&record.stats);
    }
    total
}

/// A 3 s open-model phase at 300/s over `workloads`, judged on p99 latency and on
/// an error rate of at most `max_error_rate`.
fn load_phase(workloads: &str, max_error_rate: &str) -> String {
    Spec::new()
        .with(
            phase("steady", "steady")
                .set("workload", Raw(workloads))
                .set("rate", 300)
                .set("max_connections", 8)
                .set("duration", "3s")
                .set("warmup", "1s"),
        )
        .with(criterion("steady", "latency.p99", "<=", "500ms").set("min_samples", 200))
        .with(criterion("steady", "error_rate", "<=", max_error_rate))
        .into()
}

/// `workload`'s measured requests: enough of them (150/s each for 3 s, less what
/// the warm-up holds), none failed, each with a response time no shorter than its
/// service time.
fn all_ok(evidence: &RunEvidence, workload: &str) -> IntervalStats {
    let stats = measured(evidence, workload);
    let outcomes = &stats.outcomes;
    assert!(outcomes.ok >= 200, "{workload}: {outcomes:?}");
    assert_eq!(outcomes.failed(), 0, "{workload}: {outcomes:?}");
    assert_eq!(stats.response.len(), outcomes.total());
    assert!(stats.service.max() <= stats.response.max());
    stats
}

/// Run the campaign, check its exit code, and return its evidence.
fn run_expecting(campaign: &Campaign, code: u8) -> RunEvidence {
    campaign.run_expecting(code);
    campaign.evidence(1)
}

pub fn a_redis_set_and_get_campaign_is_go_with_latency_and_bytes_recorded() {
    let _serial = crate::support::serial();
    let redis = RedisDir::new();
    let body = Spec::new()
        .with(redis_workload(
            "set",
            r#"["SET", "{key}", "v{seq}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(redis_workload(
            "get",
            r#"["GET", "{key}"]"#,
            r#", timeout = "2s""#,
        ))
        .raw(&load_phase(r#"["set", "get"]"#, "0%"))
        .to_string();
    let campaign = Campaign::with_service(&redis.service(), &body);
    let evidence = run_expecting(&campaign, exit::GO);
    for workload in ["set", "get"] {
        let stats = all_ok(&evidence, workload);
        assert!(stats.bytes_sent > 0 && stats.bytes_received > 0);
    }
    // appendfsync always: the writes are in the append-only file.
    let aof = std::fs::read_dir(redis.data.path())
        .unwrap()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().contains("appendonly"));
    assert!(aof, "redis wrote no append-only file in its dir");
}

pub fn redis_error_replies_are_failures_and_fail_the_error_rate_criterion() {
    let _serial = crate::support::serial();
    let redis = RedisDir::new();
    // An unknown command answers -ERR; HSET succeeds alongside it.
    let body = Spec::new()
        .with(redis_workload("hset", r#"["HSET", "{key}", "f", "v"]"#, "").set("keys", 1))
        .with(redis_workload("bogus", r#"["NOSUCHCOMMAND", "{key}"]"#, ""))
        .raw(&load_phase(r#"["hset", "bogus"]"#, "1%"))
        .to_string();
    let campaign = Campaign::with_service(&redis.service(), &body);
    let evidence = run_expecting(&campaign, exit::NO_GO);
    let bogus = measured(&evidence, "bogus");
    assert_eq!(bogus.outcomes.ok, 0, "{:?}", bogus.outcomes);
    assert!(
        bogus.outcomes.status_mismatch >= 200,
        "{:?}",
        bogus.outcomes
    );
    assert_eq!(
        bogus.outcomes.connect_error + bogus.outcomes.io_error + bogus.outcomes.timeout,
        0,
        "an error reply keeps the connection: {:?}",
        bogus.outcomes
    );
    let good = measured(&evidence, "hset");
    assert_eq!(good.outcomes.failed(), 0, "{:?}", good.outcomes);
}

pub fn a_postgres_insert_and_select_campaign_is_go() {
    let _serial = crate::support::serial();
    let cluster = PostgresCluster::kv();
    let body = Spec::new()
        .with(postgres_workload(
            "upsert",
            "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            r#"["{key}", "v{seq}"]"#,
            r#", timeout = "2s""#,
        ))
        .with(kv_select("select", r#"["{key}"]"#, r#", timeout = "2s""#))
        .raw(&load_phase(r#"["upsert", "select"]"#, "0%"))
        .to_string();
    let campaign = Campaign::with_service(&cluster.service(), &body);
    let evidence = run_expecting(&campaign, exit::GO);
    for workload in ["upsert", "select"] {
        all_ok(&evidence, workload);
    }
}

pub fn a_postgres_error_is_a_status_mismatch() {
    let _serial = crate::support::serial();
    let cluster = PostgresCluster::kv();
    // v is NOT NULL: every insert violates the constraint.
    let body = Spec::new()
        .with(postgres_workload(
            "violate",
            "INSERT INTO kv (k, v) VALUES ($1, NULL)",
            r#"["{key}"]"#,
            "",
        ))
        .raw(&load_phase(r#""violate""#, "1%"))
        .to_string();
    let campaign = Campaign::with_service(&cluster.service(), &body);
    let stats = measured(&run_expecting(&campaign, exit::NO_GO), "violate");
    assert_eq!(stats.outcomes.ok, 0, "{:?}", stats.outcomes);
    assert!(
        stats.outcomes.status_mismatch >= 200,
        "{:?}",
        stats.outcomes
    );
    assert_eq!(stats.outcomes.io_error + stats.outcomes.connect_error, 0);
}

pub fn redis_refused_connections_are_connect_errors() {
    let _serial = crate::support::serial();
    // Nothing listens on the target: the service is a sleeper, ready by TCP on a
    // port it never opens would time out, so ready on a listener of our own (on
    // another port than the service's: a fixed port someone listens on is refused).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ready_port = listener.local_addr().unwrap().port();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let service = format!(
        "[service]\ncommand = [\"sleep\", \"60\"]\nport = {dead_port}\nready = {{ tcp = \"127.0.0.1:{ready_port}\" }}\nstop = {{ signal = \"SIGTERM\", grace = \"1s\" }}\n"
    );
    let body = Spec::new()
        .with(workload(
            "get",
            "redis",
            &format!("{{ address = \"127.0.0.1:{dead_port}\", command = [\"GET\", \"{{key}}\"] }}"),
        ))
        .with(steady("steady", 50, "2s").set("max_connections", 2))
        .to_string();
    let campaign = Campaign::with_service(&service, &body);
    let output = campaign.run();
    drop(listener);
    let stats = measured(&campaign.evidence(1), "get");
    assert!(
        stats.outcomes.connect_error >= 50,
        "{}\n{:?}",
        describe(&output),
        stats.outcomes
    );
    assert_eq!(stats.outcomes.ok, 0);
}

/// The integrity clients against real servers: acknowledged writes read back,
/// unknown keys are missing, listing finds the written keys, and a write to a
/// dead server is failed (refused before anything was sent).
pub mod integrity_clients {
    use super::*;
    use gonogo::integrity::kv::ReadOutcome;
    use gonogo::integrity::{KvSession, PhaseWorkloads};
    use gonogo::load::{KeyValue, PostgresTarget, RedisTarget};
    use gonogo::model::WriteOutcome;
    use gonogo::plan::WorkloadPlan;

    /// A session of `K` writing with `write` and reading with `read`, connected
    /// once (no patience).
    async fn session<K: KeyValue>(
        write: &WorkloadPlan,
        read: &WorkloadPlan,
        port: u16,
    ) -> Result<KvSession<K>, gonogo::integrity::kv::KvError> {
        let workloads = PhaseWorkloads {
            write,
            read,
            list: None,
        };
        KvSession::connect_patiently(workloads, port, Duration::ZERO).await
    }

    /// The workloads of a spec text (service section included), resolved.
    fn workloads(text: &str) -> Vec<WorkloadPlan> {
        gonogo::plan::from_str(std::path::Path::new("t.toml"), text)
            .expect("the test spec resolves")
            .workloads
    }

    fn spec(service: &str, workloads: &str) -> String {
        format!(
            "{service}\n{workloads}\n[[phase]]\nname = \"p\"\nkind = \"steady\"\nworkload = \"write\"\nrate = 1\nduration = \"1s\"\n"
        )
    }

    /// Start `command` and wait until `port` accepts connections.
    fn start(command: &mut std::process::Command, port: u16) -> std::process::Child {
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the server starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// `it:1`, `it:2` and `other` (outside the prefix) are acknowledged; `it:1` reads
    /// back as `first`, an unwritten key is missing, and listing `it:` finds the two.
    async fn writes_read_back_and_list<K: KeyValue>(
        kv: &mut KvSession<K>,
        other: &str,
        first: &[u8],
    ) {
        for key in ["it:1", "it:2", other] {
            assert_eq!(
                kv.write(key, "v").await,
                WriteOutcome::Acknowledged,
                "{key}"
            );
        }
        assert_eq!(kv.read("it:1").await, ReadOutcome::Found(first.to_vec()));
        assert_eq!(kv.read("it:9").await, ReadOutcome::Missing);
        let mut listed = kv.list("it:").await.unwrap().unwrap();
        listed.sort();
        assert_eq!(listed, vec!["it:1".to_string(), "it:2".to_string()]);
    }

    fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound").port()
    }

    fn stop(mut child: std::process::Child) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let _ = child.wait();
    }

    #[tokio::main(flavor = "current_thread")]
    pub async fn redis_kv_writes_reads_and_lists() {
        let redis = RedisDir::new();
        let port = free_port();
        let child = start(
            std::process::Command::new(&redis.server)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(redis.data.path()),
            port,
        );
        let plans = workloads(&spec(
            &redis.service(),
            r#"
[[workload]]
name = "write"
redis = { address = "127.0.0.1:{port}", command = ["SET", "{key}", "written"] }
[[workload]]
name = "read"
redis = { address = "127.0.0.1:{port}", command = ["GET", "{key}"] }
[[workload]]
name = "bad"
redis = { address = "127.0.0.1:{port}", command = ["HGET", "{key}", "f"] }
"#,
        ));
        let mut kv = session::<RedisTarget>(&plans[0], &plans[1], port)
            .await
            .unwrap();
        writes_read_back_and_list(&mut kv, "other", b"written").await;
        // HGET of a string key answers WRONGTYPE: an error, the connection kept.
        let mut wrong = session::<RedisTarget>(&plans[0], &plans[2], port)
            .await
            .unwrap();
        assert!(
            matches!(wrong.read("it:1").await, ReadOutcome::Error(e) if e.contains("WRONGTYPE"))
        );
        assert_eq!(wrong.write("it:4", "v").await, WriteOutcome::Acknowledged);
        stop(child);
        // The connection broke under the first write (sent or not, nobody knows);
        // the next cannot connect, so nothing was sent and it certainly failed.
        assert_ne!(kv.write("it:5", "v").await, WriteOutcome::Acknowledged);
        assert_eq!(kv.write("it:6", "v").await, WriteOutcome::Failed);
        assert!(matches!(kv.read("it:1").await, ReadOutcome::Error(_)));
    }

    #[tokio::main(flavor = "current_thread")]
    pub async fn postgres_kv_writes_reads_and_lists() {
        let cluster = PostgresCluster::kv();
        let port = free_port();
        let service = cluster.service();
        // The service section's command, run here with the port filled in.
        let argv: Vec<String> =
            toml::from_str::<toml::Table>(&service).unwrap()["service"]["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().replace("{port}", &port.to_string()))
                .collect();
        let child = start(std::process::Command::new(&argv[0]).args(&argv[1..]), port);
        let kv_workloads = Spec::new()
            .with(postgres_workload(
                "write",
                "INSERT INTO kv (k, v) VALUES ($1, $2 || $1)",
                r#"["{key}", "v-"]"#,
                "",
            ))
            .with(kv_select(
                "read",
                r#"["{key}"]"#,
                r#", list = "SELECT k FROM kv WHERE starts_with(k, $1)""#,
            ));
        let plans = workloads(&spec(&service, &kv_workloads.to_string()));
        // Postgres accepts TCP connections a moment before it accepts sessions.
        let mut kv = None;
        for _ in 0..100 {
            match session::<PostgresTarget>(&plans[0], &plans[1], port).await {
                Ok(client) => {
                    kv = Some(client);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let mut kv = kv.expect("postgres accepts sessions");
        writes_read_back_and_list(&mut kv, "zz", b"v-it:1").await;
        // A duplicate key violates the primary key: failed, connection kept.
        assert_eq!(kv.write("it:1", "v").await, WriteOutcome::Failed);
        assert_eq!(
            kv.read("it:2").await,
            ReadOutcome::Found(b"v-it:2".to_vec())
        );
        stop(child);
        // Let the client's connection task see the server close the connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = kv.write("it:3", "v").await;
        assert_eq!(
            after,
            WriteOutcome::Failed,
            "the server is gone before the send"
        );
        assert!(matches!(kv.read("it:1").await, ReadOutcome::Error(_)));
    }
}

//! Tests of the evidence store: round trips on `:memory:` and on files, listing,
//! reaping of stale runs, schema versions, and damaged data.

use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;
use rusqlite::Connection;

use super::*;
use crate::model::{
    Decision, EventKind, HostFacts, IntervalStats, Metric, NotSent, Op, Outcome, OutcomeCounts,
    Severity, Window, new_histogram,
};
use crate::units::Unit;

pub(super) fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

pub(super) fn manifest(name: &str, started_at_ms: i64) -> RunManifest {
    RunManifest {
        name: name.to_string(),
        started_at_ms,
        tool_version: "0.1.0".to_string(),
        spec_path: "campaigns/checkout.toml".to_string(),
        spec_text: "[service]\ncommand = [\"testbed\"]\n".to_string(),
        spec_hash: "ab12".repeat(16),
        host: HostFacts {
            hostname: "bench-1".to_string(),
            cores: 8,
            memory_bytes: 16 << 30,
            kernel: "Linux 6.8.0".to_string(),
        },
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
    }
}

pub(super) fn phase(name: &str, started: Duration, ended: Option<Duration>) -> PhaseRecord {
    PhaseRecord {
        name: name.to_string(),
        kind: "steady".to_string(),
        model: "open".to_string(),
        planned_rate: Some(250.5),
        connections: 32,
        warmup: ms(1_000),
        planned_duration: ms(2_000),
        started,
        ended,
        parent: None,
        size: None,
    }
}

/// A resource sample at `at` of one process with one of everything.
pub(super) fn tiny_sample(at: Duration) -> ResourceSample {
    ResourceSample {
        at,
        processes: 1,
        rss_bytes: 1,
        cpu_seconds: 0.0,
        threads: 1,
        open_fds: 1,
        host_available_bytes: 1,
    }
}

fn histogram(values: &[u64]) -> Histogram<u64> {
    let mut histogram = new_histogram();
    for &value in values {
        histogram.record(value).unwrap();
    }
    histogram
}

pub(super) fn interval(phase: &str, workload: &str, index: u32, start: Duration) -> IntervalRecord {
    let base = u64::from(index + 1) * 1_000;
    IntervalRecord {
        phase: phase.to_string(),
        workload: workload.to_string(),
        index,
        start,
        length: ms(1_000),
        warmup: index == 0,
        generator_cpu_seconds: 0.125,
        health: None,
        stats: IntervalStats {
            response: histogram(&[base, base + 7, base * 3, 1_234_567]).into(),
            service: histogram(&[base / 2, base]).into(),
            lag: histogram(&[0, 3, 95]).into(),
            gen_delay: new_histogram().into(),
            outcomes: OutcomeCounts {
                ok: 240,
                status_mismatch: 3,
                connect_error: 2,
                timeout: 1,
                io_error: 4,
            },
            planned: 250,
            sent: 248,
            peak_in_flight: 7,
            connections: 64,
            cap_waits: 5,
            not_sent: Some(NotSent {
                waiting: 3,
                busy: 0,
                stopped: 2,
            }),
            bytes_sent: 51_200,
            bytes_received: 1 << 33,
        },
    }
}

fn every_event_kind() -> Vec<EventKind> {
    vec![
        EventKind::ServiceStarted {
            pid: 4242,
            port: 40123,
            command: vec!["testbed".to_string(), "--listen".to_string()],
        },
        EventKind::ServiceReady {
            after: Duration::from_micros(312_457),
        },
        EventKind::PhaseStarted {
            phase: "baseline".to_string(),
        },
        EventKind::PhaseEnded {
            phase: "baseline".to_string(),
            abandoned: 2,
        },
        EventKind::ServiceExited {
            code: None,
            signal: Some(9),
            expected: false,
        },
        EventKind::Interrupted {
            signal: "SIGINT".to_string(),
        },
        EventKind::Failure {
            message: "the service exited before it was ready".to_string(),
        },
    ]
}

pub(super) fn finding(criterion: &str, outcome: Outcome) -> Finding {
    Finding {
        criterion: criterion.to_string(),
        implicit: false,
        phase: "baseline".to_string(),
        workload: Some("get".to_string()),
        scope: None,
        metric: Metric::LatencyP99,
        op: Op::Le,
        threshold: 0.05,
        unit: Unit::Seconds,
        severity: Severity::Blocker,
        observed: Some(0.0125),
        interval: None,
        samples: 4_000,
        outcome,
        window: Some(Window {
            start: ms(1_000),
            end: Some(ms(3_000)),
            first_interval: Some(1),
            last_interval: Some(2),
        }),
        method: "p99 of merged response-time histograms".to_string(),
        explanation: "p99 12.5ms is within 50ms".to_string(),
    }
}

pub(super) fn verdict(decision: Decision) -> Verdict {
    Verdict {
        decision,
        reasons: vec![format!("decided {}", decision.as_str())],
    }
}

/// Record a complete two-phase run, writing records out of order where the store
/// must sort them; returns the run id and the evidence `load_run` must give back.
/// `record` with generator health: a hiccup histogram and scheduling figures, some
/// unknown (they must come back unknown, not 0).
fn with_health(mut record: IntervalRecord) -> IntervalRecord {
    record.health = Some(crate::model::GeneratorHealth {
        hiccup: histogram(&[12, 80, 50_000]).into(),
        sched: crate::model::SchedEvidence {
            hiccup_total_us: 49_000,
            threads_cpu_us: Some(120_000),
            run_queue_wait_us: Some(3_000),
            timeslices: Some(1_500),
            throttled_periods: None,
            throttled_us: None,
            steal_us: Some(0),
            covered_us: 1_000_017,
        },
    });
    record
}

fn record_full_run(store: &mut Store) -> (RunId, RunEvidence) {
    let manifest = manifest("checkout", 1_700_000_000_000);
    let run = store.begin_run(&manifest).unwrap();
    let baseline = phase("baseline", ms(500), None);
    let stress = phase("stress", Duration::from_micros(3_600_001), None);
    store.phase_started(run, &baseline).unwrap();
    store.phase_started(run, &stress).unwrap();
    store.phase_ended(run, "baseline", ms(3_500)).unwrap();
    store
        .phase_ended(run, "stress", Duration::from_micros(5_600_002))
        .unwrap();

    let intervals = vec![
        interval("baseline", "get", 0, ms(500)),
        interval("baseline", "get", 1, ms(1_500)),
        interval("baseline", "put", 0, ms(500)),
        with_health(interval(
            "stress",
            "get",
            0,
            Duration::from_micros(3_600_001),
        )),
    ];
    for index in [3, 2, 1, 0] {
        store.record_interval(run, &intervals[index]).unwrap();
    }

    let samples: Vec<ResourceSample> = (0..3_u32)
        .map(|i| ResourceSample {
            at: Duration::from_micros(1_000_003 * u64::from(i)),
            processes: 1 + i,
            rss_bytes: 50_000_000 + u64::from(i) * 4_096,
            cpu_seconds: 0.75 * f64::from(i),
            threads: 4,
            open_fds: 12 + u64::from(i),
            host_available_bytes: 8 << 30,
        })
        .collect();
    for sample in samples.iter().rev() {
        store.record_sample(run, sample).unwrap();
    }

    let events: Vec<Event> = every_event_kind()
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Event {
            at: Duration::from_micros(100_001 * (i as u64 + 1)),
            kind,
        })
        .collect();
    for event in events.iter().rev() {
        store.record_event(run, event).unwrap();
    }

    let artifacts = vec![
        Artifact {
            name: "service stdout".to_string(),
            path: "/tmp/run/stdout.log".to_string(),
        },
        Artifact {
            name: "service stderr".to_string(),
            path: "/tmp/run/stderr.log".to_string(),
        },
    ];
    // Recorded twice, as a restarted service announces the same logs again: kept once.
    for artifact in artifacts.iter().chain(&artifacts) {
        store.record_artifact(run, artifact).unwrap();
    }
    store
        .finish_run(run, RunStatus::Completed, 1_700_000_006_000)
        .unwrap();

    let expected = RunEvidence {
        id: run,
        manifest,
        status: RunStatus::Completed,
        ended_at_ms: Some(1_700_000_006_000),
        phases: vec![
            PhaseRecord {
                ended: Some(ms(3_500)),
                ..baseline
            },
            PhaseRecord {
                ended: Some(Duration::from_micros(5_600_002)),
                ..stress
            },
        ],
        intervals,
        samples,
        events,
        artifacts,
        integrity: Vec::new(),
        bad_input: Vec::new(),
    };
    (run, expected)
}

fn assert_round_trip(store: &mut Store) {
    let (run, expected) = record_full_run(store);
    let loaded = store.load_run(run).unwrap();
    for (got, want) in loaded.intervals.iter().zip(&expected.intervals) {
        assert_eq!(got.stats.response.len(), want.stats.response.len());
        assert_eq!(
            got.stats.response.value_at_quantile(0.99),
            want.stats.response.value_at_quantile(0.99)
        );
        assert_eq!(
            got.stats.service.value_at_quantile(0.99),
            want.stats.service.value_at_quantile(0.99)
        );
        assert_eq!(got.stats.lag.len(), 3);
        assert!(got.stats.gen_delay.is_empty());
    }
    assert_eq!(loaded, expected);
}

#[test]
fn a_full_run_round_trips_in_memory() {
    let mut store = Store::open_in_memory().unwrap();
    assert_round_trip(&mut store);
}

#[test]
fn a_full_run_round_trips_through_a_file_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/evidence.db");
    let mut store = Store::open(&path).unwrap();
    let (run, expected) = record_full_run(&mut store);
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load_run(run).unwrap(), expected);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn evaluations_round_trip_and_the_newest_wins() {
    let mut store = Store::open_in_memory().unwrap();
    let (run, _) = record_full_run(&mut store);
    assert_eq!(store.latest_evaluation(run).unwrap(), None);
    let findings = vec![
        finding("baseline latency.p99 <= 50ms", Outcome::Pass),
        finding("baseline error_rate <= 1%", Outcome::Fail),
        Finding {
            observed: None,
            interval: None,
            window: None,
            implicit: true,
            ..finding("service stayed up", Outcome::Inconclusive)
        },
    ];
    let newer = store
        .record_evaluation(run, "hash-b", 2_000, &findings, &verdict(Decision::NoGo))
        .unwrap();
    // Recorded later but created earlier: not the latest.
    store
        .record_evaluation(run, "hash-a", 1_000, &findings[..1], &verdict(Decision::Go))
        .unwrap();
    let latest = store.latest_evaluation(run).unwrap().unwrap();
    assert_eq!(
        latest,
        StoredEvaluation {
            id: newer,
            number: 2,
            of: 2,
            created_at_ms: 2_000,
            spec_hash: "hash-b".to_string(),
            findings: findings.clone(),
            verdict: verdict(Decision::NoGo),
        }
    );
    // Every judgement is kept, numbered oldest first; none is replaced.
    let first = store.evaluation(run, 1).unwrap().unwrap();
    assert_eq!(
        (first.number, first.of, first.spec_hash.as_str()),
        (1, 2, "hash-a")
    );
    assert_eq!(first.findings, findings[..1]);
    assert_eq!(store.evaluation(run, 2).unwrap(), Some(latest));
    assert_eq!(store.evaluation(run, 3).unwrap(), None);
    assert_eq!(store.evaluation(run, 0).unwrap(), None);
    assert_eq!(store.list_runs().unwrap()[0].judgements, 2);
}

#[test]
fn runs_are_listed_newest_first_with_their_latest_decision() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(store.latest_run_id().unwrap(), None);
    assert!(store.list_runs().unwrap().is_empty());
    let old = store.begin_run(&manifest("old", 1_000)).unwrap();
    let newest = store.begin_run(&manifest("newest", 3_000)).unwrap();
    let middle = store.begin_run(&manifest("middle", 2_000)).unwrap();
    store.finish_run(old, RunStatus::Completed, 1_500).unwrap();
    store.finish_run(middle, RunStatus::Aborted, 2_500).unwrap();
    store
        .record_evaluation(old, "h", 10, &[], &verdict(Decision::NoGo))
        .unwrap();
    store
        .record_evaluation(old, "h", 20, &[], &verdict(Decision::Go))
        .unwrap();
    store
        .record_evaluation(newest, "h", 30, &[], &verdict(Decision::Inconclusive))
        .unwrap();

    let runs = store.list_runs().unwrap();
    let summary: Vec<_> = runs
        .iter()
        .map(|r| (r.id, r.name.as_str(), r.status, r.ended_at_ms, r.decision))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                newest,
                "newest",
                RunStatus::Running,
                None,
                Some(Decision::Inconclusive)
            ),
            (middle, "middle", RunStatus::Aborted, Some(2_500), None),
            (
                old,
                "old",
                RunStatus::Completed,
                Some(1_500),
                Some(Decision::Go)
            ),
        ]
    );
    assert_eq!(runs[0].spec_path, "campaigns/checkout.toml");
    assert_eq!(runs[0].started_at_ms, 3_000);
    assert_eq!(store.latest_run_id().unwrap(), Some(newest));
}

#[test]
fn unknown_runs_and_phases_are_named_errors() {
    let mut store = Store::open_in_memory().unwrap();
    let error = store.load_run(42).unwrap_err();
    assert!(matches!(error, StoreError::RunNotFound(42, _)));
    assert_eq!(
        error.to_string(),
        "no run with id 42 in :memory:; list runs with 'gonogo runs'"
    );
    let sample = tiny_sample(ms(1));
    assert!(matches!(
        store.record_sample(7, &sample),
        Err(StoreError::RunNotFound(7, _))
    ));
    assert!(matches!(
        store.finish_run(7, RunStatus::Completed, 1),
        Err(StoreError::RunNotFound(7, _))
    ));

    let run = store.begin_run(&manifest("r", 1)).unwrap();
    let missing = |result| matches!(result, Err(StoreError::PhaseNotFound { ref phase, .. }) if phase == "nope");
    assert!(missing(store.phase_ended(run, "nope", ms(1))));
    assert!(missing(
        store.record_interval(run, &interval("nope", "get", 0, ms(0)))
    ));
}

/// The pid of a child that has exited and been reaped: no process has it now.
pub(super) fn dead_pid() -> i64 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = i64::from(child.id());
    child.wait().unwrap();
    pid
}

#[test]
fn a_run_whose_process_died_is_marked_aborted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    let mut store = Store::open(&path).unwrap();
    let dead = store.begin_run(&manifest("killed", 5_000)).unwrap();
    let alive = store.begin_run(&manifest("in progress", 6_000)).unwrap();
    store
        .phase_started(dead, &phase("baseline", ms(100), None))
        .unwrap();
    // The latest offset of each kind; the sample's is the largest.
    store
        .record_interval(dead, &interval("baseline", "get", 0, ms(1_500)))
        .unwrap();
    store
        .record_event(
            dead,
            &Event {
                at: ms(2_900),
                kind: EventKind::PhaseStarted {
                    phase: "baseline".to_string(),
                },
            },
        )
        .unwrap();
    let sample = tiny_sample(Duration::from_micros(3_200_001));
    store.record_sample(dead, &sample).unwrap();
    store
        .conn
        .execute("UPDATE runs SET pid = ?1 WHERE id = ?2", [dead_pid(), dead])
        .unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    let killed = store.load_run(dead).unwrap();
    assert_eq!(killed.status, RunStatus::Aborted);
    // 3.200001 s rounded up to whole milliseconds.
    assert_eq!(killed.ended_at_ms, Some(5_000 + 3_201));
    assert_eq!(killed.intervals.len(), 1);
    assert_eq!(killed.samples, vec![sample]);
    let running = store.load_run(alive).unwrap();
    assert_eq!(running.status, RunStatus::Running);
    assert_eq!(running.ended_at_ms, None);
}

#[test]
fn a_dead_run_with_no_evidence_ends_at_its_start() {
    let mut store = Store::open_in_memory().unwrap();
    let run = store.begin_run(&manifest("empty", 7_000)).unwrap();
    store
        .conn
        .execute("UPDATE runs SET pid = ?1 WHERE id = ?2", [dead_pid(), run])
        .unwrap();
    assert_eq!(reap::reap_stale_runs(&store.conn, "x").unwrap(), vec![run]);
    let loaded = store.load_run(run).unwrap();
    assert_eq!(
        (loaded.status, loaded.ended_at_ms),
        (RunStatus::Aborted, Some(7_000))
    );
}

pub(super) fn set_schema_version(path: &Path, version: i64) {
    let conn = Connection::open(path).unwrap();
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [version],
    )
    .unwrap();
}

#[test]
fn a_store_from_a_newer_gonogo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    drop(Store::open(&path).unwrap());
    set_schema_version(&path, 99);
    let error = Store::open(&path).unwrap_err();
    let newest = super::schema::MIGRATIONS.len();
    assert!(matches!(
        error,
        StoreError::SchemaTooNew {
            found: 99,
            known,
            ..
        } if known == newest
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "evidence store {} has schema version 99, this gonogo knows up to {newest}; upgrade gonogo",
            path.display()
        )
    );
}

#[test]
fn migrations_run_once_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    let mut fresh = Connection::open(&path).unwrap();
    assert_eq!(
        schema::migrate(&mut fresh, "t").unwrap(),
        schema::MIGRATIONS.len()
    );
    drop(fresh);

    let mut store = Store::open(&path).unwrap();
    let run = store.begin_run(&manifest("kept", 1)).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load_run(run).unwrap().manifest.name, "kept");

    let mut again = Connection::open(&path).unwrap();
    assert_eq!(schema::migrate(&mut again, "t").unwrap(), 0);
    let version: i64 = again
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, schema::MIGRATIONS.len() as i64);
}

#[test]
fn a_version_1_store_gains_phase_parents_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;")
        .unwrap();
    conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
    conn.execute("INSERT INTO meta VALUES ('schema_version', 1)", [])
        .unwrap();
    conn.execute(
        "INSERT INTO runs (name, started_at_ms, status, pid, tool_version, spec_path,
                           spec_text, spec_hash, host_json)
         VALUES ('old', 1, 'completed', 1, '0.1.0', 's', '', 'h',
                 '{\"hostname\":\"h\",\"cores\":1,\"memory_bytes\":1,\"kernel\":\"k\"}')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO phases (run_id, name, kind, model, planned_rate, connections, warmup_us,
                             planned_duration_us, started_us, ended_us)
         VALUES (1, 'old-phase', 'steady', 'open', 10.0, 1, 0, 1000000, 0, 1000000)",
        [],
    )
    .unwrap();
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    let old = store.load_run(1).unwrap();
    assert_eq!(old.phases.len(), 1);
    assert_eq!(old.phases[0].parent, None);

    let run = store.begin_run(&manifest("new", 2)).unwrap();
    let step = PhaseRecord {
        name: "ramp#1".to_string(),
        kind: "ramp_step".to_string(),
        parent: Some("ramp".to_string()),
        size: None,
        ..phase("ramp#1", ms(0), None)
    };
    store.phase_started(run, &step).unwrap();
    let loaded = store.load_run(run).unwrap();
    assert_eq!(loaded.phases, vec![step]);
}

#[test]
fn a_damaged_histogram_is_an_error_naming_where_it_is() {
    let mut store = Store::open_in_memory().unwrap();
    let (run, _) = record_full_run(&mut store);
    store
        .conn
        .execute(
            "UPDATE intervals SET lag_hist = x'1c849313000000ff' WHERE idx = 1",
            [],
        )
        .unwrap();
    let error = store.load_run(run).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }));
    let message = error.to_string();
    for part in [
        "lag histogram",
        &format!("run {run}"),
        "phase \"baseline\"",
        "workload \"get\"",
        "interval 1",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message:?}");
    }
}

#[test]
fn damaged_json_and_status_are_corrupt_not_panics() {
    let mut store = Store::open_in_memory().unwrap();
    let (run, _) = record_full_run(&mut store);
    // Each damage stays: the manifest is read before the events.
    for (damage, part) in [
        (
            "UPDATE events SET detail = '{\"type\":\"nonsense\"}'",
            "events",
        ),
        ("UPDATE runs SET host_json = '[]'", "manifest"),
    ] {
        store.conn.execute(damage, []).unwrap();
        assert!(matches!(
            store.load_run(run),
            Err(StoreError::Corrupt { ref what, .. }) if what.contains(part)
        ));
    }
}

#[test]
fn intervals_stored_before_send_counts_read_back_their_completions() {
    let mut store = Store::open_in_memory().unwrap();
    let run = store.begin_run(&manifest("legacy", 1_000)).unwrap();
    store
        .phase_started(run, &phase("p", Duration::ZERO, None))
        .unwrap();
    let record = interval("p", "get", 0, Duration::ZERO);
    store.record_interval(run, &record).unwrap();
    assert_eq!(store.load_run(run).unwrap().intervals[0].stats.sent, 248);
    // What a run recorded before migration 3 looks like.
    store
        .conn
        .execute(
            "UPDATE intervals SET sent = NULL, peak_in_flight = NULL, connections = NULL",
            [],
        )
        .unwrap();
    let stats = &store.load_run(run).unwrap().intervals[0].stats;
    assert_eq!(stats.sent, stats.outcomes.total());
    assert_eq!((stats.peak_in_flight, stats.connections), (0, 0), "unknown");
}

#[test]
fn intervals_without_a_not_sent_account_read_back_none() {
    let mut store = Store::open_in_memory().unwrap();
    let run = store.begin_run(&manifest("accounts", 1_000)).unwrap();
    store
        .phase_started(run, &phase("p", Duration::ZERO, None))
        .unwrap();
    let mut closed = interval("p", "closed", 0, Duration::ZERO);
    closed.stats.not_sent = None;
    store.record_interval(run, &closed).unwrap();
    store
        .record_interval(run, &interval("p", "open", 0, Duration::ZERO))
        .unwrap();
    let stored = store.load_run(run).unwrap().intervals;
    let of = |workload: &str| {
        stored
            .iter()
            .find(|i| i.workload == workload)
            .unwrap()
            .stats
            .not_sent
    };
    assert_eq!(of("closed"), None, "the closed model has no plan");
    assert_eq!(of("open").map(|n| (n.waiting, n.stopped)), Some((3, 2)));
    // What a run recorded before migration 6 looks like.
    store
        .conn
        .execute("UPDATE intervals SET not_sent_waiting = NULL", [])
        .unwrap();
    assert_eq!(
        store.load_run(run).unwrap().intervals[1].stats.not_sent,
        None,
        "not counted"
    );
}

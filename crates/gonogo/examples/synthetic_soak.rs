//! Writes a synthetic one-hour soak run into an evidence store, for measuring how fast
//! and how large its reports are (`bench/report-render.sh`).
//!
//! The run: one phase of 3,600 one-second intervals (one minute of warm-up) for two
//! workloads, 3,600 resource samples, and the usual events. Latencies come from a
//! fixed pseudo-random sequence, so every store it writes is the same apart from its
//! wall-clock start.
//!
//! Usage: `synthetic_soak STORE.db` (the store is created; the run gets the next id);
//! `synthetic_soak STORE.db --stages` instead times the stages of rendering run 1's
//! HTML report: loading the evidence, evaluating, building the model, rendering.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gonogo::evidence::Store;
use gonogo::model::{
    Event, EventKind, HostFacts, IntervalRecord, IntervalStats, OutcomeCounts, PhaseRecord,
    ResourceSample, RunManifest, RunStatus,
};

const SECONDS: u32 = 3600;
const WARMUP: u32 = 60;
const PER_WORKLOAD: u64 = 500;

/// The spec stored with the run: a one-hour soak with the usual criteria.
fn spec() -> String {
    let mut spec = String::from(
        r#"name = "soak-1h"

[service]
command = ["testbed", "--listen", "127.0.0.1:{port}"]
port = "auto"
ready = { http = "http://127.0.0.1:{port}/health", timeout = "10s" }

[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404] }

[[workload]]
name = "put"
http = { method = "PUT", url = "http://127.0.0.1:{port}/kv/{key}", body = "v", expect_status = [201, 204] }

[[phase]]
name = "soak"
kind = "soak"
workload = ["get", "put"]
rate = 1000
duration = "59m"
warmup = "1m"
leak = { rss = "1MiB/h", fds = "10/h", threads = "10/h", horizon = "24h", window = "10s" }
"#,
    );
    for (metric, op, value) in [
        ("latency.p99", "<=", "\"50ms\""),
        ("error_rate", "<=", "\"1%\""),
        ("rss.max", "<=", "\"512MiB\""),
        ("leak.rss.detected", "==", "false"),
        ("leak.fds.detected", "==", "false"),
        ("leak.threads.detected", "==", "false"),
    ] {
        spec.push_str(&format!(
            "\n[[criterion]]\nphase = \"soak\"\nmetric = \"{metric}\"\nop = \"{op}\"\nvalue = {value}\n"
        ));
    }
    spec
}
/// xorshift64*: a fixed pseudo-random sequence.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A latency in µs: mostly 1–5 ms, a tail to ~80 ms, drifting slowly upwards.
    fn latency(&mut self, second: u32) -> u64 {
        let base = 1_000 + self.next() % 4_000 + u64::from(second) / 4;
        if self.next() % 100 == 0 {
            base + self.next() % 80_000
        } else {
            base
        }
    }
}

fn stats(sequence: &mut Sequence, second: u32) -> IntervalStats {
    let mut stats = IntervalStats::default();
    let failed = u64::from(second % 600 == 0);
    for _ in 0..PER_WORKLOAD {
        let latency = sequence.latency(second);
        let lag = 20 + sequence.next() % 200;
        // Recording into auto-resizing histograms cannot fail.
        let _ = stats.response.record(latency + lag);
        let _ = stats.service.record(latency);
        let _ = stats.lag.record(lag);
        let _ = stats.gen_delay.record(lag / 4);
    }
    stats.outcomes = OutcomeCounts {
        ok: PER_WORKLOAD - failed,
        timeout: failed,
        ..OutcomeCounts::default()
    };
    // Every planned request went out on time over 64 connections, a few in flight.
    stats.sent = PER_WORKLOAD;
    stats.connections = 64;
    stats.peak_in_flight = 4;
    stats.planned = PER_WORKLOAD;
    stats.bytes_sent = PER_WORKLOAD * 120;
    stats.bytes_received = PER_WORKLOAD * 200;
    stats
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: synthetic_soak STORE.db")?
        .into();
    if std::env::args().nth(2).as_deref() == Some("--stages") {
        return stages(&path);
    }
    let mut store = Store::open(&path)?;
    let spec = spec();
    let started_at_ms = 1_700_000_000_000;
    let run = store.begin_run(&RunManifest {
        name: "soak-1h".into(),
        started_at_ms,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        spec_path: "soak.toml".into(),
        spec_text: spec.clone(),
        spec_hash: gonogo::run::manifest::spec_hash(&spec),
        host: HostFacts {
            hostname: "bench".into(),
            cores: 2,
            memory_bytes: 8 << 30,
            kernel: "Linux".into(),
        },
        git_commit: None,
    })?;
    let at = |s: u32| Duration::from_secs(u64::from(s));
    let event = |s: f64, kind| Event {
        at: Duration::from_secs_f64(s),
        kind,
    };
    store.record_event(
        run,
        &event(
            0.0,
            EventKind::ServiceStarted {
                pid: 1,
                port: 8080,
                command: vec!["testbed".into()],
            },
        ),
    )?;
    let phase = PhaseRecord {
        name: "soak".into(),
        kind: "soak".into(),
        model: "open".into(),
        planned_rate: Some(1000.0),
        connections: 64,
        warmup: at(WARMUP),
        planned_duration: at(SECONDS - WARMUP),
        started: at(1),
        ended: None,
        parent: None,
        size: None,
    };
    store.phase_started(run, &phase)?;
    let mut sequence = Sequence(0x9e37_79b9_7f4a_7c15);
    for second in 0..SECONDS {
        for workload in ["get", "put"] {
            store.record_interval(
                run,
                &IntervalRecord {
                    phase: "soak".into(),
                    workload: workload.into(),
                    index: second,
                    start: at(1 + second),
                    length: at(1),
                    warmup: second < WARMUP,
                    generator_cpu_seconds: 0.2,
                    health: None,
                    stats: stats(&mut sequence, second),
                },
            )?;
        }
        store.record_sample(
            run,
            &ResourceSample {
                at: at(1 + second),
                processes: 1,
                rss_bytes: (40 << 20) + u64::from(second) * 4096 + sequence.next() % (1 << 20),
                cpu_seconds: f64::from(second) * 0.3,
                threads: 4,
                open_fds: 60 + sequence.next() % 8,
                host_available_bytes: 4 << 30,
            },
        )?;
    }
    store.phase_ended(run, "soak", at(1 + SECONDS))?;
    store.record_event(
        run,
        &event(
            f64::from(1 + SECONDS),
            EventKind::ServiceExited {
                code: Some(0),
                signal: None,
                expected: true,
            },
        ),
    )?;
    store.finish_run(
        run,
        RunStatus::Completed,
        started_at_ms + i64::from(SECONDS + 2) * 1000,
    )?;
    eprintln!("run {run} written to {}", path.display());
    Ok(())
}

/// Time each stage of rendering run 1's HTML report, in seconds, on stderr.
fn stages(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let store = Store::open(path)?;
    let evidence = store.load_run(1)?;
    let loaded = start.elapsed();
    let plan = gonogo::plan::from_str(Path::new("soak.toml"), &evidence.manifest.spec_text)?;
    let findings = gonogo::evaluate::evaluate(&plan.criteria, &evidence);
    let verdict = gonogo::verdict::decide(&findings);
    let evaluated = start.elapsed();
    let model = gonogo::report::ReportModel::build(&evidence, &findings, &verdict);
    let built = start.elapsed();
    let html = gonogo::report::render(&model, gonogo::report::Format::Html);
    let rendered = start.elapsed();
    eprintln!(
        "load {:.3} s, evaluate {:.3} s, build model {:.3} s, render HTML {:.3} s ({} bytes)",
        loaded.as_secs_f64(),
        (evaluated - loaded).as_secs_f64(),
        (built - evaluated).as_secs_f64(),
        (rendered - built).as_secs_f64(),
        html.len()
    );
    Ok(())
}

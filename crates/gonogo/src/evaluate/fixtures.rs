//! Deterministic synthetic evidence for tests of evaluation, verdict and reports.
//!
//! Two runs of a campaign named `demo`: [`go_run`] (one phase, two workloads, all
//! blockers pass, one advisory fails) and [`nogo_run`] (a second phase in which the
//! service crashes). Every number here is synthetic and chosen so the expected values
//! can be worked out by hand.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::model::{
    Artifact, Event, EventKind, Finding, HostFacts, IntervalRecord, IntervalStats, Metric, Op,
    OutcomeCounts, PhaseRecord, ResourceSample, RunEvidence, RunManifest, RunStatus, Scope,
    Severity, new_histogram,
};
use crate::plan::CriterionPlan;

pub(crate) const MIB: u64 = 1024 * 1024;
pub(crate) const KIB: u64 = 1024;

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A histogram from `(value µs, count)` pairs.
pub(crate) fn hist(values: &[(u64, u64)]) -> Histogram<u64> {
    let mut h = new_histogram();
    for &(value, count) in values {
        h.record_n(value, count).expect("auto-resizing histogram");
    }
    h
}

pub(crate) fn ok(n: u64) -> OutcomeCounts {
    OutcomeCounts {
        ok: n,
        ..OutcomeCounts::default()
    }
}

/// One interval's statistics: lag 50 µs and generator delay 20 µs for every request,
/// 100 bytes sent and 300 received per request.
pub(crate) fn stats(
    outcomes: OutcomeCounts,
    planned: u64,
    response: &[(u64, u64)],
    service: &[(u64, u64)],
) -> IntervalStats {
    let total = outcomes.total();
    IntervalStats {
        response: hist(response).into(),
        service: hist(service).into(),
        lag: hist(&[(50, total)]).into(),
        gen_delay: hist(&[(20, total)]).into(),
        outcomes,
        planned,
        sent: total,
        peak_in_flight: 0,
        connections: 64,
        cap_waits: 0,
        not_sent: None,
        bytes_sent: total * 100,
        bytes_received: total * 300,
    }
}

pub(crate) fn phase(
    name: &str,
    started: f64,
    warmup: f64,
    duration: f64,
    ended: Option<f64>,
    rate: f64,
) -> PhaseRecord {
    PhaseRecord {
        name: name.to_string(),
        kind: "steady".to_string(),
        model: "open".to_string(),
        planned_rate: Some(rate),
        connections: 64,
        warmup: secs(warmup),
        planned_duration: secs(duration),
        started: secs(started),
        ended: ended.map(secs),
        parent: None,
        size: None,
    }
}

/// Step `n` (1-based) of phase `ramp` at `rate`: 3 s from `3 (n - 1)` s, the first
/// second warm-up.
pub(crate) fn ramp_step(n: usize, rate: u64) -> PhaseRecord {
    let start = 3.0 * (n - 1) as f64;
    PhaseRecord {
        kind: "ramp_step".to_string(),
        parent: Some("ramp".to_string()),
        ..phase(
            &format!("ramp#{n}"),
            start,
            1.0,
            2.0,
            Some(start + 3.0),
            rate as f64,
        )
    }
}

/// One-second intervals covering the phase's warm-up and duration; `make` gives the
/// statistics of interval `i`.
pub(crate) fn intervals(
    phase: &PhaseRecord,
    workload: &str,
    make: impl Fn(u32) -> IntervalStats,
) -> Vec<IntervalRecord> {
    let count = (phase.warmup + phase.planned_duration).as_secs() as u32;
    (0..count)
        .map(|i| IntervalRecord {
            phase: phase.name.clone(),
            workload: workload.to_string(),
            index: i,
            start: phase.started + Duration::from_secs(u64::from(i)),
            length: Duration::from_secs(1),
            warmup: Duration::from_secs(u64::from(i)) < phase.warmup,
            generator_cpu_seconds: 0.1,
            health: None,
            stats: make(i),
        })
        .collect()
}

pub(crate) fn sample(at: f64, processes: u32, rss: u64, cpu: f64) -> ResourceSample {
    ResourceSample {
        at: secs(at),
        processes,
        rss_bytes: rss,
        cpu_seconds: cpu,
        threads: 4,
        open_fds: 12,
        host_available_bytes: 8 * 1024 * MIB,
    }
}

pub(crate) fn event(at: f64, kind: EventKind) -> Event {
    Event { at: secs(at), kind }
}

pub(crate) fn manifest() -> RunManifest {
    RunManifest {
        name: "demo".to_string(),
        started_at_ms: 1_700_000_000_000,
        tool_version: "0.1.0".to_string(),
        spec_path: "examples/demo.toml".to_string(),
        spec_text: String::new(),
        spec_hash: "3f5a0c9e".repeat(8),
        host: HostFacts {
            hostname: "ci-runner".to_string(),
            cores: 8,
            memory_bytes: 16 * 1024 * MIB,
            kernel: "Linux 6.8.0".to_string(),
        },
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
    }
}

/// A criterion with a label as a user would write it, blocker, min_samples 100.
pub(crate) fn criterion(
    phase: &str,
    metric: Metric,
    op: Op,
    written: &str,
    threshold: f64,
) -> CriterionPlan {
    CriterionPlan {
        label: format!("{phase} {} {} {written}", metric.name(), op.symbol()),
        scope: Scope::Phase {
            name: phase.to_string(),
        },
        phase: phase.to_string(),
        workload: None,
        metric,
        op,
        threshold,
        severity: Severity::Blocker,
        min_samples: 100,
    }
}

/// The `baseline` phase: 1 s after the start, 2 s warm-up, 10 s measured, 200/s split
/// 150/s `get` and 50/s `put`. Warm-up intervals of `get` hold two 250 ms responses.
fn baseline(phase: &PhaseRecord) -> Vec<IntervalRecord> {
    let mut records = intervals(phase, "get", |i| {
        let slowest = if i < 2 { 250_000 } else { 9_000 };
        stats(
            ok(150),
            150,
            &[(900, 140), (2_500, 8), (slowest, 2)],
            &[(800, 140), (2_000, 8), (6_000, 2)],
        )
    });
    records.extend(intervals(phase, "put", |i| {
        let outcomes = if i == 6 {
            OutcomeCounts {
                ok: 49,
                status_mismatch: 1,
                ..OutcomeCounts::default()
            }
        } else {
            ok(50)
        };
        stats(
            outcomes,
            50,
            &[(1_500, 45), (4_000, 4), (8_000, 1)],
            &[(1_400, 45), (3_000, 5)],
        )
    }));
    records
}

/// `rss.max <= 256MiB` over `phase`.
pub(crate) fn rss_at_most_256mib(phase: &str) -> CriterionPlan {
    criterion(phase, Metric::RssMax, Op::Le, "256MiB", 256.0 * MIB as f64)
}

/// A completed run `id` that ended `ended_s` seconds after its start: the service
/// started and was ready at 0.25 s, `baseline` ran from 1 s to 13.2 s, then `later`
/// events.
fn completed_run(
    id: i64,
    ended_s: i64,
    (phases, intervals): (Vec<PhaseRecord>, Vec<IntervalRecord>),
    samples: Vec<ResourceSample>,
    later: Vec<Event>,
) -> RunEvidence {
    let mut events = vec![
        event(0.0, started_event()),
        event(0.25, EventKind::ServiceReady { after: secs(0.25) }),
        event(1.0, phase_started("baseline")),
        event(13.2, phase_ended("baseline")),
    ];
    events.extend(later);
    RunEvidence {
        id,
        manifest: manifest(),
        status: RunStatus::Completed,
        ended_at_ms: Some(manifest().started_at_ms + ended_s * 1000),
        intervals,
        phases,
        samples,
        events,
        artifacts: artifacts(id),
        integrity: Vec::new(),
        bad_input: Vec::new(),
    }
}

/// A completed run where every blocker passes; `cpu.mean <= 0.02 cores` (advisory)
/// fails at 0.05 cores.
pub(crate) fn go_run() -> (RunEvidence, Vec<CriterionPlan>) {
    let base = phase("baseline", 1.0, 2.0, 10.0, Some(13.2), 200.0);
    let samples = (0u32..14)
        .map(|k| {
            let at = 0.5 + f64::from(k);
            let running = u32::from(at < 13.5);
            let mut s = sample(
                at,
                running,
                40 * MIB + u64::from(k) * 64 * KIB,
                0.05 * f64::from(k),
            );
            s.open_fds = 12 + u64::from(k % 3);
            s.threads = 4 + u64::from(k > 2);
            s
        })
        .collect();
    let intervals = baseline(&base);
    let events = vec![event(13.5, exited(Some(0), None, true))];
    let evidence = completed_run(7, 14, (vec![base], intervals), samples, events);
    let mut criteria = vec![
        criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05),
        criterion("baseline", Metric::ErrorRate, Op::Le, "1%", 0.01),
        criterion("baseline", Metric::Throughput, Op::Ge, "190", 190.0),
        criterion("baseline", Metric::ServiceCrashed, Op::Eq, "false", 0.0),
        criterion("baseline", Metric::LatencyP99, Op::Le, "10ms", 0.01),
        rss_at_most_256mib("baseline"),
        criterion("baseline", Metric::CpuMean, Op::Le, "0.02", 0.02),
    ];
    criteria[4].workload = Some("put".to_string());
    criteria[4].label = "baseline put latency.p99 <= 10ms".to_string();
    for c in &mut criteria[5..] {
        c.severity = Severity::Advisory;
        c.min_samples = 5;
    }
    (evidence, criteria)
}

/// A completed run: `baseline` as in [`go_run`], then `stress` at 1000/s in which the
/// service slows down, crashes with SIGSEGV at 20.5 s, and every later request fails
/// to connect.
pub(crate) fn nogo_run() -> (RunEvidence, Vec<CriterionPlan>) {
    let base = phase("baseline", 1.0, 2.0, 10.0, Some(13.2), 200.0);
    let stress = phase("stress", 14.0, 2.0, 10.0, Some(26.2), 1000.0);
    let mut records = baseline(&base);
    records.extend(intervals(&stress, "get", stress_interval));
    let samples = (0u32..27)
        .map(|k| {
            let at = 0.5 + f64::from(k);
            let running = u32::from(at < 20.5);
            let rss = if at < 14.5 {
                40 * MIB
            } else {
                64 * MIB + (at - 14.5) as u64 * 48 * MIB
            };
            sample(at, running, rss, 0.1 * f64::from(k))
        })
        .collect();
    let events = vec![
        event(14.0, phase_started("stress")),
        event(20.5, exited(None, Some(11), false)),
        event(26.2, phase_ended("stress")),
    ];
    let evidence = completed_run(8, 27, (vec![base, stress], records), samples, events);
    let mut criteria = vec![
        criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05),
        criterion("stress", Metric::LatencyP99, Op::Le, "50ms", 0.05),
        criterion("stress", Metric::ErrorRate, Op::Le, "1%", 0.01),
        criterion("stress", Metric::ServiceCrashed, Op::Eq, "false", 0.0),
        rss_at_most_256mib("stress"),
    ];
    criteria[4].severity = Severity::Advisory;
    criteria[4].min_samples = 3;
    (evidence, criteria)
}

/// `stress` interval `i` (start 14 + i s): slow but served until 20 s, half broken in
/// the interval of the crash, connection refused afterwards.
fn stress_interval(i: u32) -> IntervalStats {
    let mut s = match i {
        0..=5 => stats(
            ok(1000),
            1000,
            &[(20_000, 900), (80_000, 90), (150_000, 10)],
            &[(5_000, 950), (12_000, 50)],
        ),
        6 => {
            let mut s = stats(
                OutcomeCounts {
                    ok: 500,
                    io_error: 500,
                    ..OutcomeCounts::default()
                },
                1000,
                &[(20_000, 450), (80_000, 45), (150_000, 5), (30_000, 500)],
                &[(5_000, 1000)],
            );
            s.cap_waits = 40;
            s
        }
        _ => {
            let outcomes = OutcomeCounts {
                connect_error: 1000,
                ..OutcomeCounts::default()
            };
            stats(outcomes, 1000, &[(150, 1000)], &[(150, 1000)])
        }
    };
    if i <= 5 {
        s.cap_waits = 120;
        s.lag = hist(&[(15_000, 1000)]).into();
    }
    s
}

fn started_event() -> EventKind {
    EventKind::ServiceStarted {
        pid: 4242,
        port: 38211,
        command: vec![
            "target/release/testbed".to_string(),
            "--listen".to_string(),
            "127.0.0.1:38211".to_string(),
        ],
    }
}

fn phase_started(phase: &str) -> EventKind {
    EventKind::PhaseStarted {
        phase: phase.to_string(),
    }
}

fn phase_ended(phase: &str) -> EventKind {
    EventKind::PhaseEnded {
        phase: phase.to_string(),
        abandoned: 0,
    }
}

pub(crate) fn exited(code: Option<i32>, signal: Option<i32>, expected: bool) -> EventKind {
    EventKind::ServiceExited {
        code,
        signal,
        expected,
    }
}

fn artifacts(id: i64) -> Vec<Artifact> {
    ["stdout", "stderr"]
        .into_iter()
        .map(|stream| Artifact {
            name: format!("service.{stream}"),
            path: format!("runs/{id}/service.{stream}.log"),
        })
        .collect()
}

/// A scaling phase `grow` with one step per size (1 s warm-up, 3 s measured, 100
/// requests a second); `latency_us(size)` is every measured response's time and
/// `rss(size)` the service's RSS during the step.
pub(crate) fn scaling_run(
    sizes: &[u64],
    latency_us: impl Fn(u64) -> u64,
    rss: impl Fn(u64) -> u64,
) -> RunEvidence {
    let mut phases = vec![PhaseRecord {
        kind: "scaling".to_string(),
        ..phase("grow", 0.0, 1.0, 3.0, Some(5.0 * sizes.len() as f64), 100.0)
    }];
    let mut records = Vec::new();
    let mut samples = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let start = 5.0 * i as f64 + 0.5;
        let step = PhaseRecord {
            kind: "scaling_step".to_string(),
            parent: Some("grow".to_string()),
            size: Some(size),
            ..phase(
                &format!("grow#{}", i + 1),
                start,
                1.0,
                3.0,
                Some(start + 4.0),
                100.0,
            )
        };
        let latency = latency_us(size);
        records.extend(intervals(&step, "get", |_| {
            stats(ok(100), 100, &[(latency, 100)], &[(latency, 100)])
        }));
        for t in 0..4 {
            samples.push(sample(start + 1.0 + f64::from(t), 1, rss(size), 0.0));
        }
        phases.push(step);
    }
    RunEvidence {
        id: 1,
        manifest: manifest(),
        status: RunStatus::Completed,
        ended_at_ms: Some(manifest().started_at_ms + 21_000),
        phases,
        intervals: records,
        samples,
        events: Vec::new(),
        artifacts: Vec::new(),
        integrity: Vec::new(),
        bad_input: Vec::new(),
    }
}

/// `f`'s explanation says `words`.
pub(crate) fn assert_explains(f: &Finding, words: &str) {
    assert!(f.explanation.contains(words), "{}", f.explanation);
}

/// `f`'s explanation begins with `words`.
pub(crate) fn assert_explanation_starts(f: &Finding, words: &str) {
    assert!(f.explanation.starts_with(words), "{}", f.explanation);
}

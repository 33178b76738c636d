//! A synthetic run with a ramp, a soak and faults, for the tests of the analysis
//! charts: the ramp breaks its latency bound at its third step, RSS grows by 100 KiB
//! a second during the soak, and of two faults the service recovers from the first
//! and never from the second (a kill after which every request fails).

use crate::evaluate::fixtures::{event, intervals, manifest, ok, phase, sample, stats};
use crate::model::{Event, EventKind, OutcomeCounts, PhaseRecord, RunEvidence, RunStatus};
use crate::plan::Plan;

const SPEC: &str = r#"name = "analyses"

[service]
command = ["testbed", "--listen", "127.0.0.1:{port}"]
port = "auto"
ready = { http = "http://127.0.0.1:{port}/health", timeout = "10s" }
expected_rate = 100

[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404] }

[[phase]]
name = "ramp"
kind = "ramp"
start_rate = 100
step = 100
max_rate = 500
duration = "2s"
warmup = "1s"
stop_when = { latency_p99 = "50ms", error_rate = "1%" }

[[phase]]
name = "soak"
kind = "soak"
rate = 100
duration = "60s"
warmup = "5s"
leak = { rss = "1MiB/h", window = "2s" }

[[phase]]
name = "chaos"
kind = "steady"
rate = 100
duration = "20s"
warmup = "1s"

[[fault]]
phase = "chaos"
kind = "latency"
direction = "to_client"
delay = "200ms"
from = "10%"
to = "30%"
recovered_when = { latency_p99 = "50ms", error_rate = "0%" }

[[fault]]
phase = "chaos"
kind = "kill"
at = "60%"
recovered_when = { latency_p99 = "50ms", error_rate = "0%" }

[[criterion]]
phase = "ramp"
metric = "capacity.last_good_rate"
op = ">="
value = 150

[[criterion]]
phase = "soak"
metric = "leak.rss.detected"
op = "=="
value = false

[[criterion]]
phase = "chaos"
metric = "recovery.time"
op = "<="
value = "3s"
"#;

/// The run and the plan of its spec (which the run's manifest carries).
pub(super) fn analysis_run() -> (RunEvidence, Plan) {
    let plan = crate::plan::from_str(std::path::Path::new("analyses.toml"), SPEC)
        .expect("the fixture's spec is valid");
    let mut phases = Vec::new();
    let mut records = Vec::new();
    let mut events = Vec::new();

    // Ramp: three steps of 3 s from 0 s; the third's p99 is 80 ms.
    phases.push(PhaseRecord {
        kind: "ramp".to_string(),
        ..phase("ramp", 0.0, 0.0, 9.0, Some(9.0), 100.0)
    });
    for (i, rate) in [100_u64, 200, 300].into_iter().enumerate() {
        let start = 3.0 * i as f64;
        let step = PhaseRecord {
            kind: "ramp_step".to_string(),
            parent: Some("ramp".to_string()),
            ..phase(
                &format!("ramp#{}", i + 1),
                start,
                1.0,
                2.0,
                Some(start + 3.0),
                rate as f64,
            )
        };
        let slow = if rate >= 300 { 80_000 } else { 9_000 };
        records.extend(intervals(&step, "get", |_| {
            stats(
                ok(rate),
                rate,
                &[(2_000, rate - rate / 50), (slow, rate / 50)],
                &[(1_500, rate)],
            )
        }));
        phases.push(step);
    }

    // Soak: 65 s from 10 s, RSS +100 KiB/s, a sample every 0.5 s.
    let soak = PhaseRecord {
        kind: "soak".to_string(),
        ..phase("soak", 10.0, 5.0, 60.0, Some(75.0), 100.0)
    };
    records.extend(intervals(&soak, "get", |_| {
        stats(ok(100), 100, &[(3_000, 100)], &[(2_500, 100)])
    }));
    phases.push(soak);
    let samples = (0_u32..170)
        .map(|k| {
            let at = 9.0 + 0.5 * f64::from(k);
            // A garbage-collected sawtooth of up to 1.25 MiB on a floor that grows by
            // 100 KiB a second, with some noise.
            let noise = u64::from((k * 7919) % 13) * 32 * 1024;
            let floor = (30 << 20) + (f64::from(k) * 51_200.0) as u64 + noise;
            let saw = u64::from(k % 6) * 256 * 1024;
            sample(at, 1, floor + saw, 0.01 * f64::from(k))
        })
        .collect();

    // Chaos: 21 s from 80 s; latency fault 82–86 s, kill at 92.6 s, ready at 93 s,
    // then every request fails.
    let chaos = phase("chaos", 80.0, 1.0, 20.0, Some(101.0), 100.0);
    records.extend(intervals(&chaos, "get", |i| {
        let at = 80 + i;
        if (82..86).contains(&at) {
            stats(ok(100), 100, &[(210_000, 100)], &[(205_000, 100)])
        } else if at >= 92 {
            let failed = OutcomeCounts {
                connect_error: 100,
                ..OutcomeCounts::default()
            };
            stats(failed, 100, &[(1_000, 100)], &[(900, 100)])
        } else {
            stats(ok(100), 100, &[(3_000, 100)], &[(2_500, 100)])
        }
    }));
    phases.push(chaos);
    let label = |i: usize| plan.faults[i].label.clone();
    events.extend(fault_events(label(0), (82.0, 86.0), Some((40, 120_000))));
    events.extend(fault_events(label(1), (92.6, 93.0), None));

    let evidence = RunEvidence {
        id: 9,
        manifest: crate::model::RunManifest {
            name: "analyses".to_string(),
            spec_path: "analyses.toml".to_string(),
            spec_text: SPEC.to_string(),
            ..manifest()
        },
        status: RunStatus::Completed,
        ended_at_ms: Some(1_700_000_101_000),
        phases,
        intervals: records,
        samples,
        events,
        artifacts: Vec::new(),
        integrity: Vec::new(),
        bad_input: Vec::new(),
    };
    (evidence, plan)
}

/// A fault of phase chaos in force from `on` to `off`, and what it acted on.
fn fault_events(fault: String, (on, off): (f64, f64), effect: Option<(u64, u64)>) -> [Event; 2] {
    let phase = || "chaos".to_string();
    [
        event(
            on,
            EventKind::FaultApplied {
                fault: fault.clone(),
                phase: phase(),
            },
        ),
        event(
            off,
            EventKind::FaultRemoved {
                fault,
                phase: phase(),
                connections: effect.map(|e| e.0),
                bytes: effect.map(|e| e.1),
            },
        ),
    ]
}

//! End-to-end campaigns: the real gonogo binary starts the real testbed, offers
//! load, stores evidence, and decides. Each test has its own temp dir and port.

use std::time::Duration;

use crate::support::{Campaign, describe, stdout};
use gonogo::evidence::model::{EventKind, RunStatus};
use gonogo::exit;

const GET: &str = r#"
[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404], timeout = "2s" }
"#;

fn steady(rate: u32, duration: &str, warmup: &str) -> String {
    format!(
        "[[phase]]\nname = \"steady\"\nkind = \"steady\"\nrate = {rate}\nduration = \"{duration}\"\nwarmup = \"{warmup}\"\n"
    )
}

fn criterion(metric: &str, op: &str, value: &str) -> String {
    format!(
        "[[criterion]]\nphase = \"steady\"\nmetric = \"{metric}\"\nop = \"{op}\"\nvalue = {value}\n"
    )
}

pub fn healthy_service_is_go_with_evidence_stored() {
    let body = format!(
        "{GET}{}{}{}{}",
        steady(300, "4s", "1s"),
        criterion("latency.p99", "<=", "\"100ms\""),
        criterion("error_rate", "<=", "\"0.1%\""),
        criterion("rss.max", "<=", "\"200MiB\""),
    );
    let campaign = Campaign::new(&[], &body);
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(exit::GO as i32),
        "{}",
        describe(&output)
    );
    assert!(stdout(&output).contains("GO"), "{}", describe(&output));

    let evidence = campaign.evidence(1);
    assert_eq!(evidence.status, RunStatus::Completed);
    let measured: Vec<_> = evidence.intervals.iter().filter(|i| !i.warmup).collect();
    assert_eq!(measured.len(), 4, "one interval per second after warm-up");
    let planned: u64 = measured.iter().map(|i| i.stats.planned).sum();
    let done: u64 = measured.iter().map(|i| i.stats.outcomes.total()).sum();
    assert_eq!(planned, 1200, "300/s for 4 s");
    assert!(
        done.abs_diff(planned) <= 20,
        "completed {done} of {planned} planned"
    );
    assert!(evidence.samples.len() >= 4, "resource samples every second");
    assert!(evidence.samples.iter().any(|s| s.rss_bytes > 0));
    let kinds: Vec<&str> = evidence.events.iter().map(|e| e.kind.tag()).collect();
    for expected in [
        "service_started",
        "service_ready",
        "phase_started",
        "phase_ended",
        "service_exited",
    ] {
        assert!(kinds.contains(&expected), "missing {expected} in {kinds:?}");
    }
    assert!(
        evidence
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ServiceExited { expected: true, .. }))
    );
}

pub fn latency_above_the_threshold_is_no_go_naming_the_criterion() {
    let body = format!(
        "{GET}{}{}",
        steady(50, "3s", "0s"),
        criterion("latency.p50", "<=", "\"10ms\""),
    );
    let campaign = Campaign::new(&["--latency", "30ms"], &body);
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(exit::NO_GO as i32),
        "{}",
        describe(&output)
    );
    let text = stdout(&output);
    assert!(text.contains("NO-GO"), "{text}");
    assert!(
        text.contains("latency.p50"),
        "the failing criterion is named: {text}"
    );
}

pub fn a_crash_is_no_go_with_the_crash_event() {
    let body = format!(
        "{GET}{}{}",
        steady(100, "4s", "0s"),
        criterion("latency.p99", "<=", "\"1s\""),
    );
    let campaign = Campaign::new(&["--crash-after", "50"], &body);
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(exit::NO_GO as i32),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    let crash = evidence
        .events
        .iter()
        .find_map(|e| match e.kind {
            EventKind::ServiceExited {
                code,
                expected: false,
                ..
            } => Some((e.at, code)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no unexpected exit in {:?}", evidence.events));
    assert_eq!(crash.1, Some(70), "the testbed's crash status");
    assert!(
        stdout(&output).to_lowercase().contains("service"),
        "{}",
        describe(&output)
    );
}

pub fn too_few_samples_is_inconclusive() {
    let body = format!(
        "{GET}{}{}",
        steady(20, "1s", "0s"),
        criterion("latency.p99", "<=", "\"1s\""),
    );
    let campaign = Campaign::new(&[], &body);
    let output = campaign.run();
    assert_eq!(
        output.status.code(),
        Some(exit::INCONCLUSIVE as i32),
        "20 requests cannot support a p99 (default min_samples 1000): {}",
        describe(&output)
    );
    assert!(
        stdout(&output).contains("INCONCLUSIVE"),
        "{}",
        describe(&output)
    );
}

pub fn interrupting_gonogo_leaves_an_aborted_run_and_no_service_behind() {
    let body = format!(
        "{GET}{}{}",
        steady(50, "30s", "0s"),
        criterion("latency.p99", "<=", "\"1s\""),
    );
    // A marker argument identifies this test's testbed among other tests' processes.
    let marker = format!("127.0.0.{}", 2 + std::process::id() % 200);
    let campaign = Campaign::on_host(
        &marker,
        &["--latency", "1ms"],
        &body.replace("127.0.0.1", &marker),
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(["run", "campaign.toml", "--quiet"])
        .current_dir(campaign.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::support::wait_for_intervals(&campaign, Duration::from_secs(20));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(exit::INTERRUPTED as i32),
        "{}",
        describe(&output)
    );
    let evidence = campaign.evidence(1);
    assert_eq!(evidence.status, RunStatus::Aborted);
    assert!(
        evidence
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Interrupted { .. }))
    );
    assert!(!evidence.intervals.is_empty(), "what was measured is kept");
    let leftovers = crate::support::processes_matching(&format!("{marker}:"));
    assert!(
        leftovers.is_empty(),
        "testbed processes left behind: {leftovers:?}"
    );
}

pub fn a_killed_gonogo_leaves_a_readable_aborted_run_and_no_service_behind() {
    let body = format!(
        "{GET}{}{}",
        steady(50, "30s", "0s"),
        criterion("error_rate", "<=", "\"1%\""),
    );
    let marker = format!("127.0.1.{}", 2 + std::process::id() % 200);
    let campaign = Campaign::on_host(&marker, &[], &body.replace("127.0.0.1", &marker));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(["run", "campaign.toml", "--quiet"])
        .current_dir(campaign.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_for_intervals(&campaign, Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    // The parent-death signal takes the service down with gonogo.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !crate::support::processes_matching(&format!("{marker}:")).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the testbed outlived gonogo"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The next gonogo to open the store marks the run aborted, and judges it from
    // the spec stored with it.
    let report = campaign.gonogo(&["report", "1", "--format", "json"]);
    assert!(report.status.code().is_some(), "{}", describe(&report));
    let json: serde_json::Value = serde_json::from_slice(&report.stdout)
        .unwrap_or_else(|err| panic!("report is not JSON ({err}): {}", describe(&report)));
    assert_eq!(json["run"]["status"], "aborted", "{json}");
    assert!(
        !campaign.evidence(1).intervals.is_empty(),
        "what was measured is kept"
    );
}

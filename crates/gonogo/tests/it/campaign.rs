//! End-to-end campaigns: the real gonogo binary starts the real testbed, offers
//! load, stores evidence, and decides. Each test has its own temp dir and port.

use std::time::Duration;

use crate::support::spec::{Spec, criterion, get, steady};
use crate::support::{Campaign, assert_exit, describe, stdout};
use gonogo::exit;
use gonogo::model::{EventKind, RunStatus};

/// GETs on the testbed at `rate`/s for `duration` after `warmup`, judged by
/// `criteria` (`(metric, op, value)`).
fn body(rate: u32, duration: &str, warmup: &str, criteria: &[(&str, &str, &str)]) -> String {
    let mut spec = Spec::new()
        .with(get("2s"))
        .with(steady("steady", rate, duration).set("warmup", warmup));
    for &(metric, op, value) in criteria {
        spec = spec.with(criterion("steady", metric, op, value));
    }
    spec.into()
}

/// `gonogo run` started in the background on a campaign with its own loopback
/// address, interrupted by `stop` once load is stored; the campaign and the address.
fn stopped_run<T>(
    prefix: &str,
    testbed_args: &[&str],
    criterion: (&str, &str, &str),
    stop: impl FnOnce(std::process::Child) -> T,
) -> (Campaign, String, T) {
    let body = body(50, "30s", "0s", &[criterion]);
    // A marker address identifies this test's testbed among other tests' processes.
    let marker = format!("{prefix}.{}", 2 + std::process::id() % 200);
    let campaign = Campaign::on_host(&marker, testbed_args, &body.replace("127.0.0.1", &marker));
    let child = campaign.spawn();
    crate::support::wait_for_intervals(&campaign, Duration::from_secs(20));
    let output = stop(child);
    (campaign, marker, output)
}

pub fn healthy_service_is_go_with_evidence_stored() {
    let body = body(
        300,
        "4s",
        "1s",
        &[
            ("latency.p99", "<=", "100ms"),
            ("error_rate", "<=", "0.1%"),
            ("rss.max", "<=", "200MiB"),
        ],
    );
    let campaign = Campaign::new(&[], &body);
    let output = campaign.run_expecting(exit::GO);
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
    let body = body(50, "3s", "0s", &[("latency.p50", "<=", "10ms")]);
    let campaign = Campaign::new(&["--latency", "30ms"], &body);
    let output = campaign.run_expecting(exit::NO_GO);
    let text = stdout(&output);
    assert!(text.contains("NO-GO"), "{text}");
    assert!(
        text.contains("latency.p50"),
        "the failing criterion is named: {text}"
    );
}

pub fn a_crash_is_no_go_with_the_crash_event() {
    let body = body(100, "4s", "0s", &[("latency.p99", "<=", "1s")]);
    let campaign = Campaign::new(&["--crash-after", "50"], &body);
    let output = campaign.run_expecting(exit::NO_GO);
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

/// A service that dies before it is ready: exit 4, and every report says COULD NOT
/// RUN with the service's own words, never a decision.
pub fn a_service_that_exits_before_ready_could_not_run_in_every_report() {
    let service = crate::support::spec::service(
        // `sh -c` takes "service" as $0 and the port as $1: the spec must pass {port}.
        // It also tries to clear the screen: that must reach no terminal raw.
        &[
            "sh",
            "-c",
            "printf '\\033[2J\\n' >&2; echo boom >&2; exit 1",
            "service",
            "{port}",
        ]
        .map(String::from),
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }",
        "SIGTERM",
        "3s",
    );
    let body = body(50, "2s", "0s", &[("latency.p99", "<=", "1s")]);
    let campaign = Campaign::with_service(&service.to_string(), &body);
    let output = campaign.run_expecting(exit::FAILURE);
    let headline = "COULD NOT RUN: service exited with exit code 1 before it was ready";
    let text = stdout(&output);
    assert!(text.starts_with(headline), "{}", describe(&output));
    assert!(text.contains("| boom"), "{}", describe(&output));
    let stderr = crate::support::stderr(&output);
    assert!(
        stderr.contains("\\u{1b}[2J") && !stderr.contains('\u{1b}') && !text.contains('\u{1b}'),
        "the service's escape sequence reached the terminal raw: {}",
        describe(&output)
    );
    for (format, needle) in [
        ("json", "\"could_not_run\""),
        ("md", headline),
        ("junit", headline),
    ] {
        let report = campaign.gonogo(&["report", "1", "--format", format]);
        // Re-rendered, it exits as the run did: a tool failure, not a decision.
        assert_exit(&report, exit::FAILURE);
        let text = stdout(&report);
        assert!(
            text.contains(needle) && text.contains("boom"),
            "{format}: {}",
            describe(&report)
        );
    }
    assert_eq!(campaign.evidence(1).status, RunStatus::Aborted);
}

pub fn too_few_samples_is_inconclusive() {
    let body = body(20, "1s", "0s", &[("latency.p99", "<=", "1s")]);
    let campaign = Campaign::new(&[], &body);
    // 20 requests cannot support a p99 (default min_samples 1000).
    let output = campaign.run_expecting(exit::INCONCLUSIVE);
    assert!(
        stdout(&output).contains("INCONCLUSIVE"),
        "{}",
        describe(&output)
    );
}

pub fn interrupting_gonogo_leaves_an_aborted_run_and_no_service_behind() {
    let (campaign, marker, output) = stopped_run(
        "127.0.0",
        &["--latency", "1ms"],
        ("latency.p99", "<=", "1s"),
        |child| {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            )
            .unwrap();
            child.wait_with_output().unwrap()
        },
    );
    assert_exit(&output, exit::INTERRUPTED);
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
    let (campaign, marker, _) =
        stopped_run("127.0.1", &[], ("error_rate", "<=", "1%"), |mut child| {
            child.kill().unwrap();
            child.wait().unwrap()
        });
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

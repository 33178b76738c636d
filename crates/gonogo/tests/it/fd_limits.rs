//! File-descriptor limits known before the run: under a lowered `RLIMIT_NOFILE`
//! (`prlimit` from util-linux), a campaign whose connections need more descriptors
//! than the hard limit allows is refused by `check` and by `run` before the service
//! starts, naming the phase, the connections, the limits and what to do; one that fits
//! passes `check`, and runs, with the soft limit below what it needs, without a single
//! connect error: gonogo raised its soft limit to the hard one, and the margin it
//! keeps for itself was enough; the service started with the soft limit gonogo was
//! given, not the raised one.

use std::process::{Command, Output};

use crate::support::spec::{self, Spec, criterion, get};
use crate::support::{Campaign, assert_exit, assert_exit_in, describe, stderr, testbed};
use gonogo::exit;

/// The hard limit the tests set: 256, as in the issue, or more on a host whose cores
/// (a load runtime each) make gonogo's own margin larger.
fn hard_limit() -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    256.max(128 + 16 * cores)
}

/// `gonogo ARGS` in the campaign's directory under `prlimit --nofile=SOFT:HARD`.
fn gonogo_limited(campaign: &Campaign, soft: u64, hard: u64, args: &[&str]) -> Output {
    Command::new("prlimit")
        .arg(format!("--nofile={soft}:{hard}"))
        .arg(env!("CARGO_BIN_EXE_gonogo"))
        .args(args)
        .current_dir(campaign.dir.path())
        .output()
        .expect("prlimit (util-linux) runs")
}

/// A campaign whose service (the testbed, answering in 200 ms) leaves a file
/// `started` behind when it starts, and the soft descriptor limit it was started
/// with in `service-soft-limit`, with one closed-model phase `burst` of
/// `connections`.
fn campaign(connections: u64) -> Campaign {
    let command = [
        "sh",
        "-c",
        "touch started; ulimit -Sn > service-soft-limit; exec \"$0\" --listen \"127.0.0.1:$1\" --latency 200ms",
        &testbed().display().to_string(),
        "{port}",
    ]
    .map(String::from);
    let service = spec::service(
        &command,
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }",
        "SIGTERM",
        "3s",
    );
    let body = Spec::new()
        .with(get(""))
        .with(
            spec::phase("burst", "steady")
                .set("connections", connections as u32)
                .set("duration", "2s"),
        )
        .with(criterion("burst", "error_rate", "<=", "0%").set("min_samples", 1));
    Campaign::with_service(&service.to_string(), &body.to_string())
}

/// The `N` of "at most N" in a refusal's hint: the connections that fit.
fn connections_that_fit(refusal: &str) -> u64 {
    let after = refusal
        .split("at most ")
        .nth(1)
        .unwrap_or_else(|| panic!("no `at most N` in: {refusal}"));
    after
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

pub fn connections_beyond_the_hard_limit_are_refused_by_check_and_run_before_the_service_starts() {
    let hard = hard_limit();
    let asked = 1000.max(4 * hard);
    let campaign = campaign(asked);
    let check = gonogo_limited(&campaign, hard, hard, &["check", "campaign.toml"]);
    assert_exit(&check, exit::INVALID);
    let message = stderr(&check);
    let connections_line = std::fs::read_to_string(&campaign.spec)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("connections = "))
        .unwrap()
        + 1;
    for part in [
        format!("campaign.toml:{connections_line}:"),
        "phase[0].connections".to_string(),
        format!("phase `burst` asks for {asked} connections"),
        format!("the file-descriptor limit is {hard} (soft {hard}, hard {hard})"),
        "ulimit -n ".to_string(),
        "lower the phase's connections to at most ".to_string(),
    ] {
        assert!(
            message.contains(&part),
            "{part:?} missing: {}",
            describe(&check)
        );
    }

    // `run` refuses the same way, with the soft limit below the hard one: raised, it
    // is still too small. Nothing was started, nothing stored.
    let run = gonogo_limited(&campaign, 64, hard, &["run", "campaign.toml", "--quiet"]);
    assert_exit(&run, exit::INVALID);
    let message = stderr(&run);
    assert!(
        message.contains(&format!(
            "the soft limit 64 raised to the hard limit {hard}"
        )),
        "{}",
        describe(&run)
    );
    assert!(
        !campaign.dir.path().join("started").exists(),
        "the service was started"
    );
    assert!(!campaign.store_path().exists(), "a run was stored");
}

pub fn connections_within_the_hard_limit_pass_check_and_run_without_a_connect_error() {
    let hard = hard_limit();
    // As many connections as the refusal of too many says fit.
    let refused = gonogo_limited(&campaign(4 * hard), hard, hard, &["check", "campaign.toml"]);
    assert_exit(&refused, exit::INVALID);
    let fit = connections_that_fit(&stderr(&refused));
    assert!(
        fit >= hard / 2,
        "{fit} of {hard}: the margin is not that large"
    );

    let campaign = campaign(fit);
    let check = gonogo_limited(&campaign, 64, hard, &["check", "campaign.toml"]);
    assert_exit(&check, exit::GO);
    // A soft limit of 64 could not hold them: the run works only because gonogo raised
    // its own to the hard limit. The service starts with the 64 it was given, as it
    // would by hand, and raises its own (the testbed does, like the Go runtime).
    let run = gonogo_limited(&campaign, 64, hard, &["run", "campaign.toml", "--quiet"]);
    assert_exit_in(&run, &[exit::GO, exit::INCONCLUSIVE]);
    let service_soft = std::fs::read_to_string(campaign.dir.path().join("service-soft-limit"))
        .expect("the service wrote its limit");
    assert_eq!(service_soft.trim(), "64", "the service's soft limit");
    let evidence = campaign.evidence(1);
    assert_eq!(evidence.phases[0].connections, fit);
    let (mut ok, mut failed) = (0, 0);
    for interval in &evidence.intervals {
        let o = &interval.stats.outcomes;
        ok += o.ok;
        failed += o.connect_error + o.io_error + o.timeout + o.status_mismatch;
    }
    assert!(
        ok >= fit,
        "every connection sent at least one request: {ok}"
    );
    assert_eq!(failed, 0, "{}", describe(&run));
}

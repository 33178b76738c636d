//! Deadlines against a hostile service, and every planned request accounted for.
//!
//! A small server of our own (std threads on 127.0.0.1) answers each request in one
//! hostile way: an endless body (slow, and as fast as it can write), endless
//! `100 Continue` interim responses (slow, and fast), one byte per second, or
//! nothing at all on a connection it never closes. A campaign with a 1 s request
//! timeout against each must end in bounded time, every request's service time must
//! stay within the timeout plus 100 ms, the phase must end, and its JSON report must
//! account for every planned request: `planned = sent + not sent`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::spec::{Spec, Table, service, workload};
use crate::support::{Campaign, assert_exit_in, describe, stdout, wait_for_intervals};
use gonogo::exit;
use gonogo::model::{EventKind, RunEvidence, RunStatus};

/// How the server answers every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    /// A chunked body of one byte every 10 ms, without end.
    SlowBody,
    /// A body announced as 1 TB, written in 64 KiB blocks as fast as it goes.
    FastBody,
    /// `100 Continue` every 10 ms, never a final response.
    SlowInterim,
    /// `100 Continue` as fast as it goes, never a final response.
    FastInterim,
    /// A small valid response, one byte per second.
    BytePerSecond,
    /// Reads the request, answers nothing, never closes.
    Silent,
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The argument that makes this test binary the hostile server instead of running
/// tests: `it __hostile-server KIND ADDRESS` (see `main`).
pub const SERVER_ARG: &str = "__hostile-server";

impl Hostile {
    const ALL: [(Hostile, &'static str); 6] = [
        (Hostile::SlowBody, "slow-body"),
        (Hostile::FastBody, "fast-body"),
        (Hostile::SlowInterim, "slow-interim"),
        (Hostile::FastInterim, "fast-interim"),
        (Hostile::BytePerSecond, "byte-per-second"),
        (Hostile::Silent, "silent"),
    ];

    fn name(self) -> &'static str {
        Hostile::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("", |(_, name)| name)
    }
}

/// Be the hostile server `kind` on `address` (`it __hostile-server KIND ADDRESS`),
/// one thread per connection, until killed: the campaign's service, so that its
/// port is the service's like any other's.
pub fn serve_forever(kind: &str, address: &str) {
    let kind = Hostile::ALL
        .iter()
        .find(|(_, name)| *name == kind)
        .map(|(kind, _)| *kind)
        .unwrap_or_else(|| panic!("no hostile server {kind:?}"));
    let listener = TcpListener::bind(address).unwrap();
    for socket in listener.incoming().flatten() {
        thread::spawn(move || serve(kind, socket));
    }
}

/// Wait for a request's blank line; false when the client went away first (the
/// readiness probe connects and closes).
fn read_request(socket: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

fn serve(kind: Hostile, mut socket: TcpStream) {
    // A write the client never reads, or a read it never answers, gives up in the end.
    let _ = socket.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = socket.set_read_timeout(Some(Duration::from_secs(30)));
    if !read_request(&mut socket) {
        return;
    }
    let tick = Duration::from_millis(10);
    // Repeat `bytes` (with `pause` after each write) until the client or we stop.
    let repeat = |socket: &mut TcpStream, bytes: &[u8], pause: Duration| {
        while socket.write_all(bytes).is_ok() {
            thread::sleep(pause);
        }
    };
    match kind {
        Hostile::SlowBody => {
            let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head).is_ok() {
                repeat(&mut socket, b"1\r\nx\r\n", tick);
            }
        }
        Hostile::FastBody => {
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n";
            if socket.write_all(head).is_ok() {
                repeat(&mut socket, &[b'x'; 64 * 1024], Duration::ZERO);
            }
        }
        Hostile::SlowInterim => repeat(&mut socket, CONTINUE, tick),
        Hostile::FastInterim => repeat(&mut socket, &CONTINUE.repeat(2000), Duration::ZERO),
        Hostile::BytePerSecond => {
            let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            for byte in response {
                if socket.write_all(&[*byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_secs(1));
            }
        }
        Hostile::Silent => {
            // Until the client closes (a read of 0) or an error; never a byte back.
            let mut buf = [0u8; 1024];
            while matches!(socket.read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}

/// The request timeout, the phase's load time and drain, and its rate.
const TIMEOUT: Duration = Duration::from_secs(1);
const RATE: u32 = 20;
const DURATION_S: u64 = 3;
const DRAIN_S: u64 = 1;
/// What a request may take beyond its timeout.
const OVERRUN: Duration = Duration::from_millis(100);

/// A campaign against the hostile server `kind` (this binary, as the service) for
/// `duration_s`.
fn campaign(kind: Hostile, duration_s: u64) -> Campaign {
    let command = [
        std::env::current_exe().unwrap().display().to_string(),
        SERVER_ARG.to_string(),
        kind.name().to_string(),
        "127.0.0.1:{port}".to_string(),
    ];
    let service = service(
        &command,
        "{ tcp = \"127.0.0.1:{port}\", timeout = \"10s\" }",
        "SIGKILL",
        "1s",
    );
    let body = Spec::new()
        .with(workload(
            "get",
            "http",
            &format!(
                "{{ method = \"GET\", url = \"http://127.0.0.1:{{port}}/x\", expect_status = [200], timeout = \"{}ms\" }}",
                TIMEOUT.as_millis()
            ),
        ))
        .with(
            Table::new("[[phase]]")
                .set("name", "hostile")
                .set("kind", "steady")
                .set("workload", "get")
                .set("rate", RATE)
                .set("max_connections", 4)
                .set("duration", format!("{duration_s}s"))
                .set("drain", format!("{DRAIN_S}s")),
        );
    Campaign::with_service(&service.to_string(), &body.to_string())
}

/// Run `campaign`, killing it (and failing) if it is not done within `limit`.
fn run_bounded(campaign: &Campaign, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    let mut child = campaign.spawn();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the run did not end within {limit:?}: {}",
                describe(&output)
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The stored run's phase `hostile` ended, no later than its deadline (load time
/// plus drain) and a margin, and no request's service time ran past the timeout
/// by more than [`OVERRUN`].
fn assert_deadlines_held(evidence: &RunEvidence) {
    let phase = evidence
        .phases
        .iter()
        .find(|p| p.name == "hostile")
        .expect("the phase is stored");
    let ended = phase.ended.expect("the phase ended");
    let deadline = Duration::from_secs(DURATION_S + DRAIN_S);
    assert!(
        ended.saturating_sub(phase.started) < deadline + Duration::from_millis(500),
        "the phase took {:?}",
        ended.saturating_sub(phase.started)
    );
    assert!(
        evidence
            .events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::PhaseEnded { phase, .. } if phase == "hostile")),
        "a phase_ended event"
    );
    for interval in &evidence.intervals {
        let slowest = Duration::from_micros(interval.stats.service.max());
        assert!(
            slowest <= TIMEOUT + OVERRUN,
            "interval {}: a request took {slowest:?} with a {TIMEOUT:?} timeout",
            interval.index
        );
    }
}

/// The JSON report of run 1: its only phase summary.
fn phase_json(campaign: &Campaign) -> serde_json::Value {
    let output = campaign.gonogo(&["report", "1", "--format", "json"]);
    assert_exit_in(&output, &[exit::GO, exit::NO_GO, exit::INCONCLUSIVE]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    report["phases"][0].clone()
}

/// Every planned request is sent or not sent, and every sent one has an outcome.
fn assert_accounted(phase: &serde_json::Value) -> (u64, u64, u64) {
    let plan = &phase["plan"];
    let count = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{plan}"));
    let (planned, sent) = (count(&plan["planned"]), count(&plan["sent"]));
    let not_sent = &plan["not_sent"];
    let (total, busy, stopped) = (
        count(&not_sent["total"]),
        count(&not_sent["busy"]),
        count(&not_sent["stopped"]),
    );
    assert_eq!(planned, sent + total, "planned = sent + not sent: {plan}");
    assert_eq!(total, busy + stopped, "{plan}");
    (planned, sent, busy)
}

/// A campaign against `kind`, with the checks every kind shares; its phase summary.
fn against(kind: Hostile) -> serde_json::Value {
    let _serial = crate::support::serial();
    let campaign = campaign(kind, DURATION_S);
    let output = run_bounded(&campaign, Duration::from_secs(DURATION_S + DRAIN_S + 30));
    assert_exit_in(&output, &[exit::GO, exit::NO_GO, exit::INCONCLUSIVE]);
    let evidence = campaign.evidence(1);
    assert_eq!(
        evidence.status,
        RunStatus::Completed,
        "{}",
        describe(&output)
    );
    assert_deadlines_held(&evidence);
    let phase = phase_json(&campaign);
    let (planned, sent, _) = assert_accounted(&phase);
    assert_eq!(planned, u64::from(RATE) * DURATION_S, "{phase}");
    assert_eq!(
        phase["requests"].as_u64(),
        Some(sent),
        "every sent request has an outcome (no warm-up): {phase}"
    );
    let service_max = phase["service"]["max"].as_f64().unwrap();
    assert!(service_max <= (TIMEOUT + OVERRUN).as_secs_f64(), "{phase}");
    phase
}

/// A kind that holds every connection until the timeout: all its requests time out,
/// and with 4 connections held 1 s each most of the plan is never sent.
fn holds_until_the_timeout(kind: Hostile) -> serde_json::Value {
    let phase = against(kind);
    let (_, sent, busy) = assert_accounted(&phase);
    assert_eq!(phase["errors"]["timeout"].as_u64(), Some(sent), "{phase}");
    // 4 connections × (3 s + 1 s drain) / 1 s per request: about 16 of 60 sent.
    assert!(
        sent <= 4 * (DURATION_S + DRAIN_S) + 4,
        "no connection was free sooner: {phase}"
    );
    assert!(busy > 0, "{phase}");
    phase
}

pub fn a_slow_endless_body_is_cut_at_the_timeout() {
    let phase = holds_until_the_timeout(Hostile::SlowBody);
    assert!(phase["bytes_received"].as_u64().unwrap() > 0, "{phase}");
}

pub fn a_fast_endless_body_is_cut_at_the_timeout_and_its_bytes_counted() {
    let phase = holds_until_the_timeout(Hostile::FastBody);
    // A body read at loopback speed for a second is far more than one buffer.
    assert!(
        phase["bytes_received"].as_u64().unwrap() > 1 << 20,
        "{phase}"
    );
}

pub fn one_byte_per_second_is_cut_at_the_timeout() {
    holds_until_the_timeout(Hostile::BytePerSecond);
}

pub fn a_silent_server_that_never_closes_is_cut_at_the_timeout() {
    holds_until_the_timeout(Hostile::Silent);
}

/// Endless interim responses are a typed error after a bounded number of them,
/// long before the timeout: an I/O error each, the connection then closed; only
/// those still in flight at the phase's deadline (one per connection at most) are
/// cut short there as timeouts.
fn interim_is_refused(kind: Hostile) -> serde_json::Value {
    let phase = against(kind);
    let (_, sent, _) = assert_accounted(&phase);
    let errors = &phase["errors"];
    let (io_error, timeout) = (errors["io_error"].as_u64(), errors["timeout"].as_u64());
    assert!(io_error.unwrap() > 0, "{phase}");
    assert_eq!(io_error.unwrap() + timeout.unwrap(), sent, "{phase}");
    assert!(timeout.unwrap() <= 4, "{phase}");
    assert!(
        phase["service"]["p50"].as_f64().unwrap() < TIMEOUT.as_secs_f64() / 2.0,
        "ended by the limit, not the timeout: {phase}"
    );
    phase
}

pub fn slow_endless_interim_responses_are_refused_before_the_timeout() {
    interim_is_refused(Hostile::SlowInterim);
}

pub fn fast_endless_interim_responses_are_refused_at_once() {
    let phase = interim_is_refused(Hostile::FastInterim);
    // Each attempt ends at once, so the plan is sent on time.
    let (planned, sent, _) = assert_accounted(&phase);
    assert!(sent * 10 >= planned * 9, "{phase}");
}

/// Interrupted while every connection is held: the requests due until the stop and
/// never sent are counted as stopped, and planned = sent + not sent still holds.
pub fn a_run_stopped_while_every_connection_is_held_counts_the_unsent_as_stopped() {
    let _serial = crate::support::serial();
    let campaign = campaign(Hostile::Silent, 30);
    let child = campaign.spawn();
    wait_for_intervals(&campaign, Duration::from_secs(20));
    thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped promptly: {:?}",
        started.elapsed()
    );
    assert_exit_in(&output, &[exit::INTERRUPTED]);
    let phase = phase_json(&campaign);
    let (planned, _, busy) = assert_accounted(&phase);
    let stopped = phase["plan"]["not_sent"]["stopped"].as_u64().unwrap();
    assert_eq!(busy, 0, "the phase never reached its deadline: {phase}");
    assert!(stopped > 0, "{phase}");
    assert!(
        planned < u64::from(RATE) * 30,
        "the plan ends where the run stopped: {phase}"
    );
}

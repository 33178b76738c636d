//! The real binary's lifecycle: durability across a kill, slow start, graceful shutdown and
//! startup failures.

mod common;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{BIN, Testbed};

#[test]
fn data_file_survives_sigkill_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kv.data");
    let path = path.to_str().expect("utf-8 path");

    let tb = Testbed::start(&["--data-file", path]);
    assert_eq!(tb.request("PUT", "/kv/kept", b"durable value").status, 201);
    assert_eq!(tb.request("PUT", "/kv/dropped", b"x").status, 201);
    assert_eq!(tb.request("DELETE", "/kv/dropped", b"").status, 204);
    tb.kill();

    let tb = Testbed::start(&["--data-file", path]);
    let got = tb.request("GET", "/kv/kept", b"");
    assert_eq!(
        (got.status, got.body.as_slice()),
        (200, &b"durable value"[..])
    );
    assert_eq!(tb.request("GET", "/kv/dropped", b"").status, 404);
    assert_eq!(tb.stat("keys"), 1);
}

#[test]
fn memory_mode_loses_writes_on_sigkill() {
    let tb = Testbed::start(&[]);
    assert_eq!(tb.request("PUT", "/kv/volatile", b"gone").status, 201);
    tb.kill();
    let tb = Testbed::start(&[]);
    assert_eq!(tb.request("GET", "/kv/volatile", b"").status, 404);
}

#[test]
fn slow_start_answers_503_then_200() {
    let tb = Testbed::start(&["--slow-start", "700ms"]);
    assert_eq!(tb.request("GET", "/health", b"").status, 503);
    assert_eq!(tb.request("GET", "/kv/x", b"").status, 503);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = tb.request("GET", "/health", b"").status;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "still starting after 5 s");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tb.stat("requests"), 0, "503s are not /kv requests served");
}

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_zero() {
    let mut tb = Testbed::start(&["--latency", "500ms"]);
    let addr = tb.addr;
    let in_flight = thread::spawn(move || common::request(addr, "GET", "/kv/x", b""));
    thread::sleep(Duration::from_millis(150));
    tb.signal("TERM");
    let response = in_flight.join().expect("client thread").expect("answered");
    assert_eq!(response.status, 404, "the in-flight request is finished");
    let status = tb.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigint_exits_zero() {
    let mut tb = Testbed::start(&[]);
    tb.signal("INT");
    let status = tb.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

/// `testbed ARGS…` exits with `code` and says `why` on stderr.
fn refuses(args: &[&std::ffi::OsStr], code: i32, why: &str) {
    let output = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("run testbed");
    assert_eq!(output.status.code(), Some(code));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(why), "{stderr}");
}

#[test]
fn invalid_flags_exit_with_status_2_and_say_why() {
    refuses(&["--error-rate".as_ref(), "2".as_ref()], 2, "error rate");
}

#[test]
fn an_address_in_use_exits_with_status_1() {
    let tb = Testbed::start(&[]);
    let addr = tb.addr.to_string();
    refuses(&["--listen".as_ref(), addr.as_ref()], 1, "could not listen");
}

#[test]
fn a_foreign_data_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("not-ours.txt");
    std::fs::write(&path, "some other program's data\n").expect("write");
    refuses(
        &[
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--data-file".as_ref(),
            path.as_os_str(),
        ],
        1,
        "not a testbed data file",
    );
}

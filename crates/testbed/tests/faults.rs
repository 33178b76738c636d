//! The fault knobs of the real binary: errors, crash, leak, cache growth, latency and pause.

mod common;

use std::time::{Duration, Instant};

use common::Testbed;

/// `count` PUTs to fresh keys each answer `status`.
fn puts_answer(tb: &Testbed, count: usize, status: u16) {
    for i in 0..count {
        let response = tb.request("PUT", &format!("/kv/k{i}"), b"v");
        assert_eq!(response.status, status, "request {i}");
    }
}

#[test]
fn error_rate_one_answers_every_kv_request_with_500_but_not_health() {
    let tb = Testbed::start(&["--error-rate", "1.0"]);
    puts_answer(&tb, 20, 500);
    assert_eq!(tb.request("GET", "/health", b"").status, 200);
    assert_eq!(tb.stat("keys"), 0, "failed writes are not applied");
}

#[test]
fn error_rate_zero_answers_no_500() {
    let tb = Testbed::start(&["--error-rate", "0.0"]);
    puts_answer(&tb, 50, 201);
}

#[test]
fn crash_after_five_requests_exits_with_status_70() {
    let mut tb = Testbed::start(&["--crash-after", "5"]);
    puts_answer(&tb, 5, 201);
    let status = tb
        .wait_exit(Duration::from_secs(5))
        .expect("testbed exits after the fifth request");
    assert_eq!(status.code(), Some(70));
}

#[test]
fn leak_per_request_grows_rss_by_at_least_the_leaked_bytes() {
    const MIB: u64 = 1 << 20;
    let requests = 40;
    let tb = Testbed::start(&["--leak-per-request", "1MiB"]);
    tb.request("GET", "/kv/warmup", b"");
    let before = tb.rss_bytes();
    for _ in 0..requests {
        assert_eq!(tb.request("GET", "/kv/missing", b"").status, 404);
    }
    let grown = tb.rss_bytes().saturating_sub(before);
    assert!(
        grown >= requests * MIB,
        "RSS grew {grown} bytes, expected at least {}",
        requests * MIB
    );
    assert_eq!(tb.stat("leaked_bytes"), (requests + 1) * MIB);
}

#[test]
fn cache_growth_plateaus_after_the_fill_requests() {
    let tb = Testbed::start(&["--cache-bytes", "8MiB", "--cache-fill-requests", "4"]);
    tb.request("GET", "/kv/a", b"");
    tb.request("GET", "/kv/a", b"");
    assert_eq!(tb.stat("cache_bytes"), 4 << 20, "half filled after 2 of 4");
    let before = tb.rss_bytes();
    for _ in 0..10 {
        tb.request("GET", "/kv/a", b"");
    }
    assert_eq!(tb.stat("cache_bytes"), 8 << 20, "plateau at the total");
    let grown = tb.rss_bytes().saturating_sub(before);
    assert!(
        grown >= 4 << 20,
        "RSS grew {grown} bytes for the second half"
    );
}

#[test]
fn fixed_latency_delays_each_kv_request() {
    let tb = Testbed::start(&["--latency", "50ms"]);
    for _ in 0..3 {
        let start = Instant::now();
        assert_eq!(tb.request("GET", "/kv/x", b"").status, 404);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "took {took:?}");
    }
}

#[test]
fn pause_stalls_kv_requests_once_after_the_pause_point() {
    let pause = Duration::from_millis(400);
    let tb = Testbed::start(&["--pause-after", "2", "--pause-for", "400ms"]);
    tb.request("GET", "/kv/x", b"");
    tb.request("GET", "/kv/x", b"");
    let start = Instant::now();
    assert_eq!(tb.request("GET", "/kv/x", b"").status, 404);
    let stalled = start.elapsed();
    assert!(stalled >= pause, "third request took {stalled:?}");
    let start = Instant::now();
    tb.request("GET", "/kv/x", b"");
    assert!(start.elapsed() < pause, "the pause happens once");
}

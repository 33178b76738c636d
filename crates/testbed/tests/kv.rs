//! The key-value routes of the real binary: round trips, status codes, limits and bad input.

mod common;

use common::Testbed;

#[test]
fn put_then_get_returns_the_value_and_delete_removes_it() {
    let tb = Testbed::start(&[]);
    let value = b"hello\0world\r\n\xff";
    assert_eq!(tb.request("PUT", "/kv/greeting", value).status, 201);
    let got = tb.request("GET", "/kv/greeting", b"");
    assert_eq!(got.status, 200);
    assert_eq!(got.body, value);

    assert_eq!(tb.request("PUT", "/kv/greeting", b"v2").status, 204);
    assert_eq!(tb.request("GET", "/kv/greeting", b"").body, b"v2");

    assert_eq!(tb.request("DELETE", "/kv/greeting", b"").status, 204);
    assert_eq!(tb.request("GET", "/kv/greeting", b"").status, 404);
    assert_eq!(tb.request("DELETE", "/kv/greeting", b"").status, 404);
}

#[test]
fn percent_encoded_keys_are_distinct_keys() {
    let tb = Testbed::start(&[]);
    assert_eq!(tb.request("PUT", "/kv/a%20b", b"spaced").status, 201);
    assert_eq!(tb.request("GET", "/kv/a%20b", b"").body, b"spaced");
    assert_eq!(tb.request("GET", "/kv/a", b"").status, 404);
}

#[test]
fn health_and_stats_report_the_service_state() {
    let tb = Testbed::start(&[]);
    let health = tb.request("GET", "/health", b"");
    assert_eq!((health.status, health.text().trim()), (200, "ok"));
    tb.request("PUT", "/kv/a", b"1");
    tb.request("PUT", "/kv/b", b"2");
    tb.request("GET", "/kv/a", b"");
    assert_eq!(tb.stat("requests"), 3);
    assert_eq!(tb.stat("keys"), 2);
    assert_eq!(tb.stat("leaked_bytes"), 0);
    assert_eq!(tb.stat("cache_bytes"), 0);
}

#[test]
fn values_up_to_one_mib_are_accepted_and_larger_ones_get_413() {
    let tb = Testbed::start(&[]);
    let max = vec![7u8; 1 << 20];
    assert_eq!(tb.request("PUT", "/kv/big", &max).status, 201);
    assert_eq!(tb.request("GET", "/kv/big", b"").body.len(), 1 << 20);
    let too_big = vec![7u8; (1 << 20) + 1];
    assert_eq!(tb.request("PUT", "/kv/bigger", &too_big).status, 413);
    assert_eq!(tb.request("GET", "/kv/bigger", b"").status, 404);
}

#[test]
fn malformed_requests_get_4xx_and_the_server_keeps_serving() {
    let tb = Testbed::start(&[]);
    assert_eq!(tb.request("POST", "/kv/x", b"").status, 405);
    assert_eq!(tb.request("GET", "/nope", b"").status, 404);
    assert_eq!(tb.request("GET", "/kv/", b"").status, 404);
    assert_eq!(tb.request("GET", "/kv/%ff%fe", b"").status, 400);
    let garbage = tb.raw(b"THIS IS NOT HTTP\r\n\r\n").expect("an answer");
    assert_eq!(garbage.status, 400);
    let bad_length = tb
        .raw(b"PUT /kv/x HTTP/1.1\r\nHost: t\r\nContent-Length: nope\r\n\r\n")
        .expect("an answer");
    assert_eq!(bad_length.status, 400);
    assert_eq!(tb.request("GET", "/health", b"").status, 200);
}

//! The spec sections plan tests build on: the testbed as the service and one `get`
//! workload, a steady phase, a latency criterion, so that each test writes only what it
//! is about.

/// The testbed on port 8080, ready when its health check answers.
pub(super) const TESTBED_SERVICE: &str = r#"
[service]
command = ["testbed"]
port = 8080
ready = { http = "http://127.0.0.1:{port}/health" }
"#;

/// One workload, `get`, reading a key from the testbed.
pub(super) const GET_WORKLOAD: &str = r#"
[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}" }
"#;

/// `latency.p99 <= 50ms` over phase `baseline`.
pub(super) const BASELINE_P99_CRITERION: &str = r#"
[[criterion]]
phase = "baseline"
metric = "latency.p99"
op = "<="
value = "50ms"
"#;

/// A steady `[[phase]]` section: `name` at `rate` requests a second for `duration`.
pub(super) fn steady_phase(name: &str, rate: u32, duration: &str) -> String {
    format!(
        "\n[[phase]]\nname = \"{name}\"\nkind = \"steady\"\nrate = {rate}\nduration = \"{duration}\"\n"
    )
}

/// A spec of [`TESTBED_SERVICE`], [`GET_WORKLOAD`] and then `rest`.
pub(super) fn testbed_get_spec(rest: &str) -> String {
    [TESTBED_SERVICE, GET_WORKLOAD, rest].concat()
}

//! Spec → plan tests: a full example resolves to the expected plan, and each
//! class of mistake is reported at the right line with a useful message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    CriterionPlan, LoadModel, PhaseKind, PhasePlan, PortChoice, ReadyKind, Segment, Template,
};
use super::{from_str as plan_from_str, load};
use crate::model::{Metric, Op, Scope, Severity};
use crate::spec::SpecError;

pub(super) const FULL: &str = r#"name = "demo"

[settings]
interval = "500ms"
sample_interval = "250ms"

[service]
command = ["../target/release/testbed", "--listen", "127.0.0.1:{port}"]
port = "auto"
env = { RUST_LOG = "info", PORT = "{port}" }
cwd = "."
ready = { http = "http://127.0.0.1:{port}/health", timeout = "10s", interval = "100ms" }
stop = { signal = "TERM", grace = "5s" }
expected_rate = 500

[[workload]]
name = "get"
weight = 3
keys = 1000
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", headers = { accept = "*/*" }, expect_status = [200, 404], timeout = "5s" }

[[workload]]
name = "put"
http = { method = "PUT", url = "http://127.0.0.1:{port}/kv/{key}", body = "v-{seq}" }

[[phase]]
name = "baseline"
kind = "steady"
workload = ["get", "put"]
rate = 500
duration = "30s"
warmup = "5s"

[[phase]]
name = "closed"
kind = "steady"
workload = "get"
connections = 8
duration = "10s"

[[criterion]]
phase = "baseline"
workload = "get"
metric = "latency.p99"
op = "<="
value = "50ms"

[[criterion]]
phase = "baseline"
metric = "error_rate"
op = "<"
value = "0.1%"
severity = "advisory"
min_samples = 5000

[[criterion]]
phase = "closed"
metric = "rss.max"
op = "<="
value = "200MiB"

[[criterion]]
phase = "closed"
metric = "service.crashed"
op = "=="
value = false
"#;

pub(super) fn origin() -> PathBuf {
    PathBuf::from("examples/demo.toml")
}

/// Resolve `text`, expecting an error.
pub(super) fn error(text: &str) -> SpecError {
    match plan_from_str(&origin(), text) {
        Ok(plan) => panic!("expected an error, got a plan: {plan:#?}"),
        Err(error) => error,
    }
}

/// The error of `text`, checked to be in a field starting with `field` and to say
/// `fragment`.
pub(super) fn error_in(text: &str, field: &str, fragment: &str) -> SpecError {
    let err = error(text);
    assert!(err.field.starts_with(field), "{err}");
    assert!(err.message.contains(fragment), "{err}");
    err
}

/// `FULL` with `from` replaced by `to` (exactly once).
pub(super) fn full_with(from: &str, to: &str) -> String {
    assert_eq!(
        FULL.matches(from).count(),
        1,
        "`{from}` must occur once in FULL"
    );
    FULL.replacen(from, to, 1)
}

/// The 1-based line in `text` where `needle` first occurs.
/// The error of [`full_with`]`(from, to)`, checked to be at `field` on the line of
/// the first `marker`.
fn error_at(from: &str, to: &str, field: &str, marker: &str) -> SpecError {
    let text = full_with(from, to);
    let err = error(&text);
    assert_eq!(err.field, field);
    assert_eq!(err.line, line_of(&text, marker));
    err
}

fn line_of(text: &str, needle: &str) -> usize {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    text[..offset].matches('\n').count() + 1
}

fn lit(text: &str) -> Segment {
    Segment::Literal(text.to_string())
}

#[test]
fn full_example_resolves_to_the_expected_plan() {
    let plan = plan_from_str(&origin(), FULL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.name, "demo");
    assert_eq!(plan.settings.interval, Duration::from_millis(500));
    assert_eq!(plan.settings.sample_interval, Duration::from_millis(250));

    let service = &plan.service;
    assert_eq!(
        service.command[0],
        Template::literal("../target/release/testbed")
    );
    assert_eq!(
        service.command[2].segments,
        vec![lit("127.0.0.1:"), Segment::Port]
    );
    assert_eq!(service.port, PortChoice::Auto);
    assert_eq!(
        service.env,
        vec![
            (
                "PORT".to_string(),
                Template {
                    segments: vec![Segment::Port]
                }
            ),
            ("RUST_LOG".to_string(), Template::literal("info")),
        ]
    );
    assert_eq!(service.cwd, Some(PathBuf::from("examples/.")));
    assert_eq!(
        service.ready.kind,
        ReadyKind::Http {
            url: Template {
                segments: vec![lit("http://127.0.0.1:"), Segment::Port, lit("/health")]
            }
        }
    );
    assert_eq!(service.ready.timeout, Duration::from_secs(10));
    assert_eq!(service.ready.interval, Duration::from_millis(100));
    assert_eq!(
        service.stop.signal,
        nix::sys::signal::Signal::SIGTERM as i32
    );
    assert_eq!(service.stop.grace, Duration::from_secs(5));
    assert_eq!(service.expected_rate, Some(500.0));

    let [get, put] = &plan.workloads[..] else {
        panic!("two workloads expected: {:?}", plan.workloads)
    };
    assert_eq!(
        (get.name.as_str(), get.method.as_str(), get.weight, get.keys),
        ("get", "GET", 3, 1000)
    );
    assert_eq!(
        get.url.segments,
        vec![
            lit("http://127.0.0.1:"),
            Segment::Port,
            lit("/kv/"),
            Segment::Key
        ]
    );
    assert_eq!(
        get.headers,
        vec![("accept".to_string(), Template::literal("*/*"))]
    );
    assert_eq!(get.body, None);
    assert_eq!(get.expect_status, vec![200, 404]);
    assert_eq!(get.timeout, Duration::from_secs(5));
    assert_eq!(
        (put.method.as_str(), put.weight, put.keys),
        ("PUT", 1, 1000)
    );
    assert_eq!(
        put.body,
        Some(Template {
            segments: vec![lit("v-"), Segment::Seq]
        })
    );
    assert_eq!(put.expect_status, vec![200]);

    assert_eq!(
        plan.phases,
        vec![
            PhasePlan {
                name: "baseline".into(),
                kind: PhaseKind::Steady,
                workloads: vec![0, 1],
                model: LoadModel::Open {
                    rate: 500.0,
                    max_connections: 64
                },
                duration: Duration::from_secs(30),
                warmup: Duration::from_secs(5),
                drain: Duration::from_secs(2),
                leak: None,
                ramp: None,
                integrity: None,
                scaling: None,
                bad_input: None,
            },
            PhasePlan {
                name: "closed".into(),
                kind: PhaseKind::Steady,
                workloads: vec![0],
                model: LoadModel::Closed { connections: 8 },
                duration: Duration::from_secs(10),
                warmup: Duration::ZERO,
                drain: Duration::from_secs(2),
                leak: None,
                ramp: None,
                integrity: None,
                scaling: None,
                bad_input: None,
            },
        ]
    );

    assert_eq!(
        plan.criteria,
        vec![
            CriterionPlan {
                label: "baseline/get latency.p99 <= 50ms".into(),
                scope: Scope::Phase {
                    name: "baseline".into(),
                },
                phase: "baseline".into(),
                workload: Some("get".into()),
                metric: Metric::LatencyP99,
                op: Op::Le,
                threshold: 0.05,
                severity: Severity::Blocker,
                min_samples: 1000,
            },
            CriterionPlan {
                label: "baseline error_rate < 0.1%".into(),
                scope: Scope::Phase {
                    name: "baseline".into(),
                },
                phase: "baseline".into(),
                workload: None,
                metric: Metric::ErrorRate,
                op: Op::Lt,
                threshold: 0.001,
                severity: Severity::Advisory,
                min_samples: 5000,
            },
            CriterionPlan {
                label: "closed rss.max <= 200MiB".into(),
                scope: Scope::Phase {
                    name: "closed".into(),
                },
                phase: "closed".into(),
                workload: None,
                metric: Metric::RssMax,
                op: Op::Le,
                threshold: 200.0 * 1024.0 * 1024.0,
                severity: Severity::Blocker,
                min_samples: 3,
            },
            CriterionPlan {
                label: "closed service.crashed == false".into(),
                scope: Scope::Phase {
                    name: "closed".into(),
                },
                phase: "closed".into(),
                workload: None,
                metric: Metric::ServiceCrashed,
                op: Op::Eq,
                threshold: 0.0,
                severity: Severity::Blocker,
                min_samples: 1,
            },
        ]
    );
    assert!(plan.remote_targets().is_empty());
}

#[test]
fn minimal_spec_takes_defaults_and_the_file_stem_as_name() {
    let text = r#"
[service]
command = ["./server", "{port}"]
ready = { tcp = "127.0.0.1:{port}" }

[[workload]]
name = "root"
http = { url = "http://127.0.0.1:{port}/" }

[[phase]]
name = "p"
kind = "steady"
rate = 10
duration = "1s"
"#;
    let plan = plan_from_str(Path::new("specs/smoke.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.name, "smoke");
    assert_eq!(plan.settings, crate::plan::Settings::default());
    assert_eq!(plan.service.cwd, None);
    assert_eq!(plan.service.stop.grace, Duration::from_secs(5));
    assert_eq!(
        plan.service.stop.signal,
        nix::sys::signal::Signal::SIGTERM as i32
    );
    assert!(matches!(plan.service.ready.kind, ReadyKind::Tcp { .. }));
    assert_eq!(plan.workloads[0].method, "GET");
    assert_eq!(plan.phases[0].workloads, vec![0]);
    assert!(plan.criteria.is_empty());
}

#[test]
fn load_reads_the_file_and_names_it_when_missing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("campaign.toml");
    std::fs::write(&path, FULL).unwrap_or_else(|e| panic!("{e}"));
    let (plan, text) = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text, FULL);
    assert_eq!(plan.service.cwd, Some(dir.path().join(".")));

    let missing = dir.path().join("absent.toml");
    let err = load(&missing)
        .err()
        .unwrap_or_else(|| panic!("a missing file must fail"));
    assert_eq!(err.file, missing);
    assert_eq!(err.line, 0);
    assert!(
        err.message.starts_with("cannot read the spec file"),
        "{err}"
    );
}

#[test]
fn syntax_errors_point_at_the_line() {
    let text = full_with("\nrate = 500\n", "\nrate = = 500\n");
    let err = error(&text);
    assert_eq!(err.line, line_of(&text, "rate = = 500"), "{err}");
    assert_eq!(err.column, "rate = ".len() + 1, "{err}");
    assert_eq!(err.file, origin());
    assert!(err.message.starts_with("invalid TOML: "), "{err}");
    assert_eq!(err.field, "");
}

#[test]
fn unknown_fields_are_named_with_their_line_and_the_allowed_fields() {
    let text = full_with("warmup = \"5s\"\n", "warmpu = \"5s\"\n");
    let err = error(&text);
    assert_eq!(err.line, line_of(&text, "warmpu"));
    assert_eq!(err.column, 1);
    assert_eq!(err.field, "phase[0].warmpu");
    assert_eq!(err.message, "unknown field `warmpu`");
    let hint = err.hint.clone().unwrap_or_default();
    assert!(hint.contains("did you mean `warmup`?"), "{hint}");
    assert!(
        hint.contains("allowed fields here: name, kind, workload, rate"),
        "{hint}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "examples/demo.toml:{}:1: phase[0].warmpu: unknown field",
            err.line
        )),
        "{err}"
    );

    let inline = full_with("timeout = \"10s\",", "timout = \"10s\",");
    let err = error(&inline);
    assert_eq!(err.field, "service.ready.timout");
    assert_eq!(err.line, line_of(&inline, "timout"));
}

#[test]
fn missing_required_fields_are_named() {
    let text = full_with("duration = \"10s\"\n", "");
    let err = error(&text);
    assert_eq!(err.field, "phase[1].duration");
    assert_eq!(err.message, "missing required field `duration`");
    // Reported at the `[[phase]]` header of the second phase.
    assert_eq!(err.line, line_of(&text, "[[phase]]\nname = \"closed\""));

    let err = error("name = \"x\"\n");
    assert_eq!((err.field.as_str(), err.line), ("service", 0));
    assert_eq!(
        err.to_string(),
        "examples/demo.toml: service: missing required field `service`"
    );
}

#[test]
fn both_rate_and_connections_is_an_error() {
    let err = error_at(
        "connections = 8\n",
        "connections = 8\nrate = 100\n",
        "phase[1].connections",
        "connections = 8",
    );
    assert!(err.message.contains("not both"), "{err}");

    let neither = full_with("connections = 8\n", "");
    let err = error(&neither);
    assert_eq!(err.field, "phase[1]");
    assert!(err.message.contains("needs `rate`"), "{err}");
}

#[test]
fn unknown_metrics_list_the_known_ones() {
    let err = error_at(
        "metric = \"latency.p99\"",
        "metric = \"latancy.p99\"",
        "criterion[0].metric",
        "latancy.p99",
    );
    assert_eq!(err.message, "unknown metric `latancy.p99`");
    let hint = err.hint.unwrap_or_default();
    assert!(hint.starts_with("did you mean `latency.p99`?"), "{hint}");
    for metric in Metric::ALL {
        assert!(
            hint.contains(metric.name()),
            "{hint} lacks {}",
            metric.name()
        );
    }
}

#[test]
fn thresholds_must_fit_the_metric_unit() {
    let err = error_at(
        "value = \"50ms\"",
        "value = \"5%\"",
        "criterion[0].value",
        "\"5%\"",
    );
    assert!(
        err.message
            .starts_with("`5%` is not a duration (the unit of latency.p99)"),
        "{err}"
    );
    assert!(err.hint.unwrap_or_default().contains("\"50ms\""));

    for (from, to, fragment) in [
        ("value = \"0.1%\"", "value = \"50ms\"", "is not a ratio"),
        ("value = \"0.1%\"", "value = 2", "is not a ratio"),
        (
            "value = \"200MiB\"",
            "value = \"200 parsecs\"",
            "unknown unit `parsecs`",
        ),
        ("value = false", "value = 0", "is not a boolean"),
        ("value = \"50ms\"", "value = 0.05", "is not a duration"),
    ] {
        let err = error(&full_with(from, to));
        assert!(err.message.contains(fragment), "{to}: {err}");
        assert!(err.field.ends_with(".value"), "{to}: {err}");
    }
}

#[test]
fn unknown_workload_references_list_the_names() {
    let err = error_at(
        "workload = [\"get\", \"put\"]",
        "workload = [\"get\", \"pot\"]",
        "phase[0].workload",
        "\"pot\"",
    );
    assert_eq!(err.message, "unknown workload `pot`");
    assert_eq!(err.column, "workload = [\"get\", ".len() + 1);
    let hint = err.hint.unwrap_or_default();
    assert!(
        hint.contains("did you mean `put`?") && hint.contains("get, put"),
        "{hint}"
    );

    let text = full_with(
        "phase = \"closed\"\nmetric = \"rss.max\"",
        "phase = \"closed\"\nworkload = \"put\"\nmetric = \"latency.p50\"",
    );
    let err = error(&text);
    assert_eq!(err.field, "criterion[2].workload");
    assert_eq!(err.message, "phase `closed` does not run workload `put`");

    let text = full_with("workload = \"get\"\nconnections", "connections");
    let err = error(&text);
    assert_eq!(err.field, "phase[1].workload");
    assert!(err.hint.unwrap_or_default().contains("get, put"));

    let err = error(&full_with(
        "phase = \"closed\"\nmetric = \"rss.max\"",
        "phase = \"close\"\nmetric = \"rss.max\"",
    ));
    assert_eq!(err.message, "unknown phase `close`");
    assert!(
        err.hint
            .unwrap_or_default()
            .contains("did you mean `closed`?")
    );
}

#[test]
fn bad_placeholders_are_reported_with_the_allowed_ones() {
    let err = error_at(
        "/kv/{key}\", headers",
        "/kv/{id}\", headers",
        "workload[0].http.url",
        "{id}",
    );
    assert!(err.message.contains("unknown placeholder `{id}`"), "{err}");
    assert!(
        err.message.contains("{port}, {key}, {seq}, {random}"),
        "{err}"
    );

    let err = error(&full_with("\"--listen\"", "\"--id={seq}\""));
    assert_eq!(err.field, "service.command[1]");
    assert!(err.message.contains("only know {port}"), "{err}");
}

#[test]
fn duplicate_names_are_reported_at_the_second() {
    let err = error_at(
        "name = \"put\"",
        "name = \"get\"",
        "workload[1].name",
        "name = \"get\"\nhttp = { method = \"PUT\"",
    );
    assert_eq!(err.message, "duplicate workload name `get`");

    let text = full_with("name = \"closed\"", "name = \"baseline\"");
    let err = error(&text);
    assert_eq!(err.field, "phase[1].name");
    assert_eq!(err.message, "duplicate phase name `baseline`");
}

#[test]
fn other_semantic_errors_name_the_field_and_what_is_allowed() {
    for (from, to, field, fragment) in [
        (
            "kind = \"steady\"\nworkload = \"get\"",
            "kind = \"spike\"\nworkload = \"get\"",
            "phase[1].kind",
            "unknown phase kind `spike`",
        ),
        (
            "\nrate = 500",
            "\nrate = 0",
            "phase[0].rate",
            "greater than 0",
        ),
        (
            "duration = \"30s\"",
            "duration = \"30\"",
            "phase[0].duration",
            "has no unit",
        ),
        (
            "duration = \"30s\"",
            "duration = \"0s\"",
            "phase[0].duration",
            "longer than 0s",
        ),
        (
            "interval = \"500ms\"",
            "interval = \"5ms\"",
            "settings.interval",
            "at least 10ms",
        ),
        (
            "port = \"auto\"",
            "port = 70000",
            "service.port",
            "between 1 and 65535",
        ),
        (
            "port = \"auto\"",
            "port = \"any\"",
            "service.port",
            "\"auto\" or a port number",
        ),
        (
            "signal = \"TERM\"",
            "signal = \"SIGFOO\"",
            "service.stop.signal",
            "unknown signal",
        ),
        (
            "signal = \"TERM\"",
            "signal = \"STOP\"",
            "service.stop.signal",
            "does not stop a process",
        ),
        (
            "method = \"GET\"",
            "method = \"get\"",
            "workload[0].http.method",
            "not an http method",
        ),
        (
            "expect_status = [200, 404]",
            "expect_status = [200, 42]",
            "workload[0].http.expect_status[1]",
            "between 100 and 599",
        ),
        (
            "url = \"http://127.0.0.1:{port}/kv/{key}\", body",
            "url = \"https://127.0.0.1:{port}/kv\", body",
            "workload[1].http.url",
            "https is not supported yet",
        ),
        (
            "op = \"<=\"\nvalue = \"50ms\"",
            "op = \"=<\"\nvalue = \"50ms\"",
            "criterion[0].op",
            "unknown operator `=<`",
        ),
        (
            "severity = \"advisory\"",
            "severity = \"fatal\"",
            "criterion[1].severity",
            "unknown severity",
        ),
        (
            "min_samples = 5000",
            "min_samples = 0",
            "criterion[1].min_samples",
            "at least 1",
        ),
        (
            "weight = 3",
            "weight = 0",
            "workload[0].weight",
            "between 1",
        ),
        (
            "metric = \"rss.max\"",
            "metric = \"rss.max\"\nworkload = \"get\"",
            "criterion[2].workload",
            "whole service",
        ),
        (
            "command = [\"../target/release/testbed\", \"--listen\", \"127.0.0.1:{port}\"]",
            "command = []",
            "service.command",
            "the command is empty",
        ),
        (
            "expected_rate = 500",
            "expected_rate = -1",
            "service.expected_rate",
            "greater than 0",
        ),
        (
            "http = \"http://127.0.0.1:{port}/health\", ",
            "tcp = \"127.0.0.1\", ",
            "service.ready.tcp",
            "not a host:port",
        ),
        (
            "http = \"http://127.0.0.1:{port}/health\", ",
            "",
            "service.ready",
            "needs `http`",
        ),
        (
            "\nrate = 500",
            "\nrate = \"fast\"",
            "phase[0].rate",
            "expected a number",
        ),
    ] {
        let err = error(&full_with(from, to));
        assert_eq!(err.field, field, "{to}: {err}");
        assert!(err.message.contains(fragment), "{to}: {err}");
        assert!(err.line > 0, "{to}: {err}");
    }
}

#[test]
fn auto_port_must_reach_the_service_and_the_targets() {
    let err = error(
        &full_with("\"127.0.0.1:{port}\"]", "\"127.0.0.1:8080\"]")
            .replace("PORT = \"{port}\"", "PORT = \"1\""),
    );
    assert_eq!(err.field, "service.command");
    assert!(
        err.message
            .contains("neither the command nor env uses {port}"),
        "{err}"
    );

    let err = error(&full_with(
        "127.0.0.1:{port}/health",
        "127.0.0.1:9000/health",
    ));
    assert_eq!(err.field, "service.ready.http");
    assert!(err.message.contains("must use {port}"), "{err}");
}

#[test]
fn remote_targets_report_only_non_loopback_hosts() {
    let with_hosts = |get: &str, put: &str, probe: &str| {
        let text = FULL
            .replacen(
                "http://127.0.0.1:{port}/kv/{key}\", headers",
                &format!("http://{get}:{{port}}/kv/{{key}}\", headers"),
                1,
            )
            .replacen(
                "http://127.0.0.1:{port}/kv/{key}\", body",
                &format!("http://{put}:{{port}}/kv/{{key}}\", body"),
                1,
            )
            .replacen(
                "http://127.0.0.1:{port}/health",
                &format!("http://{probe}:{{port}}/health"),
                1,
            );
        plan_from_str(&origin(), &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .remote_targets()
    };
    assert!(with_hosts("127.0.0.2", "[::1]", "localhost").is_empty());
    assert_eq!(
        with_hosts("10.0.0.1", "example.com", "127.0.0.1"),
        vec!["10.0.0.1", "example.com"]
    );
    assert_eq!(
        with_hosts("10.0.0.1", "10.0.0.1", "10.0.0.1"),
        vec!["10.0.0.1"]
    );
    assert_eq!(
        with_hosts("127.0.0.1", "[::1]", "[2001:db8::1]"),
        vec!["[2001:db8::1]"]
    );
}

#[test]
fn default_min_samples_follow_the_documented_rule() {
    assert_eq!(Metric::LatencyP50.default_min_samples(), 20);
    assert_eq!(Metric::LatencyP90.default_min_samples(), 100);
    assert_eq!(Metric::LatencyP99.default_min_samples(), 1000);
    assert_eq!(Metric::LatencyP999.default_min_samples(), 10_000);
    assert_eq!(Metric::LagP99.default_min_samples(), 1000);
    assert_eq!(Metric::Throughput.default_min_samples(), 100);
    assert_eq!(Metric::ErrorRate.default_min_samples(), 100);
    assert_eq!(Metric::RssMax.default_min_samples(), 3);
    assert_eq!(Metric::ServiceCrashed.default_min_samples(), 1);
}

#[test]
fn garbage_never_panics_and_always_explains() {
    let mut inputs: Vec<String> = [
        "", "\0", "[", "]]]", "=", "name", "name = ", "[[phase]]", "[service]\ncommand = 3",
        "\u{feff}[service]", "a.b.c.d = 1", "[service]\nready = { http = 1 }",
        "[[workload]]\nhttp = []", "service = []", "phase = 1", "criterion = [1, 2]",
        "[service]\ncommand=[\"a\"]\nready={tcp=\"[::1\"}\n[[workload]]\nname=\"w\"\nhttp={url=\"http://[\"}",
        "\"\u{1F600}\" = \"\u{1F600}\"\n\u{1F600}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Every prefix of the full spec, cut at character boundaries.
    inputs.extend(
        FULL.char_indices()
            .step_by(7)
            .map(|(i, _)| FULL[..i].to_string()),
    );
    // The full spec with one byte mangled at many places.
    for i in (0..FULL.len()).step_by(11) {
        let mut bytes = FULL.as_bytes().to_vec();
        bytes[i] = b"{}[]\"=#\n"[i % 8];
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    for input in &inputs {
        if let Err(err) = plan_from_str(&origin(), input) {
            assert!(!err.message.is_empty(), "empty message for {input:?}");
            let lines = input.matches('\n').count() + 1;
            assert!(
                err.line <= lines,
                "line {} past the end of {input:?}",
                err.line
            );
        }
    }
}

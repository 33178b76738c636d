//! Spec → plan tests for the phase kinds beyond steady (soak, ramp), `[limits]`, and
//! the example specs shipped in `examples/`.

use std::path::Path;
use std::time::Duration;

use super::spec_tests::{FULL, error, error_in, full_with, origin};
use super::{LoadModel, PhaseKind};
use super::{from_str as plan_from_str, load};
use crate::model::Metric;

#[test]
fn soak_phases_take_a_leak_table_or_its_defaults() {
    use crate::plan::LeakPlan;
    let text = full_with(
        "kind = \"steady\"\nworkload = [\"get\", \"put\"]",
        "kind = \"soak\"\nworkload = [\"get\", \"put\"]\n\
         leak = { rss = \"2MiB/h\", fds = \"1/min\", horizon = \"12h\", window = \"30s\" }",
    ) + "\n[[criterion]]\nphase = \"baseline\"\nmetric = \"leak.rss.slope_upper\"\nop = \"<=\"\nvalue = \"1MiB/h\"\n";
    let plan = plan_from_str(&origin(), &text).expect("valid soak spec");
    let soak = &plan.phases[0];
    assert_eq!(soak.kind, PhaseKind::Soak);
    assert_eq!(
        soak.leak,
        Some(LeakPlan {
            rss_per_hour: 2.0 * 1024.0 * 1024.0,
            fds_per_hour: 60.0,
            threads_per_hour: 10.0,
            horizon: Duration::from_secs(12 * 3600),
            window: Duration::from_secs(30),
        })
    );
    assert_eq!(plan.phases[1].leak, None);
    let criterion = plan.criteria.last().expect("the leak criterion");
    assert_eq!(criterion.metric, Metric::LeakRssSlopeUpper);
    assert_eq!(criterion.threshold, 1024.0 * 1024.0);
    assert_eq!(criterion.min_samples, 10);

    let defaults = full_with(
        "kind = \"steady\"\nworkload = [\"get\", \"put\"]",
        "kind = \"soak\"\nworkload = [\"get\", \"put\"]",
    );
    let plan = plan_from_str(&origin(), &defaults).expect("valid soak spec");
    assert_eq!(plan.phases[0].leak, Some(LeakPlan::default()));
}

#[test]
fn leak_settings_and_metrics_belong_to_soak_phases() {
    let soak = "kind = \"soak\"\nworkload = [\"get\", \"put\"]";
    let steady = "kind = \"steady\"\nworkload = [\"get\", \"put\"]";
    // FULL with its first phase's kind and workloads written as `kind` (`soak` or
    // `steady` above), followed by `leak = { <settings> }`.
    let leak_on =
        |kind: &str, settings: &str| full_with(steady, &format!("{kind}\nleak = {{ {settings} }}"));
    for (text, field, fragment) in [
        (
            leak_on(steady, "rss = \"1MiB/h\""),
            "phase[0].leak",
            "only to soak phases",
        ),
        (
            leak_on(soak, "rss = \"1MiB\""),
            "phase[0].leak.rss",
            "has no unit",
        ),
        (
            leak_on(soak, "fds = \"3/week\""),
            "phase[0].leak.fds",
            "unknown unit `/week`",
        ),
        (
            leak_on(soak, "window = \"0s\""),
            "phase[0].leak.window",
            "longer than 0s",
        ),
        (
            FULL.to_string()
                + "\n[[criterion]]\nphase = \"closed\"\nmetric = \"leak.rss.detected\"\nop = \"==\"\nvalue = false\n",
            "criterion[",
            "measured only in soak phases",
        ),
    ] {
        let err = error_in(&text, field, fragment);
        assert!(err.line > 0, "{err}");
    }
}

#[test]
fn every_example_spec_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} example specs found");
}

/// `FULL` with its first phase turned into a ramp with `fields`, keeping the load
/// criteria on that phase.
fn ramp_with_load_criteria(fields: &str) -> String {
    full_with(
        "kind = \"steady\"\nworkload = [\"get\", \"put\"]\nrate = 500\n",
        &format!("kind = \"ramp\"\nworkload = [\"get\", \"put\"]\n{fields}\n"),
    )
}

/// `FULL` with its first phase turned into a ramp with `fields`; the criteria that
/// read its load move to the closed phase.
fn ramp_spec(fields: &str) -> String {
    ramp_with_load_criteria(fields).replace(
        "[[criterion]]\nphase = \"baseline\"",
        "[[criterion]]\nphase = \"closed\"",
    )
}

#[test]
fn ramp_phases_resolve_their_steps_and_stop_conditions() {
    use crate::plan::{RampGrowth, RampPlan, StopConditions};
    let text = ramp_spec(
        "start_rate = 100\nfactor = 2.0\nmax_rate = 800\nmax_connections = 16\n\
         stop_when = { latency_p99 = \"50ms\", shortfall = \"10%\" }",
    ) + "\n[[criterion]]\nphase = \"baseline\"\nmetric = \"headroom\"\nop = \">=\"\nvalue = 3\n";
    let plan = plan_from_str(&origin(), &text).expect("valid ramp spec");
    let ramp = &plan.phases[0];
    assert_eq!(ramp.kind, PhaseKind::Ramp);
    assert_eq!(
        ramp.model,
        LoadModel::Open {
            rate: 100.0,
            max_connections: 16
        }
    );
    let steps = ramp.ramp.expect("a ramp plan");
    assert_eq!(
        steps,
        RampPlan {
            start_rate: 100.0,
            growth: RampGrowth::Factor(2.0),
            max_rate: 800.0,
            stop: StopConditions {
                latency_p99: Some(Duration::from_millis(50)),
                error_rate: Some(0.01),
                shortfall: 0.1,
                lag_p99: None,
            },
        }
    );
    assert_eq!(steps.rates(), vec![100.0, 200.0, 400.0, 800.0]);
    let headroom = plan.criteria.last().expect("headroom criterion");
    assert_eq!(
        (headroom.metric, headroom.threshold),
        (Metric::Headroom, 3.0)
    );
    assert_eq!(headroom.min_samples, 1);
}

#[test]
fn ramp_mistakes_name_the_field() {
    let good = "start_rate = 100\nstep = 100\nmax_rate = 500";
    let no_expected = FULL.replace("expected_rate = 500\n", "");
    for (text, field, fragment) in [
        (
            ramp_spec("step = 100\nmax_rate = 500"),
            "phase[0].start_rate",
            "needs `start_rate`",
        ),
        (
            ramp_spec("start_rate = 100\nmax_rate = 500"),
            "phase[0].step",
            "needs `step`",
        ),
        (
            ramp_spec("start_rate = 100\nstep = 10\nfactor = 2.0\nmax_rate = 500"),
            "phase[0].factor",
            "not both",
        ),
        (
            ramp_spec("start_rate = 100\nfactor = 1.0\nmax_rate = 500"),
            "phase[0].factor",
            "greater than 1",
        ),
        (
            ramp_spec("start_rate = 100\nstep = 100\nmax_rate = 50"),
            "phase[0].max_rate",
            "below start_rate",
        ),
        (
            ramp_spec("start_rate = 1\nstep = 0.001\nmax_rate = 500"),
            "phase[0]",
            "1000 steps or more",
        ),
        (
            ramp_spec(&format!("{good}\nrate = 100")),
            "phase[0].rate",
            "not `rate`",
        ),
        (
            ramp_spec(&format!("{good}\nstop_when = {{ shortfall = \"100%\" }}")),
            "phase[0].stop_when.shortfall",
            "below 100%",
        ),
        (
            full_with("connections = 8\n", "connections = 8\nmax_rate = 100\n"),
            "phase[1].max_rate",
            "only to ramp phases",
        ),
        (
            ramp_with_load_criteria(good),
            "criterion[0].metric",
            "not measured on a ramp as a whole",
        ),
        (
            no_expected
                + "\n[[criterion]]\nphase = \"closed\"\nmetric = \"capacity.last_good_rate\"\nop = \">=\"\nvalue = 1\n",
            "criterion[",
            "only in ramp phases",
        ),
    ] {
        error_in(&text, field, fragment);
    }
    let headroom = ramp_spec(good).replace("expected_rate = 500\n", "")
        + "\n[[criterion]]\nphase = \"baseline\"\nmetric = \"headroom\"\nop = \">=\"\nvalue = 3\n";
    let err = error(&headroom);
    assert!(err.message.contains("no service.expected_rate"), "{err}");
}

#[test]
fn limits_resolve_with_units_and_defaults() {
    use crate::plan::{ErrorRateLimit, Limits};
    let text = format!(
        "{FULL}\n[limits]\nhost_memory_floor = \"512MiB\"\nservice_rss_ceiling = \"2GiB\"\nerror_rate = \"50%\"\n"
    );
    let plan = plan_from_str(&origin(), &text).expect("valid limits");
    assert_eq!(
        plan.limits,
        Limits {
            host_memory_floor: Some(512 << 20),
            service_rss_ceiling: Some(2 << 30),
            error_rate: Some(ErrorRateLimit {
                ratio: 0.5,
                window: Duration::from_secs(5),
            }),
        }
    );
    let plan = plan_from_str(&origin(), FULL).expect("valid spec");
    assert_eq!(plan.limits, Limits::default());
    let err = error(&format!("{FULL}\n[limits]\nerror_window = \"10s\"\n"));
    assert_eq!(err.field, "limits.error_window");
    assert!(err.message.contains("needs `error_rate`"), "{err}");
    let err = error(&format!(
        "{FULL}\n[limits]\nservice_rss_ceiling = \"lots\"\n"
    ));
    assert_eq!(err.field, "limits.service_rss_ceiling");
}

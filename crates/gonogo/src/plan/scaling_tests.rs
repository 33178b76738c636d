//! Spec → plan tests for scaling phases: sizes, the two loaders, and the metrics
//! that only scaling phases measure.

use super::from_str as plan_from_str;
use super::spec_tests::{error, error_in, full_with, origin};
use super::{LoadModel, Loader, PhaseKind, ScalingPlan};
use crate::model::Metric;

const CLOSED: &str = "kind = \"steady\"\nworkload = \"get\"\nconnections = 8";

/// `FULL` with its `closed` phase turned into a scaling phase with `fields`.
fn scaling_spec(fields: &str) -> String {
    full_with(
        CLOSED,
        &format!("kind = \"scaling\"\nworkload = \"get\"\nconnections = 8\n{fields}"),
    )
}

const CRITERION: &str = "\n[[criterion]]\nphase = \"closed\"\nmetric = \"scaling.latency_p99.exponent_upper\"\nop = \"<=\"\nvalue = 1.1\n";

#[test]
fn scaling_phases_resolve_their_sizes_and_loader() {
    let text =
        scaling_spec("sizes = [500, 1000, 2000]\nload = \"put\"\nload_connections = 4") + CRITERION;
    let plan = plan_from_str(&origin(), &text).expect("valid scaling spec");
    let phase = &plan.phases[1];
    assert_eq!(phase.kind, PhaseKind::Scaling);
    assert_eq!(phase.model, LoadModel::Closed { connections: 8 });
    assert_eq!(
        phase.scaling,
        Some(ScalingPlan {
            sizes: vec![500, 1000, 2000],
            loader: Loader::Workload {
                workload: 1,
                connections: 4
            },
        })
    );
    let criterion = plan.criteria.last().expect("the scaling criterion");
    assert_eq!(criterion.metric, Metric::ScalingLatencyP99ExponentUpper);
    assert_eq!(criterion.threshold, 1.1);
    assert_eq!(criterion.min_samples, 3);

    let setup = scaling_spec("sizes = [1, 2, 3]\nsetup = [\"sh\", \"-c\", \"seed {n}\"]");
    let plan = plan_from_str(&origin(), &setup).expect("valid scaling spec");
    assert_eq!(
        plan.phases[1].scaling.as_ref().map(|s| &s.loader),
        Some(&Loader::Setup {
            command: vec!["sh".into(), "-c".into(), "seed {n}".into()]
        })
    );
    let defaults = scaling_spec("sizes = [1, 2, 3]\nload = \"put\"");
    let plan = plan_from_str(&origin(), &defaults).expect("valid scaling spec");
    assert!(matches!(
        plan.phases[1].scaling.as_ref().map(|s| &s.loader),
        Some(Loader::Workload { connections: 8, .. })
    ));
}

#[test]
fn scaling_mistakes_name_the_field() {
    let steady = "kind = \"steady\"\nworkload = \"get\"\nconnections = 8";
    for (text, field, fragment) in [
        (
            scaling_spec("load = \"put\""),
            "phase[1].sizes",
            "needs `sizes`",
        ),
        (
            scaling_spec("sizes = [1000, 4000]\nload = \"put\""),
            "phase[1].sizes",
            "between 3 and 100 sizes, not 2",
        ),
        (
            scaling_spec("sizes = [1000, 4000, 4000]\nload = \"put\""),
            "phase[1].sizes[2]",
            "increase strictly",
        ),
        (
            scaling_spec("sizes = [0, 4000, 8000]\nload = \"put\""),
            "phase[1].sizes[0]",
            "at least 1",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]"),
            "phase[1].load",
            "needs a loader",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]\nload = \"pt\""),
            "phase[1].load",
            "unknown workload `pt`",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]\nload = \"put\"\nsetup = [\"true\"]"),
            "phase[1].setup",
            "not both",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]\nsetup = []"),
            "phase[1].setup",
            "empty",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]\nsetup = [\"true\"]\nload_connections = 2"),
            "phase[1].load_connections",
            "only to a `load` workload",
        ),
        (
            full_with(CLOSED, &format!("{steady}\nsizes = [1, 2, 3]")),
            "phase[1].sizes",
            "only to scaling phases",
        ),
        (
            full_with(CLOSED, steady) + CRITERION,
            "criterion[",
            "measured only in scaling phases",
        ),
        (
            scaling_spec("sizes = [1, 2, 3]\nload = \"put\"")
                + "\n[[criterion]]\nphase = \"closed\"\nmetric = \"latency.p99\"\nop = \"<=\"\nvalue = \"5ms\"\n",
            "criterion[",
            "not measured on a scaling phase as a whole",
        ),
    ] {
        error_in(&text, field, fragment);
    }
}

#[test]
fn exponent_thresholds_may_be_negative_or_written_as_text() {
    let base = scaling_spec("sizes = [1, 2, 3]\nload = \"put\"");
    for (value, expected) in [("-0.5", -0.5), ("1", 1.0), ("\"1.25\"", 1.25)] {
        let text = format!(
            "{base}\n[[criterion]]\nphase = \"closed\"\nmetric = \"scaling.throughput.exponent_lower\"\nop = \">=\"\nvalue = {value}\n"
        );
        let plan = plan_from_str(&origin(), &text).expect("valid threshold");
        assert_eq!(plan.criteria.last().map(|c| c.threshold), Some(expected));
    }
    let text = format!(
        "{base}\n[[criterion]]\nphase = \"closed\"\nmetric = \"scaling.rss.exponent\"\nop = \"<=\"\nvalue = \"fast\"\n"
    );
    assert!(error(&text).message.contains("is not an exponent"));
}

//! Criterion scopes: `phase`, `scope = "run"`, `compare` and `external`, and the
//! errors for bad combinations.

use super::from_str as plan_from_str;
use super::spec_tests::{error, full_with, origin};
use crate::model::Scope;

const CRASHED: &str = "[[criterion]]\nphase = \"closed\"\nmetric = \"service.crashed\"";

fn criterion(scope: &str, metric: &str) -> String {
    full_with(
        CRASHED,
        &format!("[[criterion]]\n{scope}\nmetric = \"{metric}\""),
    )
}

#[test]
fn each_scope_resolves_and_labels_its_criterion() {
    let cases = [
        ("scope = \"run\"", "service.crashed", Scope::Run, "run"),
        (
            "compare = { baseline = \"baseline\", candidate = \"closed\" }",
            "service.crashed",
            Scope::Pair {
                baseline: "baseline".into(),
                candidate: "closed".into(),
            },
            "baseline vs closed",
        ),
        (
            "external = \"junit\"",
            "service.crashed",
            Scope::External {
                name: "junit".into(),
            },
            "external junit",
        ),
    ];
    for (written, metric, scope, label) in cases {
        let plan = plan_from_str(&origin(), &criterion(written, metric)).unwrap();
        let c = plan.criteria.last().unwrap();
        assert_eq!(c.scope, scope, "{written}");
        assert_eq!(c.phase, label);
        assert!(
            c.label.starts_with(&format!("{label} service.crashed")),
            "{}",
            c.label
        );
    }
}

#[test]
fn bad_scopes_are_errors_at_their_field() {
    let text = criterion("phase = \"closed\"\nscope = \"run\"", "service.crashed");
    let err = error(&text);
    assert!(err.field.ends_with(".scope"), "{err}");
    assert!(err.message.contains("both `phase` and `scope`"), "{err}");
    assert!(err.line > 0 && err.column > 0);

    let err = error(&criterion(
        "compare = { baseline = \"baseline\", candidate = \"nope\" }",
        "service.crashed",
    ));
    assert!(err.field.ends_with(".compare.candidate"), "{err}");
    assert!(err.message.contains("nope"), "{err}");

    let err = error(&criterion("scope = \"everything\"", "service.crashed"));
    assert!(err.message.contains("unknown scope `everything`"), "{err}");

    let err = error(&criterion("scope = \"run\"", "latency.p99"));
    assert!(
        err.message.contains("not judged over the whole run"),
        "{err}"
    );

    let err = error(&criterion("", "service.crashed"));
    assert!(err.message.contains("must name what it judges"), "{err}");
}

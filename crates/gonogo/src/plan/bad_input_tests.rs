//! Spec → plan tests for bad-input phases: the `bad_input` table, its defaults, and
//! the rules of where it may appear.

use std::time::Duration;

use super::spec_tests::{error_in, origin};
use super::test_spec::testbed_get_spec;
use super::{Confine, PhaseKind, from_str as plan_from_str};
use crate::model::{BadInputMetric, CaseFamily, Metric};

fn phase(fields: &str) -> String {
    testbed_get_spec(&format!(
        "\n[[phase]]\nname = \"hostile\"\nkind = \"bad_input\"\nduration = \"30s\"\n{fields}\n"
    ))
}

#[test]
fn a_bad_input_phase_takes_its_table_or_the_defaults() {
    let plan = plan_from_str(&origin(), &phase("connections = 2")).expect("valid");
    let bad = plan.phases[0].bad_input.as_ref().expect("a bad_input plan");
    assert_eq!(plan.phases[0].kind, PhaseKind::BadInput);
    assert_eq!(bad.target, "/{case}");
    assert_eq!(bad.families, CaseFamily::ALL.to_vec());
    assert_eq!(bad.timeout, Duration::from_secs(2));
    assert_eq!(bad.reject, None);

    let text = phase(
        "connections = 2\nbad_input = { target = \"/files/{case}\", families = [\"slow\"], \
         timeout = \"1s\", reject = [400], secrets = [\"API_KEY\"], post_check = [\"true\"], \
         confine = { allowed = [\"{dir}/data\"], watch = [\"{dir}\"] }, rss_growth = 0.25 }",
    ) + "\n[[criterion]]\nphase = \"hostile\"\nmetric = \"bad_input.traversal\"\nop = \"==\"\nvalue = 0\n";
    let plan = plan_from_str(&origin(), &text).expect("valid");
    let bad = plan.phases[0].bad_input.as_ref().unwrap();
    assert_eq!(bad.target, "/files/{case}");
    assert_eq!(bad.families, vec![CaseFamily::Slow]);
    assert_eq!(bad.reject, Some(vec![400]));
    assert_eq!(
        bad.confine,
        Some(Confine {
            allowed: vec!["{dir}/data".into()],
            watch: vec!["{dir}".into()]
        })
    );
    assert_eq!(bad.rss_growth, 0.25);
    let criterion = plan.criteria.last().unwrap();
    assert_eq!(
        criterion.metric,
        Metric::BadInput(BadInputMetric::Traversal)
    );
    assert_eq!(criterion.min_samples, 1);
}

#[test]
fn bad_input_settings_are_checked_where_they_are_written() {
    for (text, field, fragment) in [
        (
            phase("rate = 10"),
            "phase[0].rate",
            "at most `connections` sockets",
        ),
        (
            phase("connections = 1\nbad_input = { target = \"/files/\" }"),
            "phase[0].bad_input.target",
            "contain `{case}`",
        ),
        (
            phase("connections = 1\nbad_input = { families = [\"nope\"] }"),
            "phase[0].bad_input.families[0]",
            "unknown case family `nope`",
        ),
        (
            phase("connections = 1\nbad_input = { reject = [99] }"),
            "phase[0].bad_input.reject[0]",
            "",
        ),
        (
            phase("connections = 1\nbad_input = { post_check = [] }"),
            "phase[0].bad_input.post_check",
            "empty",
        ),
        (
            testbed_get_spec(
                "\n[[phase]]\nname = \"s\"\nkind = \"steady\"\nrate = 1\nduration = \"1s\"\nbad_input = {}\n",
            ),
            "phase[0].bad_input",
            "only to bad_input phases",
        ),
    ] {
        error_in(&text, field, fragment);
    }
}

#[test]
fn bad_input_metrics_belong_to_bad_input_phases() {
    let text = testbed_get_spec(
        "\n[[phase]]\nname = \"baseline\"\nkind = \"steady\"\nrate = 1\nduration = \"1s\"\n\
         \n[[criterion]]\nphase = \"baseline\"\nmetric = \"bad_input.findings\"\nop = \"==\"\nvalue = 0\n",
    );
    error_in(&text, "criterion[0]", "bad_input");
}

#[test]
fn faults_are_refused_on_a_bad_input_phase() {
    let text = phase("connections = 1")
        + "\n[[fault]]\nphase = \"hostile\"\nkind = \"kill\"\nat = \"1s\"\n";
    error_in(&text, "fault[0].phase", "is a bad_input phase");
}

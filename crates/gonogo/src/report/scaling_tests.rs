//! Report tests of scaling phases: the section in every format, the log–log chart,
//! and the JSON shape against the committed schema.

use super::*;
use crate::evaluate::evaluate;
use crate::evaluate::fixtures::{criterion, scaling_run};
use crate::model::{Metric, Op, RunEvidence};
use crate::verdict::decide;

const SIZES: [u64; 4] = [500, 1000, 2000, 4000];

/// Latency 2 µs per item, RSS 10 MiB plus 1 KiB per item.
fn linear_run() -> RunEvidence {
    scaling_run(&SIZES, |n| n * 2, |n| (10 << 20) + n * 1024)
}

fn model(evidence: &RunEvidence) -> ReportModel {
    let criteria = [criterion(
        "grow",
        Metric::ScalingLatencyP99ExponentUpper,
        Op::Le,
        "1.2",
        1.2,
    )];
    let findings = evaluate(&criteria, evidence);
    ReportModel::build(evidence, &findings, &decide(&findings))
}

#[test]
fn the_model_has_each_step_and_each_exponent() {
    let model = model(&linear_run());
    let [summary] = model.scaling.as_slice() else {
        panic!("one scaling phase: {:#?}", model.scaling);
    };
    let sizes: Vec<u64> = summary.steps.iter().map(|s| s.size).collect();
    assert_eq!(sizes, SIZES);
    let p99 = &summary.fits[1];
    assert_eq!(p99.quantity, "latency_p99");
    assert!((p99.exponent.unwrap() - 1.0).abs() < 0.01, "{p99:?}");
    assert_eq!(p99.classification, "linear");
    assert_eq!(p99.points, 4);
    assert_eq!(summary.doubt, None);
    assert!(model.findings[0].explanation.contains("linear"));
}

#[test]
fn terminal_scaling() {
    let text = render(&model(&linear_run()), Format::Terminal);
    assert!(text.contains("Scaling grow (4 steps)"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn markdown_scaling() {
    let text = render(&model(&linear_run()), Format::Markdown);
    assert!(text.contains("### Scaling grow"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn html_draws_a_log_log_chart_per_quantity() {
    let html = render(&model(&linear_run()), Format::Html);
    assert!(html.contains("<h2>Scaling grow</h2>"));
    assert_eq!(html.matches("<figure class=\"loglog\">").count(), 4);
    // A point per step and quantity, a fitted line and an interval fan per quantity.
    assert_eq!(html.matches("<circle ").count(), 16);
    assert_eq!(html.matches("<title>fit: exponent").count(), 4);
    assert_eq!(html.matches("<polygon ").count(), 4);
    assert!(
        html.contains("exponent 1.00, 95% interval ["),
        "caption with the interval"
    );
    assert!(!html.contains("NaN"), "no NaN reaches the markup");
}

#[test]
fn without_a_fit_the_report_says_why_and_draws_only_points() {
    let evidence = scaling_run(&SIZES[..2], |n| n, |_| 1 << 20);
    let model = model(&evidence);
    let summary = &model.scaling[0];
    assert!(
        summary
            .fits
            .iter()
            .all(|f| f.exponent.is_none() && f.classification == "undetermined")
    );
    let text = render(&model, Format::Terminal);
    assert!(
        text.contains("No exponent: scaling phase grow measured 2 steps"),
        "{text}"
    );
    let html = render(&model, Format::Html);
    assert_eq!(html.matches("<polygon ").count(), 0);
    assert!(html.contains("no fit: the points alone are drawn"));
}

#[test]
fn scaling_json_validates_against_the_committed_schema() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("committed schema"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let json: serde_json::Value =
        serde_json::from_str(&render(&model(&linear_run()), Format::Json)).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["scaling"][0]["fits"][3]["quantity"], "rss");
    let mut wrong = json.clone();
    wrong["scaling"][0]["steps"][0]["size"] = serde_json::json!("many");
    assert!(!validator.is_valid(&wrong));
}

#[test]
fn the_terminal_scaling_report_fits_100_columns() {
    let text = render(&model(&linear_run()), Format::Terminal);
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "a line of {widest} characters:\n{text}");
}

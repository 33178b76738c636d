//! Snapshot tests of the renderers on the synthetic GO and NO-GO runs, and the
//! JSON schema tests: the committed schema is the generated one, and real rendered
//! JSON validates against it.

use std::path::PathBuf;

use super::*;
use crate::evaluate::evaluate;
use crate::evaluate::fixtures::{go_run, nogo_run};
use crate::model::RunEvidence;
use crate::plan::CriterionPlan;
use crate::verdict::decide;

fn model_of((evidence, criteria): (RunEvidence, Vec<CriterionPlan>)) -> ReportModel {
    let findings = evaluate(&criteria, &evidence);
    let verdict = decide(&findings);
    ReportModel::build(&evidence, &findings, &verdict)
}

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/report.schema.json")
}

fn schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&json_schema()).expect("a schema serialises to JSON");
    text.push('\n');
    text
}

#[test]
fn terminal_go() {
    let text = render(&model_of(go_run()), Format::Terminal);
    assert!(
        text.starts_with("GO  demo (run 7)\n"),
        "verdict first:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn terminal_nogo() {
    let text = render(&model_of(nogo_run()), Format::Terminal);
    assert!(
        text.starts_with("NO-GO  demo (run 8)\n"),
        "verdict first:\n{text}"
    );
    insta::assert_snapshot!(text);
}

/// A snapshot test each: `name` renders `run` (a fixture) as `format`, and the
/// text is insta's snapshot `name`.
macro_rules! snapshot_tests {
    ($($name:ident: $run:ident as $format:ident;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(render(&model_of($run()), Format::$format));
        }
    )*};
}

snapshot_tests! {
    markdown_go: go_run as Markdown;
    markdown_nogo: nogo_run as Markdown;
    json_go: go_run as Json;
    json_nogo: nogo_run as Json;
    html_go: go_run as Html;
    html_nogo: nogo_run as Html;
    junit_go: go_run as Junit;
    junit_nogo: nogo_run as Junit;
}

/// Parse JUnit XML into (suite, [(case, failure message, skipped message)]).
type Cases = Vec<(String, Option<String>, Option<String>)>;
fn parse_junit(xml: &str) -> Vec<(String, Cases)> {
    let doc = roxmltree::Document::parse(xml).expect("JUnit output is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    root.children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|suite| {
            let cases = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .map(|case| {
                    let child = |tag: &str| {
                        case.children()
                            .find(|n| n.has_tag_name(tag))
                            .map(|n| n.attribute("message").unwrap_or_default().to_string())
                    };
                    (
                        case.attribute("name").unwrap().to_string(),
                        child("failure"),
                        child("skipped"),
                    )
                })
                .collect();
            (suite.attribute("name").unwrap().to_string(), cases)
        })
        .collect()
}

#[test]
fn junit_has_one_suite_per_phase_and_one_case_per_finding() {
    let model = model_of(nogo_run());
    let xml = render(&model, Format::Junit);
    let suites = parse_junit(&xml);
    let cases: usize = suites.iter().map(|(_, c)| c.len()).sum();
    assert_eq!(cases, model.findings.len());
    for (suite, cases) in &suites {
        for (name, failure, skipped) in cases {
            let finding = model
                .findings
                .iter()
                .find(|f| text::criterion(f) == *name)
                .expect("each case is a finding");
            let phase = if finding.phase.is_empty() {
                "run"
            } else {
                &finding.phase
            };
            assert_eq!(suite, phase);
            match finding.outcome {
                model::OutcomeLabel::Pass => assert!(failure.is_none() && skipped.is_none()),
                model::OutcomeLabel::Fail => {
                    assert_eq!(failure.as_deref(), Some(finding.explanation.as_str()))
                }
                model::OutcomeLabel::Inconclusive => {
                    assert_eq!(skipped.as_deref(), Some(finding.explanation.as_str()))
                }
            }
        }
    }
    assert!(
        suites
            .iter()
            .any(|(_, c)| c.iter().any(|(_, f, _)| f.is_some())),
        "a failure"
    );
}

const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>&'\u{1b}[2J";

/// The NO-GO run with hostile markup and a terminal escape in every name.
fn hostile_model() -> ReportModel {
    let (mut evidence, mut criteria) = nogo_run();
    let hostile = HOSTILE;
    evidence.manifest.name = hostile.to_string();
    evidence.manifest.host.hostname = hostile.to_string();
    for phase in &mut evidence.phases {
        phase.name = format!("{}{hostile}", phase.name);
    }
    for record in &mut evidence.intervals {
        record.phase = format!("{}{hostile}", record.phase);
    }
    for event in &mut evidence.events {
        use crate::model::EventKind;
        match &mut event.kind {
            EventKind::PhaseStarted { phase } | EventKind::PhaseEnded { phase, .. } => {
                phase.push_str(hostile)
            }
            EventKind::ServiceStarted { command, .. } => command.push(hostile.to_string()),
            _ => {}
        }
    }
    for criterion in &mut criteria {
        criterion.phase = format!("{}{hostile}", criterion.phase);
        criterion.label = format!("{}{hostile}", criterion.label);
    }
    model_of((evidence, criteria))
}

#[test]
fn hostile_names_are_escaped_in_html_and_junit() {
    let hostile = HOSTILE.trim_end_matches("\u{1b}[2J");
    let model = hostile_model();
    let html = render(&model, Format::Html);
    // Escaped text holds no raw `<`, so every `<…>` left is a tag the renderer wrote.
    for tag in html.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        let tag = tag.to_ascii_lowercase();
        assert!(
            !tag.starts_with("script") && !tag.starts_with("img") && !tag.contains("onerror"),
            "hostile markup became a tag: <{tag}>"
        );
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let xml = render(&model, Format::Junit);
    let suites = parse_junit(&xml);
    assert!(
        suites.iter().any(|(name, _)| name.contains(hostile)),
        "names survive a round trip"
    );
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let generated = schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1") {
        std::fs::write(schema_path(), &generated).expect("write schema/report.schema.json");
    }
    let committed = std::fs::read_to_string(schema_path())
        .expect("schema/report.schema.json exists; create it with UPDATE_SCHEMA=1");
    assert!(
        committed == generated,
        "schema/report.schema.json is stale; regenerate it with \
         UPDATE_SCHEMA=1 cargo test -p gonogo --lib report::tests"
    );
}

/// A validator of the committed schema.
pub(super) fn committed_validator() -> jsonschema::Validator {
    let committed = std::fs::read_to_string(schema_path()).expect("committed schema");
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// The JSON report of `model`, asserted valid against `validator`.
pub(super) fn valid_json(
    validator: &jsonschema::Validator,
    model: &ReportModel,
) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&render(model, Format::Json)).expect("report is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    json
}

#[test]
fn rendered_json_validates_against_the_committed_schema() {
    let validator = committed_validator();
    for model in [model_of(go_run()), model_of(nogo_run())] {
        let json = valid_json(&validator, &model);

        // The schema is not vacuous: a wrong decision and a missing field are rejected.
        let mut wrong = json.clone();
        wrong["verdict"]["decision"] = serde_json::json!("MAYBE");
        assert!(!validator.is_valid(&wrong));
        let mut missing = json.clone();
        missing["run"]
            .as_object_mut()
            .expect("run is an object")
            .remove("spec_hash");
        assert!(!validator.is_valid(&missing));
    }
}

#[test]
fn the_model_carries_the_format_version_and_wall_clock_times() {
    let model = model_of(nogo_run());
    assert_eq!(model.format_version, "1.8");
    assert_eq!(model.run.started_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(
        model.run.ended_at.as_deref(),
        Some("2023-11-14T22:13:47.000Z")
    );
    assert_eq!(model.run.duration_seconds, Some(27.0));
    assert_eq!(model.verdict.decision, model::DecisionLabel::NoGo);
    // baseline × {get, put}, stress × get.
    let rows: Vec<(&str, &str)> = model
        .phases
        .iter()
        .map(|p| (p.phase.as_str(), p.workload.as_str()))
        .collect();
    assert_eq!(
        rows,
        [("baseline", "get"), ("baseline", "put"), ("stress", "get")]
    );
    let stress = &model.phases[2];
    assert_eq!(stress.requests, 10_000);
    assert_eq!(stress.errors.connect_error, 5_000);
    assert_eq!(stress.errors.io_error, 500);
    assert_eq!(stress.planned_rate, Some(1000.0));
    assert_eq!(model.resources[1].samples, 4);
}

#[test]
fn formats_parse_from_their_names() {
    for format in Format::ALL {
        assert_eq!(Format::parse(format.name()), Some(format));
    }
    assert_eq!(Format::parse("md"), Some(Format::Markdown));
    assert_eq!(Format::parse(" JSON "), Some(Format::Json));
    assert_eq!(Format::parse("HTML"), Some(Format::Html));
    assert_eq!(Format::parse("xml"), Some(Format::Junit));
    assert_eq!(Format::parse("pdf"), None);
}

#[test]
fn redaction_removes_run_varying_values_from_a_rendered_report() {
    let text = render(&model_of(nogo_run()), Format::Terminal);
    let redacted = redact::redact_with_hosts(&text, &["ci-runner"]);
    assert!(
        redacted.starts_with("NO-GO  demo (run [id])\n"),
        "{redacted}"
    );
    for gone in [
        "2023-11-14T",
        "ci-runner",
        "pid 4242",
        "port 38211",
        "20.500 s",
    ] {
        assert!(text.contains(gone), "fixture shows {gone}");
        assert!(!redacted.contains(gone), "{gone} still in:\n{redacted}");
    }
    assert!(redacted.contains("[timestamp]") && redacted.contains("[duration]"));
}

#[test]
fn estimated_values_show_their_confidence_interval_in_every_format() {
    use crate::model::ConfidenceInterval;
    use crate::units::Unit;
    let (evidence, criteria) = go_run();
    let mut findings = evaluate(&criteria, &evidence);
    let finding = &mut findings[0];
    finding.unit = Unit::BytesPerHour;
    finding.observed = Some(2.0 * 1024.0 * 1024.0);
    finding.interval = Some(ConfidenceInterval {
        lower: 1024.0 * 1024.0,
        upper: 3.0 * 1024.0 * 1024.0,
        confidence: 0.95,
    });
    let verdict = decide(&findings);
    let model = ReportModel::build(&evidence, &findings, &verdict);
    let row = &model.findings[0];
    let interval = row
        .interval
        .as_ref()
        .expect("the interval reaches the model");
    assert_eq!(interval.text, "[1.00 MiB/h, 3.00 MiB/h]");
    let expected = "2.00 MiB/h, 95% CI [1.00 MiB/h, 3.00 MiB/h]";
    for format in [Format::Terminal, Format::Markdown] {
        let text = render(&model, format);
        assert!(text.contains(expected), "{format:?}:\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(&model, Format::Json)).expect("JSON");
    assert_eq!(
        json["findings"][0]["interval"]["upper"],
        3.0 * 1024.0 * 1024.0
    );
    assert!(json["findings"][1]["interval"].is_null());
}

fn analysis_model() -> ReportModel {
    let (evidence, plan) = super::analysis_fixture::analysis_run();
    let findings = crate::evaluate::evaluate_plan(&plan, &evidence);
    let verdict = decide(&findings);
    ReportModel::build(&evidence, &findings, &verdict)
}

#[test]
fn markdown_analyses() {
    insta::assert_snapshot!(render(&analysis_model(), Format::Markdown));
}

#[test]
fn terminal_analyses() {
    let out = render(&analysis_model(), Format::Terminal);
    assert!(
        out.contains("\nAnalyses\n  - Capacity steps of ramp"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn html_analyses() {
    insta::assert_snapshot!(render(&analysis_model(), Format::Html));
}

#[test]
fn a_ramp_soak_and_fault_run_gets_its_analysis_charts_and_findings_link_to_them() {
    let model = analysis_model();
    assert_eq!(model.capacity.len(), 1);
    let capacity = &model.capacity[0];
    assert_eq!(
        (
            capacity.last_good.as_deref(),
            capacity.stopped_at.as_deref()
        ),
        (Some("ramp#2"), Some("ramp#3"))
    );
    assert!(
        capacity.stopped_because.contains("latency p99"),
        "{capacity:#?}"
    );
    assert_eq!(model.soak.len(), 1);
    let fit = model.soak[0]
        .fit
        .as_ref()
        .expect("a fit over 60 s of samples");
    assert!(fit.detected && fit.lower_per_hour > 0.0, "{fit:?}");
    assert_eq!(model.recovery.len(), 2);
    assert!(model.recovery[0].recovered && !model.recovery[1].recovered);
    assert_eq!(model.timeline.faults.len(), 2);
    let links: Vec<Option<&str>> = model.findings[..3]
        .iter()
        .map(|f| f.chart.as_deref())
        .collect();
    assert_eq!(
        links,
        [
            Some("capacity-ramp"),
            Some("soak-soak-rss"),
            Some("recovery")
        ]
    );
    // The figures the charts show are the findings' figures.
    assert_eq!(model.findings[0].observed, Some(200.0));
    let worst = model.recovery.iter().map(|r| r.seconds).fold(0.0, f64::max);
    assert_eq!(model.findings[2].observed, Some(worst));

    let html = render(&model, Format::Html);
    for id in [
        "chart-capacity-ramp",
        "chart-soak-soak-rss",
        "chart-recovery",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "a finding links to {id}"
        );
    }
    assert!(html.contains("class=\"fault\""), "fault windows are shaded");
    assert!(html.contains("not recovered"));
    // The JSON of the analyses validates against the committed schema.
    let json: serde_json::Value = serde_json::from_str(&render(&model, Format::Json)).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&json),
        "{:?}",
        validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn hostile_names_reach_the_terminal_printable() {
    let text = render(&hostile_model(), Format::Terminal);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("\\u{1b}[2J"), "{text}");
}

#[test]
fn every_terminal_report_fits_100_columns() {
    let models = [
        ("go", model_of(go_run())),
        ("nogo", model_of(nogo_run())),
        ("analyses", analysis_model()),
        ("hostile", hostile_model()),
    ];
    for (name, model) in models {
        let text = render(&model, Format::Terminal);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{name}: a line of {} characters:\n{line}",
                line.chars().count()
            );
        }
    }
}

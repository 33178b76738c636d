//! The bad-input section against hostile answers: case names, bytes sent, answers
//! and escaped paths full of markup and control bytes make no markup in Markdown or
//! HTML, and keep every Markdown table row whole.

use std::time::Duration;

use super::safety_tests::audit::{self, HOSTILE, hostile};
use super::*;
use crate::evaluate::evaluate;
use crate::evaluate::fixtures::nogo_run;
use crate::model::{
    BadInputCase, BadInputLedger, CaseFamily, CaseOutcome, Delivery, EscapedPath, PhaseRecord,
    PostConditions,
};
use crate::verdict::decide;

/// The NO-GO run with a bad-input phase whose every case failed with hostile text.
fn hostile_bad_input() -> ReportModel {
    let (mut evidence, criteria) = nogo_run();
    let name = hostile(3);
    let first = evidence.phases[0].clone();
    evidence.phases.push(PhaseRecord {
        name: name.clone(),
        kind: "bad_input".to_string(),
        ..first
    });
    let cases = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, text)| BadInputCase {
            name: hostile(i),
            family: CaseFamily::Traversal,
            delivery: Delivery::Whole,
            sent: format!("GET /{text} HTTP/1.1\r\n\r\n").into_bytes(),
            reject: vec![400],
            closed_ok: true,
            outcome: CaseOutcome::Status {
                status: 200,
                line: format!("HTTP/1.1 200 {text}"),
            },
            received: format!("HTTP/1.1 200 {text}\r\n\r\n{}", hostile(i)).into_bytes(),
            elapsed: Duration::from_millis(5),
            secrets_echoed: Vec::new(),
            probe_failed: None,
        })
        .collect();
    evidence.bad_input.push(BadInputLedger {
        phase: name,
        cases,
        post: PostConditions {
            escaped: vec![EscapedPath {
                path: hostile(7),
                change: "created".to_string(),
            }],
            not_ready: Some(hostile(9)),
            ..PostConditions::default()
        },
        peak_sockets: 1,
        connections: 1,
    });
    let findings = evaluate(&criteria, &evidence);
    ReportModel::build(&evidence, &findings, &decide(&findings))
}

#[test]
fn hostile_answers_make_no_markup_in_the_bad_input_section() {
    let model = hostile_bad_input();
    let section = &model.bad_input[0];
    assert_eq!(section.failures.len(), HOSTILE.len() + 2);
    let markdown = render(&model, Format::Markdown);
    assert!(markdown.contains("### Bad input"), "{markdown}");
    let problems = audit::markdown_problems(&markdown);
    assert!(problems.is_empty(), "{}\n\n{markdown}", problems.join("\n"));
    // Each failure is one row of the bad-input table (header + one per failure).
    let rows = audit::table_rows(&markdown);
    assert!(rows.contains(&(HOSTILE.len() + 3)), "{rows:?}\n{markdown}");
    let html = render(&model, Format::Html);
    let problems = audit::html_problems(&html);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(html.contains("<h2>Bad input</h2>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let terminal = render(&model, Format::Terminal);
    assert!(!terminal.contains('\u{1b}'), "{terminal}");
    let json = render(&model, Format::Json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["bad_input"][0]["failures"].as_array().unwrap().len(),
        HOSTILE.len() + 2
    );
}

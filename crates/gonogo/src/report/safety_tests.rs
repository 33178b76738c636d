//! The Markdown and HTML reports against hostile data: names from the spec, the
//! service's command line and the words of a failure (which carry what the service
//! answered) full of markup. Parsed back as a CommonMark/GFM renderer would, the
//! Markdown must produce no HTML, image, link or footnote but the template's own, keep
//! every table row whole and show each hostile string as the text it was; the HTML page
//! must keep every such string as text and its Content-Security-Policy.

#[path = "../../tests/it/support/report_audit.rs"]
#[allow(dead_code, reason = "shared with the `it` binary, which uses the rest")]
pub(super) mod audit;

use super::*;
use crate::evaluate::evaluate;
use crate::evaluate::fixtures::{event, nogo_run, scaling_run};
use crate::model::{EventKind, Metric, Op, RunEvidence, RunStatus};
use crate::plan::CriterionPlan;
use crate::verdict::decide;
use audit::{HOSTILE, as_text, hostile};

fn model_of(evidence: &RunEvidence, criteria: &[CriterionPlan]) -> ReportModel {
    let findings = evaluate(criteria, evidence);
    ReportModel::build(evidence, &findings, &decide(&findings))
}

/// `name`, a ramp or scaling step of it (`name#3`) or a criterion's label on it
/// (`name latency.p99 <= 50ms`), renamed to start with `to`.
fn renamed(name: &str, from: &str, to: &str) -> String {
    match name.strip_prefix(from) {
        Some(rest) if rest.is_empty() || rest.starts_with(['#', ' ']) => format!("{to}{rest}"),
        _ => name.to_string(),
    }
}

/// Rename phase `from` to `to` wherever the run and its criteria name it.
fn rename_phase(evidence: &mut RunEvidence, criteria: &mut [CriterionPlan], from: &str, to: &str) {
    for phase in &mut evidence.phases {
        phase.name = renamed(&phase.name, from, to);
        phase.parent = phase.parent.as_deref().map(|p| renamed(p, from, to));
    }
    for record in &mut evidence.intervals {
        record.phase = renamed(&record.phase, from, to);
    }
    for event in &mut evidence.events {
        if let EventKind::PhaseStarted { phase } | EventKind::PhaseEnded { phase, .. } =
            &mut event.kind
        {
            *phase = renamed(phase, from, to);
        }
    }
    for criterion in &mut criteria.iter_mut() {
        criterion.phase = renamed(&criterion.phase, from, to);
        criterion.label = renamed(&criterion.label, from, to);
        if let crate::model::Scope::Phase { name } = &mut criterion.scope {
            *name = renamed(name, from, to);
        }
    }
}

/// Every string of the run a user or the service could choose made hostile: the
/// campaign, host, spec path, phases, workloads, criteria, events and artifacts.
fn make_hostile(evidence: &mut RunEvidence, criteria: &mut [CriterionPlan]) {
    let manifest = &mut evidence.manifest;
    manifest.name = hostile(0);
    manifest.host.hostname = hostile(1);
    manifest.host.kernel = hostile(2);
    manifest.spec_path = hostile(3);
    manifest.tool_version = hostile(4);
    let phases: Vec<String> = evidence
        .phases
        .iter()
        .filter(|p| p.parent.is_none())
        .map(|p| p.name.clone())
        .collect();
    for (i, phase) in phases.iter().enumerate() {
        rename_phase(
            evidence,
            criteria,
            phase,
            &format!("{} {phase}", hostile(5 + i)),
        );
    }
    for record in &mut evidence.intervals {
        record.workload = format!("{} {}", hostile(8), record.workload);
        // An open-model account, so the "requests planned in" line carries the names.
        record.stats.not_sent = Some(crate::model::NotSent {
            waiting: 0,
            busy: 3,
            stopped: 0,
        });
    }
    for criterion in criteria.iter_mut() {
        criterion.workload = criterion
            .workload
            .as_ref()
            .map(|w| format!("{} {w}", hostile(8)));
    }
    evidence.events.push(event(
        0.1,
        EventKind::ServiceStarted {
            pid: 7,
            port: 8080,
            command: vec![hostile(9), hostile(10)],
        },
    ));
    for artifact in &mut evidence.artifacts {
        artifact.name = hostile(11);
        artifact.path = hostile(12);
    }
}

/// The NO-GO run (findings, phases, resources, a crash) made hostile.
fn hostile_nogo() -> ReportModel {
    let (mut evidence, mut criteria) = nogo_run();
    make_hostile(&mut evidence, &mut criteria);
    model_of(&evidence, &criteria)
}

/// A run that could not run: its probe read a hostile status line (the words of the
/// failure carry it) and the service's stderr said hostile things.
fn hostile_could_not_run() -> ReportModel {
    let (mut evidence, mut criteria) = nogo_run();
    make_hostile(&mut evidence, &mut criteria);
    evidence.status = RunStatus::Aborted;
    evidence.phases.clear();
    evidence.intervals.clear();
    evidence.samples.clear();
    let message = format!(
        "the service was not ready after 1s (GET http://127.0.0.1:8080/health: malformed \
         status line `HTTP/1.1 {}`); it was killed\nlast lines of its stderr:\n{}\n~~~\n```",
        hostile(13),
        hostile(14)
    );
    evidence.events = vec![event(1.0, EventKind::Failure { message })];
    model_of(&evidence, &criteria)
}

/// A scaling phase with a hostile name.
fn hostile_scaling() -> ReportModel {
    let mut evidence = scaling_run(&[500, 1000, 2000, 4000], |n| n * 2, |n| n * 1024);
    let mut criteria = vec![crate::evaluate::fixtures::criterion(
        "grow",
        Metric::ScalingLatencyP99ExponentUpper,
        Op::Le,
        "1.2",
        1.2,
    )];
    make_hostile(&mut evidence, &mut criteria);
    model_of(&evidence, &criteria)
}

fn hostile_models() -> [(&'static str, ReportModel); 3] {
    [
        ("nogo", hostile_nogo()),
        ("could not run", hostile_could_not_run()),
        ("scaling", hostile_scaling()),
    ]
}

#[test]
fn hostile_data_makes_no_html_image_or_link_in_the_markdown_report() {
    for (name, model) in hostile_models() {
        let markdown = render(&model, Format::Markdown);
        let problems = audit::markdown_problems(&markdown);
        assert!(
            problems.is_empty(),
            "{name}: {} problems:\n{}\n\n{markdown}",
            problems.len(),
            problems.join("\n")
        );
    }
}

#[test]
fn each_hostile_string_is_inert_at_the_start_of_every_kind_of_block() {
    use super::markdown_text::{cell, inline};
    for hostile in HOSTILE {
        let (text, inner) = (inline(hostile), cell(hostile));
        let markdown = format!(
            "## {text}\n\n{text}\n\n- {text}\n- **x** — {text}\n\n> {text}\n\n\
             <sub>{text}</sub>\n\n| a | b |\n|---|---|\n| {inner} | {inner} |\n\n[x] [ref]\n"
        );
        let problems = audit::markdown_problems(&markdown);
        assert!(
            problems.is_empty(),
            "{hostile:?}: {problems:#?}\n{markdown}"
        );
        let rendered = audit::rendered_text(&markdown);
        let want = as_text(hostile);
        assert_eq!(
            rendered.matches(&want).count(),
            8,
            "{hostile:?} reads as written in each place:\n{rendered}\n\n{markdown}"
        );
        assert_eq!(audit::table_rows(&markdown), [2], "{markdown}");
    }
}

#[test]
fn hostile_data_makes_no_html_image_or_link_in_a_markdown_comparison() {
    let (a, b) = (hostile_nogo(), hostile_scaling());
    let markdown = render_comparison(&a, &b, Format::Markdown).expect("Markdown compares");
    let problems = audit::markdown_problems(&markdown);
    assert!(problems.is_empty(), "{}\n\n{markdown}", problems.join("\n"));
    let text = audit::rendered_text(&markdown);
    for hostile in HOSTILE {
        assert!(text.contains(&as_text(hostile)), "{hostile:?}:\n{text}");
    }
}

#[test]
fn hostile_data_reads_as_the_text_it_was_in_the_markdown_report() {
    for (name, model) in hostile_models() {
        let markdown = render(&model, Format::Markdown);
        let text = audit::rendered_text(&markdown);
        for hostile in HOSTILE {
            let want = as_text(hostile);
            assert!(
                text.contains(&want),
                "{name}: {want:?} does not read as written:\n{text}\n\n{markdown}"
            );
        }
    }
}

#[test]
fn hostile_data_leaves_every_markdown_table_row_whole() {
    let model = hostile_nogo();
    let markdown = render(&model, Format::Markdown);
    // Findings (header + one row each), phases (header + one row per phase and
    // workload), resources (header + one row per phase).
    let rows = audit::table_rows(&markdown);
    assert_eq!(
        rows,
        [
            model.findings.len() + 1,
            model.phases.len() + 1,
            model.resources.len() + 1
        ],
        "{markdown}"
    );
}

#[test]
fn the_markdown_template_itself_passes_the_audit() {
    // The template's own HTML (`<sub>`, `<details>`) is allowed and nothing else, so a
    // report of ordinary names has no problem either: the audit is not too strict to mean
    // anything.
    let (evidence, criteria) = nogo_run();
    let markdown = render(&model_of(&evidence, &criteria), Format::Markdown);
    assert_eq!(audit::markdown_problems(&markdown), Vec::<String>::new());
    assert!(markdown.contains("<details>") && markdown.contains("<sub>"));
    let markdown = render(&analysis_model(), Format::Markdown);
    assert_eq!(audit::markdown_problems(&markdown), Vec::<String>::new());
    // And it does catch what it is for.
    let caught = audit::markdown_problems(
        "x <b>y</b> ![i](a.png) [l](b) www.e.com\n\n| a |\n|---|\n| b | c |\n",
    );
    // pulldown-cmark: `<b>`, `</b>`, the image, the link; comrak: the same and the
    // www autolink; the row of two cells under a header of one.
    assert_eq!(caught.len(), 4 + 5 + 1, "{caught:#?}");
}

#[test]
fn hostile_data_is_text_in_the_html_report_and_the_policy_stays() {
    for (name, model) in hostile_models() {
        let html = render(&model, Format::Html);
        let problems = audit::html_problems(&html);
        assert!(
            problems.is_empty(),
            "{name}: {} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        // The strings are there, as text.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{name}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{name}"
        );
        assert!(html.contains("[click](javascript:alert(1))"), "{name}");
    }
}

/// The run with a ramp, a soak and faults, whose page draws every analysis chart.
fn analysis_model() -> ReportModel {
    let (evidence, plan) = super::analysis_fixture::analysis_run();
    let findings = crate::evaluate::evaluate_plan(&plan, &evidence);
    ReportModel::build(&evidence, &findings, &decide(&findings))
}

#[test]
fn the_html_template_itself_passes_the_audit() {
    let (evidence, criteria) = nogo_run();
    let pages = [
        render(&model_of(&evidence, &criteria), Format::Html),
        render(&analysis_model(), Format::Html),
    ];
    for html in pages {
        assert_eq!(audit::html_problems(&html), Vec::<String>::new());
    }
    // And it does catch what it is for.
    let page = format!(
        "{}<p onclick=\"x()\"><script>1</script><a href='javascript:x'>a</a>\
         <svg><image xlink:href=\"http://e/x.png\"/></svg><div style=\"background:url(http://e)\">",
        audit::CSP
    );
    let caught = audit::html_problems(&page);
    // onclick, <script>, the javascript: link, <image> and its xlink:href, the url( style.
    assert_eq!(caught.len(), 6, "{caught:#?}");
    assert_eq!(audit::html_problems("<p>").len(), 1, "no policy");
}

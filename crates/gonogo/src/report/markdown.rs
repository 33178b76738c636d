//! The Markdown renderer, for a pull-request comment or a CI job summary: verdict
//! line, findings table, per-phase figures, resources, the charts' headline numbers
//! as text (no links, no images), events.
//!
//! Owns: the Markdown layout. Every string in it that came from data goes through
//! `markdown_text` ([`inline`], [`cell`], [`code`], [`block`]); the only HTML is the
//! template's (`<sub>`, `<details>`), and it writes no link or image.

use std::fmt::Write;

use super::RESPONSE_VS_SERVICE;
use super::markdown_text::{block, cell, code, inline, longest_run};
use super::model::{ReportModel, SeriesData, SeverityLabel};
use super::svg::value_text;
use super::text;
use crate::units::format;

/// Render the report as GitHub-flavoured Markdown.
pub(super) fn render(model: &ReportModel) -> String {
    let mut out = String::new();
    match text::stopped_line(model) {
        Some(line) => stopped(model, &line, &mut out),
        None => {
            let _ = writeln!(
                out,
                "## {} — {} (run {})\n",
                text::decision(model.verdict.decision),
                inline(&model.run.name),
                model.run.id
            );
        }
    }
    for reason in &model.verdict.reasons {
        let _ = writeln!(out, "- {}", inline(reason));
    }
    let _ = writeln!(
        out,
        "\n<sub>{}</sub>",
        text::run_line_with(model, code, inline)
    );
    findings(model, &mut out);
    out.push_str(&super::scaling::markdown(model));
    phases(model, &mut out);
    timeline(model, &mut out);
    analyses(model, &mut out);
    events(model, &mut out);
    out
}

/// The headline of a run that stopped early, the line under it and what was recorded.
fn stopped(model: &ReportModel, line: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "## {}\n\n{}\n",
        inline(&text::headline(model)),
        inline(line)
    );
    if let Some(stop) = model.stopped.as_ref().filter(|s| !s.detail.is_empty()) {
        let fence = "~".repeat(3 + longest_run(&stop.detail, '~'));
        let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", block(&stop.detail));
    }
}

/// A table row of data: each cell made [`cell`] text.
fn row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    row_markdown(out, &cells);
}

/// A table row of cells that are Markdown already (data in them made [`cell`] text).
fn row_markdown(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn findings(model: &ReportModel, out: &mut String) {
    out.push_str("\n### Findings\n\n");
    if model.findings.is_empty() {
        out.push_str("No findings.\n");
        return;
    }
    out.push_str("| result | severity | criterion | observed | threshold | samples |\n");
    out.push_str("|---|---|---|---:|---|---:|\n");
    for f in &model.findings {
        let result = text::outcome(f.outcome);
        let result = if f.severity == SeverityLabel::Blocker && result != "PASS" {
            format!("**{result}**")
        } else {
            result.to_string()
        };
        row_markdown(
            out,
            &[
                result,
                cell(text::severity(f.severity)),
                cell(&text::criterion(f)),
                cell(&text::observed(f)),
                cell(&text::threshold(f)),
                cell(&format::count(f.samples)),
            ],
        );
    }
    out.push_str("\n<details><summary>How each finding was decided</summary>\n\n");
    for f in &model.findings {
        let _ = writeln!(
            out,
            "- **{}** — {} *Method:* {}.",
            inline(&text::criterion(f)),
            inline(&f.explanation),
            inline(&f.method)
        );
    }
    out.push_str("\n</details>\n");
}

fn phases(model: &ReportModel, out: &mut String) {
    if model.phases.is_empty() {
        return;
    }
    out.push_str("\n### Phases\n\n");
    out.push_str(
        "| phase | workload | requests | measured | planned | achieved | errors | \
         response p50 | response p99 | response max | service p50 | service p99 | lag p99 | \
         generator-bound | cap waits |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for p in &model.phases {
        let mut cells = vec![p.phase.clone(), p.workload.clone()];
        cells.extend(text::phase_cells(p));
        cells.push(format::count(p.cap_waits));
        row(out, &cells);
    }
    let _ = writeln!(out, "\n> Note: {RESPONSE_VS_SERVICE}.");
    for p in &model.phases {
        if let Some(plan) = text::plan(p) {
            let _ = writeln!(
                out,
                ">\n> Requests planned in {} / {}: {}.",
                inline(&p.phase),
                inline(&p.workload),
                inline(&plan)
            );
        }
    }
    for p in &model.phases {
        if let Some(health) = &p.generator_health {
            let _ = writeln!(
                out,
                ">\n> Generator health in {} / {}: {}.",
                inline(&p.phase),
                inline(&p.workload),
                inline(&super::health::line(health))
            );
        }
    }
    for p in &model.phases {
        if let Some(kinds) = text::error_kinds(p) {
            let _ = writeln!(
                out,
                ">\n> Errors in {} / {}: {}.",
                inline(&p.phase),
                inline(&p.workload),
                inline(&kinds)
            );
        }
    }
    out.push_str("\n| phase | resources of the service |\n|---|---|\n");
    for r in &model.resources {
        row(out, &[r.phase.clone(), text::resources(r)]);
    }
    if !model.integrity.is_empty() {
        out.push_str("\n| phase | integrity (every attempted key read back twice) |\n|---|---|\n");
        for s in &model.integrity {
            row(out, &[s.phase.clone(), super::integrity::line(s)]);
        }
    }
    super::bad_input::markdown(&model.bad_input, out);
}

fn events(model: &ReportModel, out: &mut String) {
    if !model.events.is_empty() {
        out.push_str("\n### Events\n\n");
        for event in &model.events {
            let _ = writeln!(
                out,
                "- `{}` **{}** {}",
                text::at(event.at_seconds),
                inline(&event.kind),
                inline(&event.detail)
            );
        }
    }
    if !model.artifacts.is_empty() {
        out.push_str("\n### Artifacts\n\n");
        for artifact in &model.artifacts {
            let _ = writeln!(
                out,
                "- {}: {}",
                inline(&artifact.name),
                code(&artifact.path)
            );
        }
    }
}

/// The phase whose band holds `at` seconds, for "peak … at 12.5 s (baseline)".
fn phase_at(model: &ReportModel, at: f64) -> Option<&str> {
    model
        .timeline
        .phases
        .iter()
        .rev()
        .find(|band| band.start_seconds <= at)
        .map(|band| band.phase.as_str())
}

fn headline(model: &ReportModel, unit: &str, series: &SeriesData) -> Option<String> {
    let peak = series.peak?;
    let median = series.median?;
    let place = phase_at(model, peak[0]).map_or_else(String::new, |p| format!(", in {p}"));
    Some(format!(
        "{} median {}, peak {} at {}{place}",
        series.name,
        value_text(unit, median),
        value_text(unit, peak[1]),
        text::at(peak[0])
    ))
}

/// The charts of the HTML report, as their headline numbers in words.
fn timeline(model: &ReportModel, out: &mut String) {
    let lines: Vec<String> = model
        .timeline
        .charts
        .iter()
        .filter_map(|chart| {
            let parts: Vec<String> = chart
                .series
                .iter()
                .filter_map(|s| headline(model, &chart.unit, s))
                .collect();
            (!parts.is_empty()).then(|| {
                format!(
                    "- **{}**: {}",
                    inline(&chart.title),
                    inline(&parts.join("; "))
                )
            })
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    out.push_str("\n### Over time\n\nPer-interval values over the whole run, warm-up included (the tables above exclude it).\n\n");
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

/// The analysis charts of the HTML report (capacity steps, soak trends, recovery), as
/// their headlines in words.
fn analyses(model: &ReportModel, out: &mut String) {
    let lines = super::analysis::headlines(model);
    if lines.is_empty() {
        return;
    }
    out.push_str("\n### Analyses\n\n");
    for line in lines {
        let _ = writeln!(out, "- {}", inline(&line));
    }
}

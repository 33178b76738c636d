//! The terminal renderer: plain text, verdict first, then the findings table, the
//! key figures of each phase (response and service time side by side), events and
//! artifacts.
//!
//! Owns: the terminal layout, which fits [`WIDTH`] columns: long texts wrap at word
//! boundaries, tables too wide wrap their last column or stack their rows. Text from
//! specs and services is made printable (`units::format::printable`) on the way, by
//! `text::wrap` and `Table`. No colour: the output is the same on a pipe and in a
//! snapshot.

use super::RESPONSE_VS_SERVICE;
use super::model::{OutcomeLabel, Percentiles, PhaseSummary, ReportModel, SeverityLabel};
use super::table::{Align, Table};
use super::text;

/// Render the report for a terminal.
pub(super) fn render(model: &ReportModel) -> String {
    let mut out = String::new();
    out.push_str(&wrap(&text::headline(model), "", "  "));
    if let Some(line) = text::stopped_line(model) {
        out.push_str(&wrap(&line, "  ", "    "));
    }
    if let Some(stop) = &model.stopped {
        for line in stop.detail.lines() {
            out.push_str(&wrap(line, "  | ", "  |   "));
        }
    }
    for reason in &model.verdict.reasons {
        out.push_str(&wrap(reason, "  - ", "    "));
    }
    out.push_str(&wrap(
        &text::run_line(model, |s| s.to_string()),
        "  ",
        "    ",
    ));
    findings(model, &mut out);
    out.push_str(&super::scaling::terminal(model));
    analyses(model, &mut out);
    phases(model, &mut out);
    events(model, &mut out);
    out
}

/// The most characters a line of the terminal report has.
pub(super) const WIDTH: usize = 100;

/// `text` wrapped to [`WIDTH`]: see [`text::wrap`].
pub(super) fn wrap(text: &str, first: &str, rest: &str) -> String {
    text::wrap(text, first, rest, WIDTH)
}

fn findings(model: &ReportModel, out: &mut String) {
    out.push_str("\nFindings\n");
    if model.findings.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut table = Table::new(&[
        ("result", Align::Left),
        ("severity", Align::Left),
        ("criterion", Align::Left),
        ("observed", Align::Right),
        ("threshold", Align::Left),
        ("samples", Align::Right),
    ]);
    for f in &model.findings {
        table.row(vec![
            text::outcome(f.outcome).to_string(),
            text::severity(f.severity).to_string(),
            text::criterion(f),
            text::observed(f),
            text::threshold(f),
            crate::units::format::count(f.samples),
        ]);
    }
    out.push_str(&table.render_fit("  ", WIDTH));
    // Blocker explanations are the verdict's reasons; advisory ones are shown here.
    for f in model
        .findings
        .iter()
        .filter(|f| f.severity == SeverityLabel::Advisory && f.outcome != OutcomeLabel::Pass)
    {
        let line = format!("advisory {}: {}", f.criterion, f.explanation);
        out.push_str(&wrap(&line, "  ", "    "));
    }
}

fn phases(model: &ReportModel, out: &mut String) {
    for resource in &model.resources {
        let rows: Vec<&PhaseSummary> = model
            .phases
            .iter()
            .filter(|p| p.phase == resource.phase)
            .collect();
        let bad_input = model.bad_input.iter().find(|s| s.phase == resource.phase);
        let Some(first) = rows.first() else {
            let line = match bad_input {
                Some(_) => format!("Phase {}: bad input", resource.phase),
                None => format!("Phase {}: no load intervals recorded", resource.phase),
            };
            out.push('\n');
            out.push_str(&wrap(&line, "", "  "));
            if let Some(s) = bad_input {
                super::bad_input::terminal(s, out);
            }
            continue;
        };
        let line = format!(
            "Phase {} ({}, {} model, {} measured)",
            first.phase,
            first.kind,
            first.model,
            text::secs(Some(first.measured_seconds))
        );
        out.push('\n');
        out.push_str(&wrap(&line, "", "  "));
        out.push_str(&load_table(&rows).render_fit("  ", WIDTH));
        for row in &rows {
            if let Some(kinds) = text::error_kinds(row) {
                out.push_str(&wrap(
                    &format!("{} errors: {kinds}", row.workload),
                    "  ",
                    "    ",
                ));
            }
        }
        for row in &rows {
            if let Some(health) = &row.generator_health {
                out.push_str(&wrap(
                    &format!(
                        "{} generator: {}",
                        row.workload,
                        super::health::line(health)
                    ),
                    "  ",
                    "    ",
                ));
            }
        }
        out.push('\n');
        out.push_str(&latency_table(&rows).render_fit("  ", WIDTH));
        out.push('\n');
        let hang = " ".repeat(13);
        out.push_str(&wrap(&text::resources(resource), "  resources  ", &hang));
        if let Some(s) = model.integrity.iter().find(|s| s.phase == resource.phase) {
            out.push_str(&wrap(&super::integrity::line(s), "  integrity  ", &hang));
        }
        if let Some(s) = bad_input {
            super::bad_input::terminal(s, out);
        }
    }
    if !model.phases.is_empty() {
        out.push('\n');
        out.push_str(&wrap(&format!("Note: {RESPONSE_VS_SERVICE}."), "", "  "));
    }
}

fn load_table(rows: &[&PhaseSummary]) -> Table {
    let mut table = Table::new(&[
        ("workload", Align::Left),
        ("requests", Align::Right),
        ("planned", Align::Right),
        ("achieved", Align::Right),
        ("not sent", Align::Right),
        ("errors", Align::Right),
        ("lag p99", Align::Right),
        ("generator-bound", Align::Right),
        ("cap waits", Align::Right),
    ]);
    for row in rows {
        table.row(vec![
            row.workload.clone(),
            crate::units::format::count(row.requests),
            text::rate(row.planned_rate),
            text::rate(row.achieved_rate),
            text::not_sent(row),
            text::errors(row),
            text::secs(row.lag_p99),
            text::generator(row),
            crate::units::format::count(row.cap_waits),
        ]);
    }
    table
}

/// Reads one percentile out of [`Percentiles`].
type Pick = fn(&Percentiles) -> Option<f64>;

/// Percentiles as rows, each workload's response and service time as columns.
fn latency_table(rows: &[&PhaseSummary]) -> Table {
    let headers: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            [
                format!("{} response", r.workload),
                format!("{} service", r.workload),
            ]
        })
        .collect();
    let mut columns: Vec<(&str, Align)> = vec![("", Align::Left)];
    columns.extend(headers.iter().map(|h| (h.as_str(), Align::Right)));
    let mut table = Table::new(&columns);
    let picks: [(&str, Pick); 5] = [
        ("p50", |p| p.p50),
        ("p90", |p| p.p90),
        ("p99", |p| p.p99),
        ("p99.9", |p| p.p999),
        ("max", |p| p.max),
    ];
    for (name, pick) in picks {
        let mut cells = vec![name.to_string()];
        for row in rows {
            cells.push(text::secs(pick(&row.response)));
            cells.push(text::secs(pick(&row.service)));
        }
        table.row(cells);
    }
    table
}

/// The analysis charts' headlines (capacity steps, soak trends, recovery) in words.
fn analyses(model: &ReportModel, out: &mut String) {
    let lines = super::analysis::headlines(model);
    if !lines.is_empty() {
        out.push_str("\nAnalyses\n");
        for line in lines {
            out.push_str(&wrap(&line, "  - ", "    "));
        }
    }
}

fn events(model: &ReportModel, out: &mut String) {
    if !model.events.is_empty() {
        out.push_str("\nEvents\n");
        let mut table = Table::new(&[
            ("at", Align::Right),
            ("event", Align::Left),
            ("detail", Align::Left),
        ]);
        for event in &model.events {
            table.row(vec![
                text::at(event.at_seconds),
                event.kind.clone(),
                event.detail.clone(),
            ]);
        }
        out.push_str(&table.render_fit("  ", WIDTH));
    }
    if !model.artifacts.is_empty() {
        out.push_str("\nArtifacts\n");
        for artifact in &model.artifacts {
            let line = format!("{}  {}", artifact.name, artifact.path);
            out.push_str(&wrap(&line, "  ", "    "));
        }
    }
}

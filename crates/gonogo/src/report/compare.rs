//! Comparing two runs: each criterion's observed value in both, side by side, with the
//! plain difference — no statistical test yet, and the output says so.
//!
//! Owns: matching findings across runs (same criterion, phase and workload) and the
//! comparison's terminal and Markdown layout. Pure: no I/O, no clock.

use std::fmt::Write;

use crate::units::Unit;

use super::model::{FindingRow, ReportModel};
use super::table::{Align, Table};
use super::{Format, svg, text};
use crate::units::format;

/// What the change column is, in words; every comparison prints it.
pub const PLAIN_DELTA: &str = "change = run A − run B, a plain difference of single \
     measurements with no statistical test; a small change may be noise";

/// One criterion in both runs.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    criterion: String,
    a: String,
    b: String,
    change: String,
    outcomes: String,
}

fn same(x: &FindingRow, y: &FindingRow) -> bool {
    x.criterion == y.criterion && x.phase == y.phase && x.workload == y.workload
}

/// `+2.00 ms (+12.5%)`, or `-` when either side has no value.
fn change(unit: &str, a: Option<f64>, b: Option<f64>) -> String {
    let (Some(a), Some(b)) = (a, b) else {
        return "-".to_string();
    };
    let delta = a - b;
    let sign = if delta > 0.0 {
        "+"
    } else if delta < 0.0 {
        "−"
    } else {
        "±"
    };
    let unit = svg::unit_of(unit);
    let magnitude = match unit {
        Unit::Ratio => format!(
            "{} points",
            format::percent(delta.abs()).trim_end_matches('%')
        ),
        unit => format::value(unit, delta.abs()),
    };
    if b != 0.0 {
        format!(
            "{sign}{magnitude} ({sign}{}%)",
            format::sig3((delta / b).abs() * 100.0)
        )
    } else {
        format!("{sign}{magnitude}")
    }
}

fn rows(a: &ReportModel, b: &ReportModel) -> Vec<Row> {
    let mut rows: Vec<Row> = a
        .findings
        .iter()
        .map(|fa| {
            let fb = b.findings.iter().find(|fb| same(fa, fb));
            Row {
                criterion: text::criterion(fa),
                a: fa.observed_text.clone(),
                b: fb.map_or_else(|| "not judged".to_string(), |f| f.observed_text.clone()),
                change: fb.map_or_else(
                    || "-".to_string(),
                    |fb| change(&fa.unit, fa.observed, fb.observed),
                ),
                outcomes: format!(
                    "{} / {}",
                    text::outcome(fa.outcome),
                    fb.map_or("-", |f| text::outcome(f.outcome))
                ),
            }
        })
        .collect();
    rows.extend(
        b.findings
            .iter()
            .filter(|fb| !a.findings.iter().any(|fa| same(fa, fb)))
            .map(|fb| Row {
                criterion: text::criterion(fb),
                a: "not judged".to_string(),
                b: fb.observed_text.clone(),
                change: "-".to_string(),
                outcomes: format!("- / {}", text::outcome(fb.outcome)),
            }),
    );
    rows
}

/// Render run A against run B, in the terminal or Markdown format; `None` for formats
/// a comparison does not have (JSON, HTML, JUnit).
pub fn render_comparison(a: &ReportModel, b: &ReportModel, format: Format) -> Option<String> {
    let rows = rows(a, b);
    let title = |m: &ReportModel| {
        format!(
            "run {} ({}, {})",
            m.run.id,
            text::decision(m.verdict.decision),
            m.run.started_at
        )
    };
    let mut out = String::new();
    match format {
        Format::Terminal => {
            let _ = writeln!(out, "run A: {}\nrun B: {}\n", title(a), title(b));
            let mut table = Table::new(&[
                ("criterion", Align::Left),
                ("run A", Align::Right),
                ("run B", Align::Right),
                ("change", Align::Right),
                ("result A / B", Align::Left),
            ]);
            for row in rows {
                table.row(vec![row.criterion, row.a, row.b, row.change, row.outcomes]);
            }
            out.push_str(&table.render(""));
            let _ = writeln!(out, "\n{PLAIN_DELTA}.");
        }
        Format::Markdown => {
            let _ = writeln!(
                out,
                "## {} against {}\n\n| criterion | run A | run B | change | result A / B |\n|---|---:|---:|---:|---|",
                super::markdown_text::inline(&title(a)),
                super::markdown_text::inline(&title(b))
            );
            for row in rows {
                let cells = [row.criterion, row.a, row.b, row.change, row.outcomes]
                    .map(|c| super::markdown_text::cell(&c));
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            let _ = writeln!(out, "\n> {PLAIN_DELTA}.");
        }
        Format::Json | Format::Html | Format::Junit => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_signed_with_their_relative_size() {
        assert_eq!(
            change("seconds", Some(0.012), Some(0.010)),
            "+2.00 ms (+20.0%)"
        );
        assert_eq!(
            change("per_second", Some(450.0), Some(500.0)),
            "−50.0/s (−10.0%)"
        );
        assert_eq!(change("count", Some(5.0), Some(5.0)), "±0 (±0%)");
        assert_eq!(change("seconds", None, Some(0.010)), "-");
        assert_eq!(change("bytes", Some(2048.0), Some(0.0)), "+2.00 KiB");
    }
}

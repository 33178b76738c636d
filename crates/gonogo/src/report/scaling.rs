//! The scaling section of a report: for each scaling phase, its steps (size and
//! figures) and each quantity's fitted exponent with its interval and what the
//! interval supports.
//!
//! Owns: the section's model types (serialised in the JSON report), building them
//! from the evidence with the same reading as evaluation (`evaluate::scaling`), and
//! the rows the terminal and Markdown renderers print. Does not own: the fit or the
//! classification (`evaluate::scaling`), the chart (`scaling_chart`), nor page layout.
//! Pure: no I/O, no clock.

use schemars::JsonSchema;
use serde::Serialize;

use crate::evaluate::{self, LINEAR_TOLERANCE, SCALING_CONFIDENCE};
use crate::model::RunEvidence;
use crate::plan::ScalingQuantity;
use crate::units::Unit;

use crate::units::format;

/// One scaling phase: its steps and the exponent of each quantity.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScalingSummary {
    /// The scaling phase's name.
    pub phase: String,
    /// The stored steps, smallest size first.
    pub steps: Vec<ScalingStepRow>,
    /// One fit per quantity: `latency_p50`, `latency_p99`, `throughput`, `rss`.
    pub fits: Vec<ScalingFitRow>,
    /// Why no exponent is given (generator-bound steps, fewer than 3 measured steps);
    /// null when the fits stand.
    pub doubt: Option<String>,
    /// Coverage of the exponents' intervals (0.95).
    pub confidence: f64,
    /// Half-width of the band around 1 read as linear (0.1: [0.9, 1.1]).
    pub linear_tolerance: f64,
    /// How the exponents are computed, in words.
    pub method: String,
}

/// One step of a scaling phase.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScalingStepRow {
    /// The step's phase name (`<phase>#<n>`).
    pub step: String,
    /// Items the service held during the step.
    pub size: u64,
    /// Completed measured requests (warm-up excluded).
    pub requests: u64,
    /// Median response time, seconds.
    pub latency_p50: Option<f64>,
    /// 99th percentile response time, seconds.
    pub latency_p99: Option<f64>,
    /// Completed requests per second.
    pub throughput: Option<f64>,
    /// Largest RSS of the service's process tree during the measured part, bytes.
    pub rss_max_bytes: Option<f64>,
    /// Measured intervals in which the load generator fell behind.
    pub generator_bound_intervals: u32,
}

/// The fit of one quantity: quantity ≈ e^intercept · size^exponent.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScalingFitRow {
    /// `latency_p50`, `latency_p99`, `throughput` or `rss` (as in `scaling.<quantity>.*`).
    pub quantity: String,
    /// Unit of the per-step values: `seconds`, `per_second` or `bytes`.
    pub unit: String,
    /// The exponent b; null when there is no fit.
    pub exponent: Option<f64>,
    /// Lower bound of the exponent's interval.
    pub exponent_lower: Option<f64>,
    /// Upper bound of the exponent's interval.
    pub exponent_upper: Option<f64>,
    /// ln a of the fitted line ln(value) = ln a + b·ln(size).
    pub intercept: Option<f64>,
    /// Steps the fit used.
    pub points: u32,
    /// `sub-linear`, `linear`, `super-linear` or `undetermined` (also without a fit).
    pub classification: String,
    /// The fit for people: `1.02 [0.95, 1.09], linear`, or `no fit`.
    pub text: String,
}

/// The scaling summaries of every scaling phase of a run, in phase order.
pub(super) fn build(evidence: &RunEvidence) -> Vec<ScalingSummary> {
    evidence
        .phases
        .iter()
        .filter(|p| p.kind == "scaling")
        .map(|phase| summary(evidence, &phase.name))
        .collect()
}

fn summary(evidence: &RunEvidence, phase: &str) -> ScalingSummary {
    let result = evaluate::scaling(evidence, phase);
    let steps = result
        .steps
        .iter()
        .map(|s| ScalingStepRow {
            step: s.record.name.clone(),
            size: s.size,
            requests: s.requests,
            latency_p50: s.latency_p50,
            latency_p99: s.latency_p99,
            throughput: s.throughput,
            rss_max_bytes: s.rss,
            generator_bound_intervals: s.generator_bound,
        })
        .collect();
    let fits = result
        .fits
        .iter()
        .map(|f| ScalingFitRow {
            quantity: f.quantity.name().to_string(),
            unit: unit_name(f.quantity.unit()).to_string(),
            exponent: f.fit.map(|l| l.slope),
            exponent_lower: f.fit.map(|l| l.lower),
            exponent_upper: f.fit.map(|l| l.upper),
            intercept: f.fit.map(|l| l.intercept),
            points: f
                .fit
                .map_or(0, |l| u32::try_from(l.points).unwrap_or(u32::MAX)),
            classification: f.classification.as_str().to_string(),
            text: evaluate::describe_fit(f),
        })
        .collect();
    ScalingSummary {
        phase: phase.to_string(),
        steps,
        fits,
        doubt: result.doubt.as_ref().map(ToString::to_string),
        confidence: SCALING_CONFIDENCE,
        linear_tolerance: LINEAR_TOLERANCE,
        method: evaluate::scaling_method(result.measured_steps()),
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "seconds",
        Unit::PerSecond => "per_second",
        _ => "bytes",
    }
}

/// The quantity a fit row is about.
pub(super) fn quantity(row: &ScalingFitRow) -> Option<ScalingQuantity> {
    ScalingQuantity::ALL
        .into_iter()
        .find(|q| q.name() == row.quantity)
}

/// Header and rows of the steps table.
pub(super) fn step_rows(summary: &ScalingSummary) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "step",
        "items",
        "requests",
        "p50",
        "p99",
        "throughput",
        "rss max",
        "gen-bound",
    ];
    let rows = summary
        .steps
        .iter()
        .map(|s| {
            vec![
                s.step.clone(),
                format::count(s.size),
                format::count(s.requests),
                format::value_or_dash(Unit::Seconds, s.latency_p50),
                format::value_or_dash(Unit::Seconds, s.latency_p99),
                format::value_or_dash(Unit::PerSecond, s.throughput),
                format::value_or_dash(Unit::Bytes, s.rss_max_bytes),
                s.generator_bound_intervals.to_string(),
            ]
        })
        .collect();
    (header, rows)
}

/// Header and rows of the exponents table.
pub(super) fn fit_rows(summary: &ScalingSummary) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec!["quantity", "exponent", "95% interval", "reads as"];
    let rows = summary
        .fits
        .iter()
        .map(|f| {
            let interval = match (f.exponent_lower, f.exponent_upper) {
                (Some(lo), Some(hi)) => format!("[{lo:.2}, {hi:.2}]"),
                _ => "-".to_string(),
            };
            vec![
                f.quantity.clone(),
                f.exponent
                    .map_or_else(|| "-".to_string(), |b| format!("{b:.2}")),
                interval,
                f.classification.clone(),
            ]
        })
        .collect();
    (header, rows)
}

/// The scaling section for a terminal; empty without scaling phases.
pub(super) fn terminal(model: &super::ReportModel) -> String {
    use super::table::{Align, Table};
    let mut out = String::new();
    for summary in &model.scaling {
        let title = format!("Scaling {} ({} steps)", summary.phase, summary.steps.len());
        out.push('\n');
        out.push_str(&super::terminal::wrap(&title, "", "  "));
        for (header, rows) in [step_rows(summary), fit_rows(summary)] {
            let columns: Vec<(&str, Align)> = header
                .iter()
                .enumerate()
                .map(|(i, h)| (*h, if i == 0 { Align::Left } else { Align::Right }))
                .collect();
            let mut table = Table::new(&columns);
            for row in rows {
                table.row(row);
            }
            out.push_str(&table.render_fit("  ", super::terminal::WIDTH));
        }
        out.push_str(&super::terminal::wrap(&note(summary), "  ", "    "));
    }
    out
}

/// The scaling section in Markdown; empty without scaling phases.
pub(super) fn markdown(model: &super::ReportModel) -> String {
    let mut out = String::new();
    let cell = super::markdown_text::cell;
    for summary in &model.scaling {
        out.push_str(&format!("\n### Scaling {}\n", cell(&summary.phase)));
        for (header, rows) in [step_rows(summary), fit_rows(summary)] {
            out.push_str(&format!(
                "\n| {} |\n|{}\n",
                header.join(" | "),
                "---|".repeat(header.len())
            ));
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
                out.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
        }
        out.push_str(&format!("\n{}\n", cell(&note(summary))));
    }
    out
}

/// The doubt, or the method, in one line under the tables.
pub(super) fn note(summary: &ScalingSummary) -> String {
    match &summary.doubt {
        Some(doubt) => format!("No exponent: {doubt}"),
        None => format!("Method: {}.", summary.method),
    }
}

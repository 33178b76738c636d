//! The capacity-steps chart of ramp phases: per step the offered and achieved rate and
//! the p99 response time, the last good and first bad step marked, the stop condition
//! that ended the climb named.
//!
//! Owns: the report rows of a ramp's steps (built with `evaluate::capacity`, the rule
//! the conductor and the capacity findings use, so the chart and the findings always
//! agree) and their SVG. Does not own: judging steps (`evaluate::capacity`).
//! Pure: no I/O, no clock.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::evaluate::{self, StepVerdict};
use crate::model::RunEvidence;
use crate::plan::{Plan, StopConditions};
use crate::units::Unit;

use super::html::escape;
use super::plot::{Frame, legend, section, upper_first};
use super::svg::PALETTE;
use crate::units::format;

/// The steps of one ramp phase.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CapacityChart {
    /// Chart id in the HTML page (`capacity-<phase>`).
    pub id: String,
    /// The ramp phase.
    pub phase: String,
    /// The conditions a step breaks, in words (`latency p99 > 50 ms`, …).
    pub stop_conditions: Vec<String>,
    /// The p99 response-time bound of the stop conditions, seconds; null without one.
    pub latency_bound: Option<f64>,
    /// The judged steps in order, up to the first that was not good.
    pub steps: Vec<CapacityStep>,
    /// Name of the last good step before the first bad one; null when none was good.
    pub last_good: Option<String>,
    /// Name of the step that ended the climb; null when every step was good.
    pub stopped_at: Option<String>,
    /// Why the climb ended, in words.
    pub stopped_because: String,
}

/// One step of a ramp, warm-up excluded.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CapacityStep {
    /// Step name (`ramp#3`).
    pub step: String,
    /// The rate the step offered, per second.
    pub offered_rate: f64,
    /// Completed requests per second; null without any.
    pub achieved_rate: Option<f64>,
    /// p99 response time, seconds; null without requests.
    pub latency_p99: Option<f64>,
    /// Failed over completed requests; null without requests.
    pub error_rate: Option<f64>,
    /// `good`, `broken`, `generator_bound` or `no_data`.
    pub verdict: String,
    /// The stop conditions the step broke, in words; empty unless broken.
    pub broke: Vec<String>,
    /// When the step's measurement began, seconds since the run started.
    pub start_seconds: f64,
    /// When the step ended; null when the run stopped inside it.
    pub end_seconds: Option<f64>,
}

/// The capacity charts of every ramp phase that recorded steps.
pub(super) fn build(evidence: &RunEvidence, plan: Option<&Plan>) -> Vec<CapacityChart> {
    evidence
        .phases
        .iter()
        // Scaling phases have child steps too; only a ramp's steps climb in rate.
        .filter(|p| p.kind == crate::plan::PhaseKind::Ramp.as_str())
        .filter(|p| {
            evidence
                .phases
                .iter()
                .any(|s| s.parent.as_ref() == Some(&p.name))
        })
        .map(|ramp| {
            let stop = plan
                .and_then(|plan| plan.phases.iter().find(|p| p.name == ramp.name))
                .and_then(|p| p.ramp)
                .map(|r| r.stop)
                .unwrap_or_default();
            chart(evidence, &ramp.name, &stop)
        })
        .collect()
}

fn chart(evidence: &RunEvidence, ramp: &str, stop: &StopConditions) -> CapacityChart {
    let cap = evaluate::capacity(evidence, ramp, stop);
    let steps: Vec<CapacityStep> = cap
        .steps
        .iter()
        .map(|(record, j)| {
            let (verdict, broke) = match &j.verdict {
                StepVerdict::Good => ("good", Vec::new()),
                StepVerdict::Broken(broken) => {
                    ("broken", broken.iter().map(|b| b.describe()).collect())
                }
                StepVerdict::GeneratorBound(_) => ("generator_bound", Vec::new()),
                StepVerdict::NoData => ("no_data", Vec::new()),
            };
            CapacityStep {
                step: record.name.clone(),
                offered_rate: j.planned_rate,
                achieved_rate: j.achieved_rate,
                latency_p99: j.latency_p99,
                error_rate: j.error_rate,
                verdict: verdict.to_string(),
                broke,
                start_seconds: (record.started + record.warmup).as_secs_f64(),
                end_seconds: record.ended.map(|e| e.as_secs_f64()),
            }
        })
        .collect();
    let name = |i: Option<usize>| i.and_then(|i| steps.get(i)).map(|s| s.step.clone());
    let stopped_because = match cap.stopped_at.and_then(|i| cap.steps.get(i)) {
        None => "no step broke a stop condition".to_string(),
        Some((record, j)) => match &j.verdict {
            StepVerdict::Broken(broken) => format!(
                "step {} broke {}",
                record.name,
                broken
                    .iter()
                    .map(|b| b.describe())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            StepVerdict::GeneratorBound(n) => format!(
                "the load generator fell behind in {n} measured intervals of step {}, so it \
                 says nothing about the service",
                record.name
            ),
            _ => format!("step {} completed no measured request", record.name),
        },
    };
    CapacityChart {
        id: format!("capacity-{ramp}"),
        phase: ramp.to_string(),
        stop_conditions: evaluate::stop_conditions(stop),
        latency_bound: stop.latency_p99.map(|b| b.as_secs_f64()),
        last_good: name(cap.last_good),
        stopped_at: name(cap.stopped_at),
        stopped_because,
        steps,
    }
}

impl CapacityChart {
    /// The chart's headline in words: the last good step and why the climb ended.
    pub(super) fn headline(&self) -> String {
        let last_good = self
            .last_good
            .as_ref()
            .and_then(|name| self.steps.iter().find(|s| &s.step == name))
            .map_or_else(
                || "no good step".to_string(),
                |s| {
                    format!(
                        "last good step {} at {}",
                        s.step,
                        format::per_second(s.offered_rate)
                    )
                },
            );
        format!(
            "Capacity steps of ramp {} ({} judged): {last_good}; {}",
            self.phase,
            self.steps.len(),
            self.stopped_because
        )
    }
}

/// The capacity section of the HTML page; nothing without ramp phases.
pub(super) fn render(charts: &[CapacityChart], out: &mut String) {
    section(out, "capacity", "Capacity steps", charts, |chart, out| {
        let _ = write!(
            out,
            "<figure id=\"chart-{}\" class=\"capacity-chart\"><h3>Ramp {}: offered vs achieved rate and p99 per step</h3>",
            escape(&chart.id),
            escape(&chart.phase)
        );
        rate_panel(chart, out);
        latency_panel(chart, out);
        legend(
            out,
            &[
                ("#c5d3e3", "offered rate"),
                (PALETTE[0], "achieved rate"),
                (PALETTE[1], "response p99"),
            ],
        );
        let _ = writeln!(
            out,
            "<figcaption>Each step's measured intervals merged (warm-up excluded). A step \
             breaks when {}. Last good step: {}. {}. Every step is drawn.</figcaption></figure>",
            escape(&chart.stop_conditions.join(" or ")),
            escape(chart.last_good.as_deref().unwrap_or("none")),
            escape(&upper_first(&chart.stopped_because)),
        );
    });
}

/// Pixel centre and width of step `i` of `n` in the frame.
fn slot(frame: &Frame, i: usize, n: usize) -> (f64, f64) {
    let (x0, x1) = frame.x_range();
    let width = (x1 - x0) / n.max(1) as f64;
    (x0 + width * (i as f64 + 0.5), width)
}

fn mark(chart: &CapacityChart, step: &CapacityStep) -> Option<(&'static str, &'static str)> {
    if chart.last_good.as_deref() == Some(step.step.as_str()) {
        Some(("last-good", "last good"))
    } else if chart.stopped_at.as_deref() == Some(step.step.as_str()) {
        Some(("first-bad", "first bad"))
    } else {
        None
    }
}

fn step_labels(chart: &CapacityChart, frame: &Frame, out: &mut String) {
    let n = chart.steps.len();
    let every = n.div_ceil(16).max(1);
    for (i, step) in chart.steps.iter().enumerate() {
        let (cx, width) = slot(frame, i, n);
        if i % every == 0 || mark(chart, step).is_some() {
            frame.x_tick(out, cx, &format::per_second(step.offered_rate));
        }
        if let Some((class, text)) = mark(chart, step) {
            let (top, bottom) = frame.y_range();
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top}" width="{:.1}" height="{:.1}" class="step-mark {class}"><title>{}</title></rect><text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="wlabel {class}">{text}</text>"#,
                cx - width / 2.0,
                width,
                bottom - top,
                escape(&format!("{}: {}", step.step, step.verdict)),
                top - 6.0
            );
        }
    }
}

fn rate_panel(chart: &CapacityChart, out: &mut String) {
    let max = chart
        .steps
        .iter()
        .flat_map(|s| [Some(s.offered_rate), s.achieved_rate])
        .flatten()
        .fold(0.0, f64::max);
    let frame = Frame::new(230.0, "per_second", 0.0, max);
    frame.open(
        out,
        "capacity-rate",
        &format!("offered vs achieved rate of ramp {}", chart.phase),
    );
    let n = chart.steps.len();
    let base = frame.y.map(0.0);
    for (i, step) in chart.steps.iter().enumerate() {
        let (cx, width) = slot(&frame, i, n);
        let bar = (width * 0.38).min(28.0);
        let mut draw = |x: f64, value: Option<f64>, fill: &str, what: &str| {
            let Some(value) = value else { return };
            let top = frame.y.map(value);
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{bar:.1}" height="{:.1}" fill="{fill}"><title>{}</title></rect>"#,
                (base - top).max(0.0),
                escape(&format!(
                    "{} {what}: {}",
                    step.step,
                    format::per_second(value)
                ))
            );
        };
        draw(cx - bar, Some(step.offered_rate), "#c5d3e3", "offered");
        draw(cx, step.achieved_rate, PALETTE[0], "achieved");
    }
    step_labels(chart, &frame, out);
    frame.close(out, "offered rate of the step");
}

fn latency_panel(chart: &CapacityChart, out: &mut String) {
    let max = chart
        .steps
        .iter()
        .filter_map(|s| s.latency_p99)
        .chain(chart.latency_bound)
        .fold(0.0, f64::max);
    let frame = Frame::new(200.0, "seconds", 0.0, max);
    frame.open(
        out,
        "capacity-latency",
        &format!("p99 response time per step of ramp {}", chart.phase),
    );
    let n = chart.steps.len();
    let base = frame.y.map(0.0);
    for (i, step) in chart.steps.iter().enumerate() {
        let Some(p99) = step.latency_p99 else {
            continue;
        };
        let (cx, width) = slot(&frame, i, n);
        let bar = (width * 0.5).min(36.0);
        let top = frame.y.map(p99);
        let broke = if step.broke.is_empty() {
            String::new()
        } else {
            format!("; broke {}", step.broke.join(" and "))
        };
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{top:.1}" width="{bar:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
            cx - bar / 2.0,
            (base - top).max(0.0),
            PALETTE[1],
            escape(&format!(
                "{} p99 {}, errors {}{broke}",
                step.step,
                format::seconds(p99),
                format::value_or_dash(Unit::Ratio, step.error_rate)
            ))
        );
    }
    if let Some(bound) = chart.latency_bound {
        let (x0, x1) = frame.x_range();
        let y = frame.y.map(bound);
        let _ = write!(
            out,
            r#"<line x1="{x0}" x2="{x1}" y1="{y:.1}" y2="{y:.1}" class="bound"/><text x="{:.1}" y="{:.1}" class="wlabel first-bad">stop: p99 &gt; {}</text>"#,
            x0 + 4.0,
            y - 4.0,
            escape(&format::seconds(bound))
        );
    }
    step_labels(chart, &frame, out);
    frame.close(out, "offered rate of the step");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::analysis_fixture::analysis_run;

    #[test]
    fn the_chart_marks_the_last_good_and_first_bad_step_and_names_the_condition() {
        let (evidence, plan) = analysis_run();
        let charts = build(&evidence, Some(&plan));
        assert_eq!(charts.len(), 1);
        let chart = &charts[0];
        assert_eq!(chart.id, "capacity-ramp");
        assert!(chart.steps.len() >= 2, "{chart:#?}");
        let last_good = chart.last_good.as_deref().unwrap();
        let stopped = chart.stopped_at.as_deref().unwrap();
        assert_ne!(last_good, stopped);
        let bad = chart.steps.iter().find(|s| s.step == stopped).unwrap();
        assert_eq!(bad.verdict, "broken");
        assert!(
            chart.stopped_because.contains("broke"),
            "{}",
            chart.stopped_because
        );
        let mut html = String::new();
        render(&charts, &mut html);
        assert!(html.contains("id=\"chart-capacity-ramp\""));
        assert!(html.contains("last good") && html.contains("first bad"));
        assert!(
            html.contains("latency p99 &gt; 50"),
            "the stop conditions are named: {html}"
        );
        assert!(
            html.contains("class=\"bound\""),
            "the latency bound is drawn"
        );
    }
}

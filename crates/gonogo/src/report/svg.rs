//! Server-side SVG charts for the HTML report: axes with readable ticks, phase bands
//! (warm-up shaded apart), polylines per series, and the windows findings read.
//!
//! Owns: geometry and SVG markup of the time charts. Every string drawn is escaped
//! here. No script, no external reference: the markup is inert. Does not own the
//! series (`timeline`) nor the page around the charts (`html`).
//!
//! Other chart kinds (log-log scaling fits, capacity steps) add their own function
//! beside [`time_chart`] and reuse [`Scale`], [`nice_step`] and the drawing helpers.

use std::fmt::Write;

use crate::units::Unit;

use super::html::escape;
use super::model::{ChartData, PhaseBand};
use super::recovery_chart::FaultBand;
use crate::units::format;

/// Colours of the series, in order (colour-blind-safe, Okabe–Ito-like).
pub(super) const PALETTE: [&str; 6] = [
    "#0072b2", "#e69f00", "#cc3311", "#7b3294", "#009e73", "#56b4e9",
];

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 34.0;

/// A horizontal grid line across the plot area `x` (pixels, left to right) at height
/// `py`, with its value `label` right-aligned left of the axis. Every chart's value
/// ticks are drawn with it.
pub(super) fn grid_line(out: &mut String, x: (f64, f64), py: f64, label: &str) {
    let _ = write!(
        out,
        r#"<line x1="{}" x2="{}" y1="{py:.1}" y2="{py:.1}" class="grid"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"#,
        x.0,
        x.1,
        x.0 - 6.0,
        py + 4.0,
        escape(label)
    );
}

/// A window a finding read, drawn over a chart.
#[derive(Debug, Clone)]
pub(super) struct Overlay {
    /// Short label (`F3`).
    pub label: String,
    pub start: f64,
    pub end: f64,
    /// Whether the finding failed (drawn in red).
    pub failed: bool,
}

/// A linear map from data values to pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    pub(super) fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let d1 = if domain.1 > domain.0 {
            domain.1
        } else {
            domain.0 + 1.0
        };
        Scale {
            d0: domain.0,
            d1,
            r0: range.0,
            r1: range.1,
        }
    }

    pub(super) fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// A step of 1, 2 or 5 × 10ⁿ that splits `span` into at most `max_ticks` parts.
pub(super) fn nice_step(span: f64, max_ticks: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let rough = span / max_ticks.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// A tick step for values up to `max` in `unit`: whole numbers for counts, and for
/// bytes 1, 2 or 5 × 10ⁿ of KiB, MiB or GiB, so ticks read `20.0 MiB`, not `19.1 MiB`.
pub(super) fn value_step(unit: Unit, max: f64) -> f64 {
    match unit {
        Unit::Count => nice_step(max, 5).max(1.0),
        Unit::Bytes => {
            let mut scale = 1.0;
            while max / scale >= 1024.0 {
                scale *= 1024.0;
            }
            nice_step(max / scale, 5) * scale
        }
        _ => nice_step(max, 5),
    }
}

/// A time step in seconds that gives at most ten ticks over `span`.
fn time_step(span: f64) -> f64 {
    const STEPS: [f64; 16] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        14_400.0, 43_200.0,
    ];
    STEPS
        .into_iter()
        .find(|step| span / step <= 10.0)
        .unwrap_or_else(|| nice_step(span, 10))
}

/// `45 s` on short runs, `12:30` (minutes:seconds) from two minutes on.
fn time_label(seconds: f64, span: f64) -> String {
    if span < 120.0 {
        format!("{} s", seconds.round())
    } else {
        let total = seconds.round() as u64;
        format!("{}:{:02}", total / 60, total % 60)
    }
}

pub(super) fn unit_of(name: &str) -> Unit {
    match name {
        "seconds" => Unit::Seconds,
        "per_second" => Unit::PerSecond,
        "bytes" => Unit::Bytes,
        "cores" => Unit::Cores,
        "ratio" => Unit::Ratio,
        _ => Unit::Count,
    }
}

/// A tick label in the chart's unit.
pub(super) fn value_label(unit: &str, v: f64) -> String {
    match unit_of(unit) {
        Unit::Cores => format::sig3(v),
        unit => format::value(unit, v),
    }
}

/// A value in the chart's unit, with the unit (`0.500 cores`, `12.0 ms`).
pub(super) fn value_text(unit: &str, v: f64) -> String {
    format::value(unit_of(unit), v)
}

/// The axis title of a unit.
pub(super) fn unit_title(unit: &str) -> &'static str {
    match unit_of(unit) {
        Unit::Seconds => "time",
        Unit::PerSecond => "per second",
        Unit::Bytes => "bytes",
        Unit::Cores => "cores",
        Unit::Ratio => "ratio",
        _ => "count",
    }
}

/// Draw a chart's series against the run's time axis `[0, x_max]` seconds.
pub(super) fn time_chart(
    chart: &ChartData,
    phases: &[PhaseBand],
    faults: &[FaultBand],
    x_max: f64,
    overlays: &[Overlay],
) -> String {
    let y_max = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p[1]))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y_step = value_step(unit_of(&chart.unit), y_max);
    let y_top = if y_max > 0.0 {
        (y_max / y_step).ceil() * y_step
    } else {
        y_step
    };
    let x = Scale::new((0.0, x_max), (LEFT, WIDTH - RIGHT));
    let y = Scale::new((0.0, y_top), (HEIGHT - BOTTOM, TOP));

    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        escape(&chart.title)
    );
    bands(&mut out, phases, &x, x_max);
    fault_bands(&mut out, faults, &x, x_max);
    y_axis(&mut out, &chart.unit, &y, y_step, y_top);
    x_axis(&mut out, &x, x_max);
    for overlay in overlays {
        draw_overlay(&mut out, overlay, &x);
    }
    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        for run in split_at_gaps(&series.points, phases) {
            polyline(&mut out, run, &x, &y, colour);
        }
    }
    if chart.series.iter().all(|s| s.points.is_empty()) {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" text-anchor="middle" class="nodata">no data recorded</text>"##,
            (LEFT + WIDTH - RIGHT) / 2.0,
            (TOP + HEIGHT - BOTTOM) / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Phase bands, alternating shades, with the warm-up darker and labelled.
fn bands(out: &mut String, phases: &[PhaseBand], x: &Scale, x_max: f64) {
    let (top, bottom) = (TOP, HEIGHT - BOTTOM);
    for (i, band) in phases.iter().enumerate() {
        let end = band.end_seconds.unwrap_or(x_max).min(x_max);
        let (x0, xm, x1) = (
            x.map(band.start_seconds),
            x.map(band.measured_from_seconds.min(end)),
            x.map(end),
        );
        let fill = if i % 2 == 0 { "#edf2f8" } else { "#f6f8fb" };
        let name = escape(&band.phase);
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{top}" width="{:.1}" height="{:.1}" fill="{fill}"><title>phase {name} ({})</title></rect>"#,
            (x1 - x0).max(0.0),
            bottom - top,
            escape(&band.kind)
        );
        if xm > x0 {
            let _ = write!(
                out,
                r#"<rect x="{x0:.1}" y="{top}" width="{:.1}" height="{:.1}" class="warmup"><title>warm-up of {name}: drawn, excluded from statistics</title></rect>"#,
                xm - x0,
                bottom - top
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="band">{name}</text>"#,
            x0 + 4.0,
            top - 6.0
        );
    }
}

/// Fault windows, hatched, each with its fault in a tooltip.
fn fault_bands(out: &mut String, faults: &[FaultBand], x: &Scale, x_max: f64) {
    for fault in faults {
        let (x0, x1) = (
            x.map(fault.start_seconds),
            x.map(fault.end_seconds.unwrap_or(x_max).min(x_max)),
        );
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{:.1}" class="fault"><title>fault in force: {}</title></rect><text x="{:.1}" y="{:.1}" class="flabel">fault</text>"#,
            (x1 - x0).max(2.0),
            HEIGHT - BOTTOM - TOP,
            escape(&fault.fault),
            x0 + 2.0,
            HEIGHT - BOTTOM - 4.0
        );
    }
}

fn y_axis(out: &mut String, unit: &str, y: &Scale, step: f64, top: f64) {
    let mut v = 0.0;
    let mut guard = 0;
    while v <= top * (1.0 + 1e-9) && guard < 20 {
        let py = y.map(v);
        grid_line(out, (LEFT, WIDTH - RIGHT), py, &value_label(unit, v));
        v += step;
        guard += 1;
    }
    let _ = write!(
        out,
        r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle" class="axis">{}</text>"#,
        (TOP + HEIGHT - BOTTOM) / 2.0,
        unit_title(unit)
    );
}

fn x_axis(out: &mut String, x: &Scale, x_max: f64) {
    let step = time_step(x_max);
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" x2="{}" y1="{base}" y2="{base}" class="axisline"/>"#,
        WIDTH - RIGHT
    );
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let px = x.map(t);
        let _ = write!(
            out,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="{base}" y2="{}" class="axisline"/><text x="{px:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
            base + 4.0,
            base + 16.0,
            time_label(t, x_max)
        );
        t += step;
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end" class="axis">time since the run started</text>"#,
        WIDTH - RIGHT,
        HEIGHT - 2.0
    );
}

fn draw_overlay(out: &mut String, overlay: &Overlay, x: &Scale) {
    let (x0, x1) = (x.map(overlay.start), x.map(overlay.end));
    let class = if overlay.failed {
        "window fail"
    } else {
        "window"
    };
    let label = escape(&overlay.label);
    let _ = write!(
        out,
        r#"<rect x="{x0:.1}" y="{TOP}" width="{:.1}" height="{:.1}" class="{class}"><title>{label}: the window this finding read</title></rect><text x="{:.1}" y="{:.1}" text-anchor="end" class="wlabel">{label}</text>"#,
        (x1 - x0).max(1.0),
        HEIGHT - BOTTOM - TOP,
        x1 - 3.0,
        TOP + 12.0
    );
}

/// Split a series where a phase starts between two points, or where consecutive points
/// are much further apart than usual (the service was down), so no line is drawn
/// across the gap.
fn split_at_gaps<'a>(points: &'a [[f64; 2]], phases: &[PhaseBand]) -> Vec<&'a [[f64; 2]]> {
    let mut steps: Vec<f64> = points.windows(2).map(|w| w[1][0] - w[0][0]).collect();
    if steps.is_empty() {
        return if points.is_empty() {
            Vec::new()
        } else {
            vec![points]
        };
    }
    steps.sort_by(f64::total_cmp);
    let limit = steps[steps.len() / 2] * 4.0;
    let mut runs = Vec::new();
    let mut from = 0;
    for i in 1..points.len() {
        let (before, after) = (points[i - 1][0], points[i][0]);
        let phase_starts = phases
            .iter()
            .any(|p| before < p.start_seconds && p.start_seconds <= after);
        if after - before > limit || phase_starts {
            runs.push(&points[from..i]);
            from = i;
        }
    }
    runs.push(&points[from..]);
    runs
}

fn polyline(out: &mut String, run: &[[f64; 2]], x: &Scale, y: &Scale, colour: &str) {
    if let [only] = run {
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
            x.map(only[0]),
            y.map(only[1])
        );
        return;
    }
    let _ = write!(
        out,
        r#"<polyline fill="none" stroke="{colour}" stroke-width="1.6" stroke-linejoin="round" points=""#
    );
    for (i, p) in run.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{:.1},{:.1}", x.map(p[0]), y.map(p[1]));
    }
    out.push_str(r#""/>"#);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(0.047, 5), 0.01);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(0.0, 5), 1.0);
        assert_eq!(
            value_step(Unit::Bytes, 9.0 * 1024.0 * 1024.0),
            2.0 * 1024.0 * 1024.0
        );
        assert_eq!(value_step(Unit::Count, 3.0), 1.0);
        assert_eq!(time_step(30.0), 5.0);
        assert_eq!(time_step(3600.0), 600.0);
        assert_eq!(time_label(750.0, 3600.0), "12:30");
        assert_eq!(time_label(15.0, 30.0), "15 s");
    }

    #[test]
    fn gaps_between_phases_break_the_line() {
        let points = [[0.5, 1.0], [1.5, 1.0], [2.5, 1.0], [20.5, 2.0], [21.5, 2.0]];
        let runs = split_at_gaps(&points, &[]);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 3);
        assert_eq!(runs[1].len(), 2);
        assert!(split_at_gaps(&[], &[]).is_empty());
        let band = PhaseBand {
            phase: "stress".into(),
            kind: "steady".into(),
            start_seconds: 2.0,
            measured_from_seconds: 2.0,
            end_seconds: None,
        };
        let runs = split_at_gaps(&points[..3], std::slice::from_ref(&band));
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn scales_map_the_domain_onto_the_range() {
        let s = Scale::new((0.0, 10.0), (100.0, 0.0));
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(5.0), 50.0);
        let flat = Scale::new((3.0, 3.0), (0.0, 10.0));
        assert!(flat.map(3.0).is_finite());
    }
}

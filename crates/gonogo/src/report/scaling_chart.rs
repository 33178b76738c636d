//! The log–log charts of a scaling phase for the HTML report: per quantity, each
//! step's value against its size on logarithmic axes, the fitted line, and the fan
//! of lines whose slopes are the exponent interval's bounds (through the centre of
//! the points, where every OLS line of those slopes would pass).
//!
//! Owns: the geometry and SVG markup of these charts, every drawn string escaped.
//! Does not own: the figures (`report::scaling`, `evaluate::scaling`) nor the page.

use std::fmt::Write;

use super::html::escape;
use super::scaling::{ScalingFitRow, ScalingSummary, quantity};
use super::svg::{PALETTE, Scale, grid_line};
use crate::units::format;

const WIDTH: f64 = 470.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 74.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// The HTML of a scaling phase's charts: one figure per quantity with data.
pub(super) fn figures(summary: &ScalingSummary) -> String {
    let mut out = String::new();
    for (i, fit) in summary.fits.iter().enumerate() {
        let Some(q) = quantity(fit) else { continue };
        let points: Vec<(f64, f64)> = summary
            .steps
            .iter()
            .filter(|s| s.requests > 0)
            .filter_map(|s| {
                let value = match q {
                    crate::plan::ScalingQuantity::LatencyP50 => s.latency_p50,
                    crate::plan::ScalingQuantity::LatencyP99 => s.latency_p99,
                    crate::plan::ScalingQuantity::Throughput => s.throughput,
                    crate::plan::ScalingQuantity::Rss => s.rss_max_bytes,
                }?;
                (value > 0.0 && s.size > 0).then_some((s.size as f64, value))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<figure class=\"loglog\"><h4>{} against items held</h4>{}<figcaption>{}</figcaption></figure>",
            escape(&fit.quantity),
            chart(fit, q.unit(), &points, PALETTE[i % PALETTE.len()]),
            escape(&caption(fit))
        );
    }
    out
}

fn caption(fit: &ScalingFitRow) -> String {
    match (fit.exponent, fit.exponent_lower, fit.exponent_upper) {
        (Some(b), Some(lo), Some(hi)) => format!(
            "exponent {b:.2}, 95% interval [{lo:.2}, {hi:.2}]: {} (log–log axes; the line is \
             the fit, the shaded fan the interval's slopes)",
            fit.classification
        ),
        _ => "no fit: the points alone are drawn (log–log axes)".to_string(),
    }
}

/// One log–log chart of `points` (size, value > 0).
fn chart(
    fit: &ScalingFitRow,
    unit: crate::units::Unit,
    points: &[(f64, f64)],
    colour: &str,
) -> String {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let (x0, x1) = bounds(logs.iter().map(|p| p.0));
    let line = |slope: f64, at: f64, centre: (f64, f64)| centre.1 + slope * (at - centre.0);
    let centre = (
        logs.iter().map(|p| p.0).sum::<f64>() / logs.len() as f64,
        fit.intercept.zip(fit.exponent).map_or(0.0, |(a, b)| {
            a + b * logs.iter().map(|p| p.0).sum::<f64>() / logs.len() as f64
        }),
    );
    let mut ys: Vec<f64> = logs.iter().map(|p| p.1).collect();
    for slope in [fit.exponent, fit.exponent_lower, fit.exponent_upper]
        .into_iter()
        .flatten()
    {
        ys.push(line(slope, x0, centre));
        ys.push(line(slope, x1, centre));
    }
    let (y0, y1) = bounds(ys.into_iter());
    let pad_x = ((x1 - x0) * 0.06).max(0.05);
    let pad_y = ((y1 - y0) * 0.08).max(0.05);
    let x = Scale::new((x0 - pad_x, x1 + pad_x), (LEFT, WIDTH - RIGHT));
    let y = Scale::new((y0 - pad_y, y1 + pad_y), (HEIGHT - BOTTOM, TOP));
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{} against items held, log–log">"#,
        escape(&fit.quantity)
    );
    axes(&mut out, &x, &y, points, unit, (y0 - pad_y, y1 + pad_y));
    if let (Some(b), Some(lo), Some(hi)) = (fit.exponent, fit.exponent_lower, fit.exponent_upper) {
        let corner =
            |slope: f64, at: f64| format!("{:.1},{:.1}", x.map(at), y.map(line(slope, at, centre)));
        let _ = write!(
            out,
            r#"<polygon points="{} {} {} {}" fill="{colour}" fill-opacity="0.15" stroke="none"><title>lines with the interval's slopes {lo:.2} and {hi:.2}</title></polygon>"#,
            corner(hi, x0),
            corner(hi, x1),
            corner(lo, x1),
            corner(lo, x0)
        );
        let _ = write!(
            out,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"><title>fit: exponent {b:.2}</title></line>"#,
            x.map(x0),
            y.map(line(b, x0, centre)),
            x.map(x1),
            y.map(line(b, x1, centre))
        );
    }
    for (size, value) in points {
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"><title>{} items: {}</title></circle>"#,
            x.map(size.ln()),
            y.map(value.ln()),
            format::count(*size as u64),
            escape(&format::value(unit, *value))
        );
    }
    out.push_str("</svg>");
    out
}

/// The smallest and largest of `values` (0 and 1 when there are none).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
}

/// Ticks at each step's size on x; on y at the smallest and largest value and at
/// the powers of ten between them.
fn axes(
    out: &mut String,
    x: &Scale,
    y: &Scale,
    points: &[(f64, f64)],
    unit: crate::units::Unit,
    y_domain: (f64, f64),
) {
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" x2="{}" y1="{base}" y2="{base}" class="axisline"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}" class="axisline"/>"#,
        WIDTH - RIGHT
    );
    for (size, _) in points {
        let px = x.map(size.ln());
        let _ = write!(
            out,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{base}" class="grid"/><text x="{px:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
            base + 15.0,
            format::count(*size as u64)
        );
    }
    let mut ticks: Vec<f64> = Vec::new();
    let (lo, hi) = bounds(points.iter().map(|p| p.1));
    ticks.extend([lo, hi]);
    let mut decade = 10f64.powf(y_domain.0.exp().log10().ceil());
    while decade.ln() <= y_domain.1 && ticks.len() < 8 {
        ticks.push(decade);
        decade *= 10.0;
    }
    for v in ticks {
        let py = y.map(v.ln());
        grid_line(out, (LEFT, WIDTH - RIGHT), py, &format::value(unit, v));
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end" class="axis">items held (log scale)</text>"#,
        WIDTH - RIGHT,
        HEIGHT - 2.0
    );
}

/// The HTML section of every scaling phase (tables and charts); empty without any.
pub(super) fn section(model: &super::ReportModel) -> String {
    let mut out = String::new();
    for summary in &model.scaling {
        let _ = writeln!(out, "<section><h2>Scaling {}</h2>", escape(&summary.phase));
        for (header, rows) in [
            super::scaling::step_rows(summary),
            super::scaling::fit_rows(summary),
        ] {
            out.push_str("<table><thead><tr>");
            for h in header {
                let _ = write!(out, "<th>{}</th>", escape(h));
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for c in row {
                    let _ = write!(out, "<td>{}</td>", escape(&c));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>\n");
        }
        let _ = write!(
            out,
            "<p class=\"note\">{}</p>\n{}</section>\n",
            escape(&super::scaling::note(summary)),
            figures(summary)
        );
    }
    out
}

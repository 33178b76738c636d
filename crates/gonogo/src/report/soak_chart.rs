//! The soak-trend charts: per leak-checked resource of a soak phase, the samples, the
//! rolling minimum the fit reads, the Theil–Sen line and the lines of its 95%
//! interval, with the slope, interval and projection in the caption.
//!
//! Owns: the report rows of a trend (built with `evaluate::trend_points` and
//! `evaluate::leak_trend`, exactly what the leak findings read) and their SVG.
//! Does not own: the statistics (`stats`, `evaluate::soak`).
//! Pure: no I/O, no clock.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::evaluate::{self, LEAK_CONFIDENCE};
use crate::model::{Finding, LeakResource, ResourceSample, RunEvidence};
use crate::plan::{LeakPlan, Plan};
use crate::stats;

use super::html::{downsampling_note, escape};
use super::lttb::lttb;
use super::model::SeriesData;
use super::plot::{Frame, legend, polyline, section, upper_first};
use super::svg::{PALETTE, Scale};
use super::timeline::series;
use crate::units::format;

/// The trend of one resource over a soak phase's measured window.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SoakTrend {
    /// Chart id in the HTML page (`soak-<phase>-<resource>`).
    pub id: String,
    /// The soak phase.
    pub phase: String,
    /// `rss`, `fds` or `threads`.
    pub resource: String,
    /// Unit of the values: `bytes` or `count`.
    pub unit: String,
    /// Length of the trailing rolling minimum, seconds.
    pub window_seconds: f64,
    /// The samples after the warm-up while the service ran.
    pub samples: SeriesData,
    /// The rolling minimum the fit reads.
    pub rolling_min: SeriesData,
    /// The fitted line; null with fewer than 3 points.
    pub fit: Option<TrendFit>,
    /// The fit in one sentence (slope, interval, test, projection, leak rule).
    pub summary: String,
}

/// A Theil–Sen fit of a rolling minimum.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TrendFit {
    /// Slope per hour, with the bounds of its interval.
    pub slope_per_hour: f64,
    /// Lower bound of the slope's interval, per hour.
    pub lower_per_hour: f64,
    /// Upper bound of the slope's interval, per hour.
    pub upper_per_hour: f64,
    /// Coverage of the interval (0.95).
    pub confidence: f64,
    /// The line's value at the horizon, and the same for the interval's bounds.
    pub projected: f64,
    /// Projection with the lower slope.
    pub projected_lower: f64,
    /// Projection with the upper slope.
    pub projected_upper: f64,
    /// Whether the leak rule flagged the growth.
    pub detected: bool,
    /// The fitted line at the first and last point, `[seconds, value]`.
    pub line: [[f64; 2]; 2],
    /// The line of the interval's lower slope (through the median of the residuals).
    pub lower_line: [[f64; 2]; 2],
    /// The line of the interval's upper slope.
    pub upper_line: [[f64; 2]; 2],
}

/// A trend chart for every resource a leak finding judged, per soak phase.
pub(super) fn build(
    evidence: &RunEvidence,
    findings: &[Finding],
    plan: Option<&Plan>,
    cap: usize,
) -> Vec<SoakTrend> {
    let mut checked: Vec<(&str, LeakResource)> = Vec::new();
    for finding in findings {
        if let Some((resource, _)) = finding.metric.leak()
            && !checked.contains(&(finding.phase.as_str(), resource))
        {
            checked.push((&finding.phase, resource));
        }
    }
    evidence
        .phases
        .iter()
        .flat_map(|phase| {
            LeakResource::ALL
                .into_iter()
                .filter(|r| checked.contains(&(phase.name.as_str(), *r)))
                .map(move |resource| (phase, resource))
        })
        .map(|(phase, resource)| {
            let leak = plan
                .and_then(|p| p.phases.iter().find(|p| p.name == phase.name))
                .and_then(|p| p.leak)
                .unwrap_or_default();
            let window = evaluate::phase_samples(evidence, phase);
            trend(&phase.name, resource, &window.samples, &leak, cap)
        })
        .collect()
}

fn level(resource: LeakResource, sample: &ResourceSample) -> f64 {
    match resource {
        LeakResource::Rss => sample.rss_bytes as f64,
        LeakResource::Fds => sample.open_fds as f64,
        LeakResource::Threads => sample.threads as f64,
    }
}

fn trend(
    phase: &str,
    resource: LeakResource,
    samples: &[&ResourceSample],
    leak: &LeakPlan,
    cap: usize,
) -> SoakTrend {
    let raw: Vec<[f64; 2]> = samples
        .iter()
        .map(|s| [s.at.as_secs_f64(), level(resource, s)])
        .collect();
    let points = evaluate::trend_points(samples, resource, leak);
    let minimum: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x, y]).collect();
    let fit = evaluate::leak_trend(samples, resource, leak).and_then(|t| {
        let ts = stats::theil_sen(&points, LEAK_CONFIDENCE)?;
        let (first, last) = (points.first()?.0, points.last()?.0);
        let line = |slope: f64, intercept: f64| {
            [
                [first, intercept + slope * first],
                [last, intercept + slope * last],
            ]
        };
        Some(TrendFit {
            slope_per_hour: t.slope,
            lower_per_hour: t.lower,
            upper_per_hour: t.upper,
            confidence: LEAK_CONFIDENCE,
            projected: t.projected,
            projected_lower: t.projected_lower,
            projected_upper: t.projected_upper,
            detected: t.detected,
            line: line(ts.slope, ts.intercept),
            lower_line: line(ts.lower, median_residual(&points, ts.lower)),
            upper_line: line(ts.upper, median_residual(&points, ts.upper)),
        })
    });
    let summary = evaluate::leak_trend(samples, resource, leak).map_or_else(
        || {
            format!(
                "fewer than 3 points of the rolling minimum: no trend ({} samples)",
                format::count(samples.len() as u64)
            )
        },
        |t| t.summary(leak),
    );
    let mut samples = series("samples", raw);
    samples.points = lttb(&samples.points, cap);
    let mut rolling_min = series("rolling minimum", minimum);
    rolling_min.points = lttb(&rolling_min.points, cap);
    SoakTrend {
        id: format!("soak-{phase}-{}", resource.name()),
        phase: phase.to_string(),
        resource: resource.name().to_string(),
        unit: match resource {
            LeakResource::Rss => "bytes",
            LeakResource::Fds | LeakResource::Threads => "count",
        }
        .to_string(),
        window_seconds: leak.window.as_secs_f64(),
        samples,
        rolling_min,
        fit,
        summary,
    }
}

/// median(yᵢ − slope·xᵢ): the intercept of a line of `slope` through the points.
fn median_residual(points: &[stats::Point], slope: f64) -> f64 {
    let mut residuals: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    residuals.sort_by(f64::total_cmp);
    match residuals.len() {
        0 => 0.0,
        n if n % 2 == 1 => residuals[n / 2],
        n => (residuals[n / 2 - 1] + residuals[n / 2]) / 2.0,
    }
}

impl SoakTrend {
    /// The chart's headline in words: the fit's summary.
    pub(super) fn headline(&self) -> String {
        format!(
            "Soak trend of {} in phase {}: {}",
            self.resource, self.phase, self.summary
        )
    }
}

/// The soak section of the HTML page; nothing without leak findings.
pub(super) fn render(trends: &[SoakTrend], cap: u32, out: &mut String) {
    section(out, "soak", "Soak trends", trends, |trend, out| {
        let _ = write!(
            out,
            "<figure id=\"chart-{}\" class=\"soak-chart\"><h3>Phase {}: {} trend</h3>",
            escape(&trend.id),
            escape(&trend.phase),
            escape(&trend.resource)
        );
        chart(trend, out);
        legend(
            out,
            &[
                ("#9aa4b1", "samples"),
                (PALETTE[0], "rolling minimum"),
                (PALETTE[2], "Theil–Sen fit"),
                ("#cc331166", "95% interval of the slope"),
            ],
        );
        let _ = writeln!(
            out,
            "<figcaption>{}. Rolling minimum over a trailing {}. {}</figcaption></figure>",
            escape(&upper_first(&trend.summary)),
            escape(&format::seconds(trend.window_seconds)),
            escape(&downsampling(trend, cap))
        );
    });
}

fn downsampling(trend: &SoakTrend, cap: u32) -> String {
    downsampling_note(
        &[&trend.samples, &trend.rolling_min],
        cap,
        "Every point is drawn.",
        "The fit uses the full series.",
    )
}

fn chart(trend: &SoakTrend, out: &mut String) {
    let values = trend
        .samples
        .points
        .iter()
        .chain(&trend.rolling_min.points)
        .map(|p| p[1])
        .chain(trend.fit.iter().flat_map(|f| {
            [f.line, f.lower_line, f.upper_line]
                .into_iter()
                .flatten()
                .map(|p| p[1])
        }))
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    // Leave room under the lowest value so a flat line is not drawn on the axis.
    let frame = Frame::new(240.0, &trend.unit, (lo - (hi - lo) * 0.1).max(0.0), hi);
    frame.open(
        out,
        "soak-trend",
        &format!("{} trend of phase {}", trend.resource, trend.phase),
    );
    let xs = trend.samples.points.iter().map(|p| p[0]);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (x_lo, x_hi) = if x_lo.is_finite() {
        (x_lo, x_hi)
    } else {
        (0.0, 1.0)
    };
    let x = Scale::new((x_lo, x_hi), frame.x_range());
    let px = |p: &[f64; 2]| (x.map(p[0]), frame.y.map(p[1]));
    if let Some(fit) = &trend.fit {
        // The band between the interval's lines.
        let corners = [
            fit.lower_line[0],
            fit.lower_line[1],
            fit.upper_line[1],
            fit.upper_line[0],
        ];
        out.push_str(r#"<polygon class="ci-band" points=""#);
        for (i, c) in corners.iter().enumerate() {
            let (cx, cy) = px(c);
            let _ = write!(out, "{}{cx:.1},{cy:.1}", if i > 0 { " " } else { "" });
        }
        out.push_str(r#""/>"#);
        for line in [fit.lower_line, fit.upper_line] {
            polyline(out, &line.map(|p| px(&p)), "ci-line", PALETTE[2]);
        }
    }
    let points: Vec<(f64, f64)> = trend.samples.points.iter().map(px).collect();
    polyline(out, &points, "samples", "#9aa4b1");
    let points: Vec<(f64, f64)> = trend.rolling_min.points.iter().map(px).collect();
    polyline(out, &points, "rolling-min", PALETTE[0]);
    if let Some(fit) = &trend.fit {
        polyline(out, &fit.line.map(|p| px(&p)), "fit-line", PALETTE[2]);
    }
    let span = x_hi - x_lo;
    let step = super::svg::nice_step(span.max(1.0), 8);
    let mut t = (x_lo / step).ceil() * step;
    while t <= x_hi + 1e-9 {
        frame.x_tick(out, x.map(t), &format::seconds(t));
        t += step;
    }
    frame.close(out, "time since the run started");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::fixtures::sample;

    #[test]
    fn a_growing_resource_gets_its_fit_and_interval_lines_around_the_slope() {
        // 1 KiB per second on 20 MiB, sampled 5 times a second for a minute.
        let owned: Vec<ResourceSample> = (0..300)
            .map(|i| {
                let at = f64::from(i) * 0.2;
                sample(at, 1, (20 << 20) + (at * 1024.0) as u64, 0.0)
            })
            .collect();
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        let leak = LeakPlan {
            window: std::time::Duration::from_secs(2),
            ..LeakPlan::default()
        };
        let trend = trend("soak", LeakResource::Rss, &refs, &leak, 50);
        let fit = trend.fit.as_ref().unwrap();
        assert!(
            (fit.slope_per_hour - 1024.0 * 3600.0).abs() < 1024.0 * 36.0,
            "{fit:?}"
        );
        assert!(
            fit.lower_per_hour <= fit.slope_per_hour && fit.slope_per_hour <= fit.upper_per_hour
        );
        // The fitted line rises by the slope over the points' span.
        let rise = fit.line[1][1] - fit.line[0][1];
        let hours = (fit.line[1][0] - fit.line[0][0]) / 3600.0;
        assert!((rise - fit.slope_per_hour * hours).abs() < 1.0);
        assert!(trend.samples.downsampled() && trend.samples.points.len() == 50);
        let mut html = String::new();
        render(std::slice::from_ref(&trend), 50, &mut html);
        assert!(html.contains("id=\"chart-soak-soak-rss\""));
        assert!(html.contains("class=\"ci-band\"") && html.contains("class=\"fit-line\""));
        assert!(html.contains("Downsampled for display"));
        assert!(html.contains("95% CI"), "slope ± CI in the caption");
    }
}

//! Leak metrics of soak phases: the trend of RSS, open file descriptors and threads
//! after the warm-up, and whether it is a leak.
//!
//! Owns: the series read (resource samples of the measured window while the service
//! ran), the rolling minimum taken first (so that a garbage-collected sawtooth is not
//! read as growth), the Theil–Sen slope with Sen's 95% interval and the Mann–Kendall
//! test on it (`stats::trend`), the projection at the horizon, and the leak rule.
//! Does not own: the comparison with a criterion's threshold (`evaluate::conclude`).
//!
//! The leak rule: a resource leaks when the 95% interval of its growth excludes zero
//! (lower bound above 0) **and** the estimated growth is at least the phase's bound
//! (`leak.rss`, `leak.fds`, `leak.threads`). The first part says the growth is real,
//! the second that it matters; a one-time growth that plateaus before the measured
//! window has a flat rolling minimum and is not flagged.

use super::Measurement;
use super::resource::{PhaseSamples, phase_samples};
use crate::model::{
    ConfidenceInterval, Doubt, LeakFigure, LeakResource, PhaseRecord, ResourceSample, RunEvidence,
};
use crate::plan::{CriterionPlan, LeakPlan};
use crate::stats;
use crate::units::format;

/// Coverage of the slope's confidence interval.
pub const LEAK_CONFIDENCE: f64 = 0.95;

const SECONDS_PER_HOUR: f64 = 3600.0;

/// The trend of one resource over a soak phase's measured window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakTrend {
    pub resource: LeakResource,
    /// Points of the rolling minimum the fit read.
    pub points: usize,
    /// Theil–Sen slope per hour, with the bounds of its 95% interval.
    pub slope: f64,
    pub lower: f64,
    pub upper: f64,
    /// Two-sided Mann–Kendall p-value of a monotonic trend in the rolling minimum.
    pub mann_kendall_p: f64,
    /// The fitted line's value at the last point.
    pub level: f64,
    /// `level + slope × horizon`, with the same for the interval's bounds (the
    /// uncertainty of the level itself is not included).
    pub projected: f64,
    pub projected_lower: f64,
    pub projected_upper: f64,
    /// The leak rule's verdict (see the module docs).
    pub detected: bool,
    /// The growth bound per hour it was judged against.
    pub bound: f64,
}

fn level_of(resource: LeakResource, sample: &ResourceSample) -> f64 {
    match resource {
        LeakResource::Rss => sample.rss_bytes as f64,
        LeakResource::Fds => sample.open_fds as f64,
        LeakResource::Threads => sample.threads as f64,
    }
}

/// The rolling-minimum series of `resource` over `samples` (seconds since run start,
/// level), thinned to [`stats::MAX_TREND_POINTS`].
pub fn trend_points(
    samples: &[&ResourceSample],
    resource: LeakResource,
    plan: &LeakPlan,
) -> Vec<stats::Point> {
    let raw: Vec<stats::Point> = samples
        .iter()
        .map(|s| (s.at.as_secs_f64(), level_of(resource, s)))
        .collect();
    let minimum = stats::rolling_min(&raw, plan.window.as_secs_f64());
    stats::thin(&minimum, stats::MAX_TREND_POINTS)
}

/// Fit the trend of `resource` and apply the leak rule; `None` when the series has
/// fewer than 3 points at distinct times.
pub fn leak_trend(
    samples: &[&ResourceSample],
    resource: LeakResource,
    plan: &LeakPlan,
) -> Option<LeakTrend> {
    let points = trend_points(samples, resource, plan);
    let fit = stats::theil_sen(&points, LEAK_CONFIDENCE)?;
    let test = stats::mann_kendall(&points)?;
    let last_x = points.last()?.0;
    let level = fit.intercept + fit.slope * last_x;
    let hours = plan.horizon.as_secs_f64() / SECONDS_PER_HOUR;
    let (slope, lower, upper) = (
        fit.slope * SECONDS_PER_HOUR,
        fit.lower * SECONDS_PER_HOUR,
        fit.upper * SECONDS_PER_HOUR,
    );
    let bound = plan.bound(resource);
    Some(LeakTrend {
        resource,
        points: points.len(),
        slope,
        lower,
        upper,
        mann_kendall_p: test.p_value,
        level,
        projected: level + slope * hours,
        projected_lower: level + lower * hours,
        projected_upper: level + upper * hours,
        detected: lower > 0.0 && slope >= bound,
        bound,
    })
}

impl LeakTrend {
    /// One sentence with the figures: slope and interval, test, projection, rule.
    pub fn summary(&self, plan: &LeakPlan) -> String {
        let rate = self.resource.rate_unit();
        let unit = self.resource.unit();
        let rule = if self.detected {
            "a leak: the interval excludes zero and the growth is at least"
        } else if self.lower > 0.0 {
            "not a leak: the growth is real but below"
        } else {
            "not a leak: the interval includes zero, within"
        };
        format!(
            "{} grew by {} (Theil–Sen, 95% CI {}; Mann–Kendall p {}) over {} points of its {} \
             rolling minimum, projected to {} after {} more ({}); {rule} the bound of {}",
            self.resource.name(),
            format::value(rate, self.slope),
            format::interval(rate, self.lower, self.upper),
            p_value(self.mann_kendall_p),
            format::count(self.points as u64),
            format::duration(plan.window),
            format::value(unit, self.projected),
            hours(plan.horizon),
            format::interval(unit, self.projected_lower, self.projected_upper),
            format::value(rate, self.bound),
        )
    }
}

/// `= 0.0312`, or `< 0.0001` for smaller values.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".to_string()
    } else {
        format!("= {}", format::sig3(p))
    }
}

/// A horizon in hours: `24 h`, `0.500 h`.
fn hours(horizon: std::time::Duration) -> String {
    let hours = horizon.as_secs_f64() / SECONDS_PER_HOUR;
    if hours.fract() == 0.0 {
        format!("{hours} h")
    } else {
        format!("{} h", format::sig3(hours))
    }
}

/// Measure a `leak.*` criterion over a soak phase.
pub(super) fn measure(
    criterion: &CriterionPlan,
    (resource, figure): (LeakResource, LeakFigure),
    phase: &PhaseRecord,
    plan: &LeakPlan,
    evidence: &RunEvidence,
) -> Measurement {
    let PhaseSamples { samples, window } = phase_samples(evidence, phase);
    let points = trend_points(&samples, resource, plan).len() as u64;
    let trend = leak_trend(&samples, resource, plan);
    let interval = |lower, upper| ConfidenceInterval {
        lower,
        upper,
        confidence: LEAK_CONFIDENCE,
    };
    let (observed, ci) = match (trend, figure) {
        (None, _) => (None, None),
        (Some(t), LeakFigure::Slope) => (Some(t.slope), Some(interval(t.lower, t.upper))),
        (Some(t), LeakFigure::SlopeUpper) => (Some(t.upper), None),
        (Some(t), LeakFigure::Detected) => (Some(if t.detected { 1.0 } else { 0.0 }), None),
        (Some(t), LeakFigure::Projected) => (
            Some(t.projected),
            Some(interval(t.projected_lower, t.projected_upper)),
        ),
    };
    let doubt = if points < criterion.min_samples || trend.is_none() {
        Some(Doubt::TooFewTrendPoints {
            resource: resource.name(),
            phase: phase.name.clone(),
            points,
            window: plan.window,
            samples: samples.len() as u64,
            need: criterion.min_samples.max(3),
        })
    } else {
        None
    };
    let basis = match &trend {
        Some(t) => format!("in phase {}: {}", phase.name, t.summary(plan)),
        None => format!("in phase {}", phase.name),
    };
    Measurement {
        observed,
        interval: ci,
        samples: points,
        window: Some(window),
        method: method(resource, figure, plan),
        basis,
        doubt,
    }
}

fn method(resource: LeakResource, figure: LeakFigure, plan: &LeakPlan) -> String {
    let series = format!(
        "the {} of the service's process tree, sampled after the warm-up while the service \
         ran, reduced to its trailing {} rolling minimum",
        match resource {
            LeakResource::Rss => "resident set size",
            LeakResource::Fds => "open file descriptors",
            LeakResource::Threads => "thread count",
        },
        format::duration(plan.window)
    );
    let slope = "Theil–Sen slope (median of pairwise slopes) per hour";
    match figure {
        LeakFigure::Slope => format!("{slope} of {series}, with Sen's 95% interval"),
        LeakFigure::SlopeUpper => {
            format!("upper bound of Sen's 95% interval of the {slope} of {series}")
        }
        LeakFigure::Detected => format!(
            "1 when Sen's 95% interval of the {slope} of {series} lies above zero and the slope \
             is at least {}, else 0",
            format::value(resource.rate_unit(), plan.bound(resource))
        ),
        LeakFigure::Projected => format!(
            "value of the Theil–Sen line of {series} at the phase's last point plus the slope \
             times {}",
            hours(plan.horizon)
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn samples(levels: impl Fn(f64) -> u64, seconds: u64) -> Vec<ResourceSample> {
        (0..seconds * 5)
            .map(|i| {
                let at = Duration::from_millis(i * 200);
                ResourceSample {
                    at,
                    processes: 1,
                    rss_bytes: levels(at.as_secs_f64()),
                    cpu_seconds: 0.0,
                    threads: 2,
                    open_fds: 8,
                    host_available_bytes: 1 << 30,
                }
            })
            .collect()
    }

    fn plan() -> LeakPlan {
        LeakPlan {
            window: Duration::from_secs(2),
            ..LeakPlan::default()
        }
    }

    #[test]
    fn a_steady_leak_is_detected_with_its_rate() {
        // 10 KiB per second = 36,000 KiB per hour, over a 20 MiB base.
        let owned = samples(|_| 20 << 20, 30)
            .into_iter()
            .map(|mut s| {
                s.rss_bytes += (s.at.as_secs_f64() * 10_240.0) as u64;
                s
            })
            .collect::<Vec<_>>();
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        let trend = leak_trend(&refs, LeakResource::Rss, &plan()).unwrap();
        let per_hour = 10_240.0 * 3600.0;
        assert!(
            (trend.slope - per_hour).abs() < per_hour * 0.01,
            "{trend:?}"
        );
        assert!(trend.lower > 0.0 && trend.detected);
        assert!(trend.mann_kendall_p < 1e-6);
        // Projected after 24 h: level at the end plus 24 × the hourly growth.
        let expected = trend.level + 24.0 * trend.slope;
        assert!((trend.projected - expected).abs() < 1.0);
    }

    #[test]
    fn a_gc_sawtooth_and_flat_counters_are_not_leaks() {
        // RSS climbs 1 MiB over each second and drops back: a sawtooth on a flat floor.
        let owned = samples(|t| (50 << 20) + ((t.fract() * 1_048_576.0) as u64), 30);
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        for resource in LeakResource::ALL {
            let trend = leak_trend(&refs, resource, &plan()).unwrap();
            assert!(!trend.detected, "{resource:?}: {trend:?}");
            assert_eq!(trend.slope, 0.0, "{resource:?}");
        }
    }

    #[test]
    fn real_growth_below_the_bound_is_not_a_leak() {
        // 100 bytes per second = 360,000 B/h, under the default 1 MiB/h bound.
        let owned = samples(|t| (10 << 20) + (t * 100.0) as u64, 30);
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        let trend = leak_trend(&refs, LeakResource::Rss, &plan()).unwrap();
        assert!(trend.lower > 0.0, "{trend:?}");
        assert!(!trend.detected);
        assert!(trend.summary(&plan()).contains("below the bound"));
    }

    #[test]
    fn too_few_samples_give_no_trend() {
        let owned = samples(|_| 1, 2);
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        // 10 samples over 2 s with a 2 s window leave at most one point.
        assert!(leak_trend(&refs, LeakResource::Rss, &plan()).is_none());
    }
}

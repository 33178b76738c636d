//! Leak metrics of soak phases: the trend of RSS, open file descriptors and threads
//! after the warm-up, and whether it is a leak.
//!
//! Owns: the series read (resource samples of the measured window while the service
//! ran), the rolling minimum taken first (so that a garbage-collected sawtooth is not
//! read as growth), the Theil–Sen slope with Sen's 95% interval and the Mann–Kendall
//! test on it (`stats::trend`), the projection at the horizon, and the leak rule.
//! Does not own: the comparison with a criterion's threshold (`evaluate::conclude`).
//!
//! The leak rule (docs/architecture.md, "Leak detection"): a resource's growth over the
//! whole window must be real (the lower bound of its 95% interval above 0) **and** at
//! least the phase's bound (`leak.rss`, `leak.fds`, `leak.threads`), as before. Such
//! growth is then read in thirds: the Theil–Sen slope with Sen's interval of the first
//! and of the last third of the trend's span. When the late interval lies wholly below
//! the early one the growth has slowed: if the late third is also flat (its interval
//! contains 0, or its upper bound is below the bound) the growth stopped before the end
//! and is a **plateau**, not a leak; if not, the service is still warming up and the
//! findings are INCONCLUSIVE (`Doubt::StillWarmingUp`). Otherwise it is a **leak**.
//! A one-time growth that ends inside the warm-up has a flat rolling minimum and never
//! reaches the thirds.

use super::Measurement;
use super::resource::{PhaseSamples, phase_samples};
use crate::model::{
    ConfidenceInterval, Doubt, LeakFigure, LeakResource, LeakSlope, PhaseRecord, ResourceSample,
    RunEvidence,
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
    /// The slopes of the first and the last third of the trend's span (`None` when a
    /// third has fewer than 3 points, or the whole-window growth was not a candidate).
    pub early: Option<LeakSlope>,
    pub late: Option<LeakSlope>,
    /// The leak rule's verdict (see the module docs).
    pub verdict: LeakVerdict,
    /// The fitted line's value at the last point (of the late third's line for a
    /// plateau).
    pub level: f64,
    /// `level + growth × horizon`, with the same for the interval's bounds (the
    /// uncertainty of the level itself is not included); the growth is the
    /// [`LeakTrend::persisting`] one.
    pub projected: f64,
    pub projected_lower: f64,
    pub projected_upper: f64,
    /// `verdict == LeakVerdict::Leak`.
    pub detected: bool,
    /// The growth bound per hour it was judged against.
    pub bound: f64,
}

/// What the leak rule made of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakVerdict {
    /// The interval of the whole window's growth includes zero.
    NoGrowth,
    /// Real growth, below the bound.
    BelowBound,
    /// Growth above the bound that stopped: the late third is flat.
    Plateau,
    /// Growth above the bound that slowed but had not stopped (INCONCLUSIVE).
    WarmingUp,
    /// Growth above the bound that persists to the end of the window.
    Leak,
}

/// The leak rule over the whole window's growth and the thirds' (module docs).
pub fn leak_verdict(
    whole: LeakSlope,
    early: Option<LeakSlope>,
    late: Option<LeakSlope>,
    bound: f64,
) -> LeakVerdict {
    if whole.lower <= 0.0 {
        return LeakVerdict::NoGrowth;
    }
    if whole.slope < bound {
        return LeakVerdict::BelowBound;
    }
    let (Some(early), Some(late)) = (early, late) else {
        return LeakVerdict::Leak;
    };
    let slowed = late.upper < early.lower;
    let flat = late.lower <= 0.0 || late.upper < bound;
    match (slowed, flat) {
        (true, true) => LeakVerdict::Plateau,
        (true, false) => LeakVerdict::WarmingUp,
        (false, _) => LeakVerdict::Leak,
    }
}

/// Theil–Sen fits (per second) of the first and the last third of the span of
/// `points`; a third with fewer than 3 points has none.
fn thirds(points: &[stats::Point]) -> (Option<stats::TheilSen>, Option<stats::TheilSen>) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (None, None);
    };
    let third = (last.0 - first.0) / 3.0;
    let fit = |part: Vec<stats::Point>| stats::theil_sen(&part, LEAK_CONFIDENCE);
    (
        fit(points
            .iter()
            .copied()
            .filter(|p| p.0 <= first.0 + third)
            .collect()),
        fit(points
            .iter()
            .copied()
            .filter(|p| p.0 >= last.0 - third)
            .collect()),
    )
}

fn per_hour(fit: &stats::TheilSen) -> LeakSlope {
    LeakSlope {
        slope: fit.slope * SECONDS_PER_HOUR,
        lower: fit.lower * SECONDS_PER_HOUR,
        upper: fit.upper * SECONDS_PER_HOUR,
    }
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
    let whole = per_hour(&fit);
    let bound = plan.bound(resource);
    let (early, late) = if whole.lower > 0.0 && whole.slope >= bound {
        thirds(&points)
    } else {
        (None, None)
    };
    let verdict = leak_verdict(
        whole,
        early.as_ref().map(per_hour),
        late.as_ref().map(per_hour),
        bound,
    );
    let line = match (verdict, &late) {
        (LeakVerdict::Plateau, Some(late)) => late,
        _ => &fit,
    };
    let level = line.intercept + line.slope * last_x;
    let growth = per_hour(line);
    let hours = plan.horizon.as_secs_f64() / SECONDS_PER_HOUR;
    Some(LeakTrend {
        resource,
        points: points.len(),
        slope: whole.slope,
        lower: whole.lower,
        upper: whole.upper,
        mann_kendall_p: test.p_value,
        early: early.as_ref().map(per_hour),
        late: late.as_ref().map(per_hour),
        verdict,
        level,
        projected: level + growth.slope * hours,
        projected_lower: level + growth.lower * hours,
        projected_upper: level + growth.upper * hours,
        detected: verdict == LeakVerdict::Leak,
        bound,
    })
}

impl LeakTrend {
    /// The growth that persists at the end of the window: the late third's for a
    /// plateau (the whole window's slope describes a growth that has stopped), else
    /// the whole window's.
    pub fn persisting(&self) -> LeakSlope {
        match (self.verdict, self.late) {
            (LeakVerdict::Plateau, Some(late)) => late,
            _ => LeakSlope {
                slope: self.slope,
                lower: self.lower,
                upper: self.upper,
            },
        }
    }

    /// One sentence with the figures: slope and interval, test, projection, rule.
    pub fn summary(&self, plan: &LeakPlan) -> String {
        let rate = self.resource.rate_unit();
        let unit = self.resource.unit();
        let rule = match self.verdict {
            LeakVerdict::Leak => "a leak: the interval excludes zero and the growth is at least",
            LeakVerdict::BelowBound => "not a leak: the growth is real but below",
            LeakVerdict::NoGrowth => "not a leak: the interval includes zero, within",
            LeakVerdict::Plateau => "not a leak but a plateau: the growth stopped, below",
            LeakVerdict::WarmingUp => "undecided: still warming up, judged against",
        };
        format!(
            "{} grew by {} (Theil–Sen, 95% CI {}; Mann–Kendall p {}) over {} points of its {} \
             rolling minimum, projected to {} after {} more ({}); {rule} the bound of {}{}",
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
            self.thirds_words(),
        )
    }

    /// `; first third …, last third …` when the growth slowed (a plateau or warming
    /// up); a leak's words are those of the whole window.
    fn thirds_words(&self) -> String {
        let slowed = matches!(self.verdict, LeakVerdict::Plateau | LeakVerdict::WarmingUp);
        match (self.early, self.late) {
            (Some(early), Some(late)) if slowed => format!(
                "; first third {}, last third {}",
                early.words(self.resource),
                late.words(self.resource)
            ),
            _ => String::new(),
        }
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
        (Some(t), LeakFigure::Slope) => {
            let g = t.persisting();
            (Some(g.slope), Some(interval(g.lower, g.upper)))
        }
        (Some(t), LeakFigure::SlopeUpper) => (Some(t.persisting().upper), None),
        (Some(t), LeakFigure::Detected) => (Some(if t.detected { 1.0 } else { 0.0 }), None),
        (Some(t), LeakFigure::Projected) => (
            Some(t.projected),
            Some(interval(t.projected_lower, t.projected_upper)),
        ),
    };
    let doubt = match trend {
        _ if points < criterion.min_samples || trend.is_none() => Some(Doubt::TooFewTrendPoints {
            resource: resource.name(),
            phase: phase.name.clone(),
            points,
            window: plan.window,
            samples: samples.len() as u64,
            need: criterion.min_samples.max(3),
        }),
        Some(LeakTrend {
            verdict: LeakVerdict::WarmingUp,
            early: Some(early),
            late: Some(late),
            ..
        }) => Some(Doubt::StillWarmingUp {
            resource,
            phase: phase.name.clone(),
            early,
            late,
        }),
        _ => None,
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
        method: method(resource, figure, plan, trend.map(|t| t.verdict)),
        basis,
        doubt,
    }
}

fn method(
    resource: LeakResource,
    figure: LeakFigure,
    plan: &LeakPlan,
    verdict: Option<LeakVerdict>,
) -> String {
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
    let base = match figure {
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
    };
    match verdict {
        Some(LeakVerdict::Plateau | LeakVerdict::WarmingUp) => format!(
            "{base}; the growth slowed (the 95% interval of the last third's slope lies below \
             the first third's), so it is a plateau, not a leak, when the last third is flat \
             (its interval contains zero or lies below the bound; slope and projection then \
             read the last third), and still warming up otherwise"
        ),
        _ => base,
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
        assert_eq!(trend.verdict, LeakVerdict::Leak);
        let (early, late) = (trend.early.unwrap(), trend.late.unwrap());
        assert!(late.upper >= early.lower, "not slowed: {early:?} {late:?}");
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
            assert_eq!(trend.verdict, LeakVerdict::NoGrowth);
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

    /// The trend of RSS levels `level(t)` over 30 s sampled every 200 ms.
    fn rss_trend(level: impl Fn(f64) -> f64) -> LeakTrend {
        let owned = samples(|t| level(t) as u64, 30);
        let refs: Vec<&ResourceSample> = owned.iter().collect();
        let trend = leak_trend(&refs, LeakResource::Rss, &plan()).unwrap();
        eprintln!("{}", trend.summary(&plan()));
        trend
    }

    #[test]
    fn growth_that_stops_before_the_end_is_a_plateau() {
        // 100 KiB/s (351.6 MiB/h) for 15 s over a 20 MiB base, then flat: the whole
        // window's slope is far above the 1 MiB/h bound, the last third is flat.
        let trend = rss_trend(|t| (20 << 20) as f64 + 102_400.0 * t.min(15.0));
        assert!(trend.lower > 0.0 && trend.slope >= trend.bound, "{trend:?}");
        assert_eq!(trend.verdict, LeakVerdict::Plateau, "{trend:?}");
        assert!(!trend.detected);
        let late = trend.late.unwrap();
        assert_eq!((late.slope, late.lower, late.upper), (0.0, 0.0, 0.0));
        let early = trend.early.unwrap();
        assert!((early.slope - 102_400.0 * 3600.0).abs() < 1.0, "{early:?}");
        // The persisting growth is the late third's; the projection stays level.
        assert_eq!(trend.persisting(), late);
        assert_eq!(trend.projected, trend.level);
        assert_eq!(trend.level, (20 << 20) as f64 + 102_400.0 * 15.0);
        assert!(trend.summary(&plan()).contains("a plateau"));
    }

    #[test]
    fn growth_that_slows_but_does_not_stop_is_still_warming_up() {
        // 10 MiB approached exponentially with a 15 s time constant: the rate falls
        // from about 600 KiB/s to about 90 KiB/s, still far above the bound.
        let trend = rss_trend(|t| (20 << 20) as f64 + 10_485_760.0 * (1.0 - (-t / 15.0).exp()));
        assert_eq!(trend.verdict, LeakVerdict::WarmingUp, "{trend:?}");
        assert!(!trend.detected);
        let (early, late) = (trend.early.unwrap(), trend.late.unwrap());
        assert!(late.upper < early.lower && late.lower > 0.0 && late.upper >= trend.bound);
        let doubt = Doubt::StillWarmingUp {
            resource: LeakResource::Rss,
            phase: "soak".to_string(),
            early,
            late,
        }
        .to_string();
        assert!(doubt.contains("still warming up"), "{doubt}");
        assert!(doubt.contains(&early.words(LeakResource::Rss)), "{doubt}");
        assert!(doubt.contains(&late.words(LeakResource::Rss)), "{doubt}");
    }

    #[test]
    fn the_rule_reads_the_thirds_only_for_growth_above_the_bound() {
        let s = |slope, lower, upper| LeakSlope {
            slope,
            lower,
            upper,
        };
        let bound = 10.0;
        let early = Some(s(100.0, 90.0, 110.0));
        let verdict = |whole, late| leak_verdict(whole, early, late, bound);
        assert_eq!(verdict(s(1.0, -1.0, 3.0), None), LeakVerdict::NoGrowth);
        assert_eq!(verdict(s(5.0, 1.0, 9.0), None), LeakVerdict::BelowBound);
        // No thirds to read: the whole window decides, as before.
        assert_eq!(verdict(s(50.0, 40.0, 60.0), None), LeakVerdict::Leak);
        // Late below early and flat: containing 0, or wholly under the bound.
        let plateau = [s(0.0, -2.0, 3.0), s(5.0, 1.0, 9.0)];
        for late in plateau {
            assert_eq!(
                verdict(s(50.0, 40.0, 60.0), Some(late)),
                LeakVerdict::Plateau
            );
        }
        let warming = s(40.0, 30.0, 50.0);
        assert_eq!(
            verdict(s(50.0, 40.0, 60.0), Some(warming)),
            LeakVerdict::WarmingUp
        );
        // Late overlapping early: the growth persists, even when its interval is wide.
        for late in [s(100.0, 95.0, 105.0), s(60.0, -5.0, 95.0)] {
            assert_eq!(verdict(s(50.0, 40.0, 60.0), Some(late)), LeakVerdict::Leak);
        }
    }
}

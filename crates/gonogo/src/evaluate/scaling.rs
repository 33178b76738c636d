//! Scaling metrics of scaling phases: per step (one data set size) the latency
//! percentiles, the throughput and the service's largest RSS, and for each quantity
//! the exponent b of quantity ≈ a·size^b with its 95% confidence interval.
//!
//! Owns: reading a scaling phase's stored steps ([`scaling`]), the classification of
//! an exponent's interval ([`classify`], [`LINEAR_TOLERANCE`]), the rule that a
//! generator-bound step or fewer than three measured steps leave the exponents
//! undecided, and the `scaling.*` criteria. Does not own: the regression
//! (`stats::log_log`), running the steps (`run::scaling`) or the comparison with a
//! criterion's threshold (`evaluate::conclude`).
//!
//! Method: ordinary least squares of ln(quantity) on ln(size) over the measured
//! steps; the exponent's interval is b ± t(0.975, n − 2)·se (Student t with n − 2
//! degrees of freedom), see `stats::regression`.

use std::fmt::Write as _;

use super::Measurement;
use super::load::{generator_bound, measured_time, merge};
use super::resource::phase_samples;
use crate::model::{
    ConfidenceInterval, EventKind, IntervalRecord, PhaseRecord, RunEvidence, Window,
};
use crate::model::{Doubt, ScalingFigure, ScalingQuantity};
use crate::stats::{self, LinearFit};
use crate::units::format;

/// Coverage of the exponent's confidence interval.
pub const SCALING_CONFIDENCE: f64 = 0.95;

/// Half-width of the band around 1 that counts as linear: an interval inside
/// [1 − tol, 1 + tol] is linear, one entirely below 1 − tol sub-linear, one entirely
/// above 1 + tol super-linear; anything else is undetermined.
pub const LINEAR_TOLERANCE: f64 = 0.1;

/// Fewest measured steps for a fit with an interval.
pub const MIN_STEPS: usize = 3;

/// What an exponent's interval supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    SubLinear,
    Linear,
    SuperLinear,
    /// The interval straddles a boundary: the data cannot tell.
    Undetermined,
}

impl Classification {
    /// `sub-linear`, `linear`, `super-linear` or `undetermined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::SubLinear => "sub-linear",
            Classification::Linear => "linear",
            Classification::SuperLinear => "super-linear",
            Classification::Undetermined => "undetermined",
        }
    }
}

/// Classify an exponent's confidence interval `[lower, upper]`.
pub fn classify(lower: f64, upper: f64) -> Classification {
    if !(lower.is_finite() && upper.is_finite()) {
        Classification::Undetermined
    } else if upper < 1.0 - LINEAR_TOLERANCE {
        Classification::SubLinear
    } else if lower > 1.0 + LINEAR_TOLERANCE {
        Classification::SuperLinear
    } else if lower >= 1.0 - LINEAR_TOLERANCE && upper <= 1.0 + LINEAR_TOLERANCE {
        Classification::Linear
    } else {
        Classification::Undetermined
    }
}

/// One stored step of a scaling phase and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingStep<'a> {
    pub record: &'a PhaseRecord,
    /// Items the service held during the step.
    pub size: u64,
    /// Completed measured requests.
    pub requests: u64,
    pub latency_p50: Option<f64>,
    pub latency_p99: Option<f64>,
    /// Completed requests per second over the measured time.
    pub throughput: Option<f64>,
    /// Largest RSS of the service's process tree during the measured part, bytes.
    pub rss: Option<f64>,
    /// Measured intervals in which the load generator fell behind.
    pub generator_bound: u32,
}

impl ScalingStep<'_> {
    /// The step's value of `quantity`, in its unit.
    pub fn value(&self, quantity: ScalingQuantity) -> Option<f64> {
        match quantity {
            ScalingQuantity::LatencyP50 => self.latency_p50,
            ScalingQuantity::LatencyP99 => self.latency_p99,
            ScalingQuantity::Throughput => self.throughput,
            ScalingQuantity::Rss => self.rss,
        }
    }

    /// Whether the step measured anything (requests completed after the warm-up).
    pub fn measured(&self) -> bool {
        self.requests > 0
    }
}

/// The fit of one quantity against size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantityFit {
    pub quantity: ScalingQuantity,
    /// `None` with fewer than three usable steps or when the steps are not evidence
    /// about the service (see [`Scaling::doubt`]).
    pub fit: Option<LinearFit>,
    pub classification: Classification,
}

/// A scaling phase's stored steps and the fit of each quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling<'a> {
    pub steps: Vec<ScalingStep<'a>>,
    pub fits: Vec<QuantityFit>,
    /// Why no exponent is given at all (generator-bound steps, too few steps).
    pub doubt: Option<Doubt>,
}

impl Scaling<'_> {
    /// The fit of `quantity`.
    pub fn fit(&self, quantity: ScalingQuantity) -> Option<&QuantityFit> {
        self.fits.iter().find(|f| f.quantity == quantity)
    }

    /// Steps that measured requests.
    pub fn measured_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.measured()).count()
    }
}

/// Read the stored steps of scaling phase `phase` and fit every quantity.
pub fn scaling<'a>(evidence: &'a RunEvidence, phase: &str) -> Scaling<'a> {
    let steps: Vec<ScalingStep<'a>> = evidence
        .phases
        .iter()
        .filter(|p| p.parent.as_deref() == Some(phase))
        .filter_map(|record| Some(step(evidence, record, record.size?)))
        .collect();
    let doubt = doubt(evidence, phase, &steps);
    let fits = ScalingQuantity::ALL
        .into_iter()
        .map(|quantity| {
            let fit = if doubt.is_some() {
                None
            } else {
                let points: Vec<(f64, f64)> = steps
                    .iter()
                    .filter(|s| s.measured())
                    .filter_map(|s| Some((s.size as f64, s.value(quantity)?)))
                    .collect();
                stats::log_log(&points, SCALING_CONFIDENCE)
            };
            QuantityFit {
                quantity,
                fit,
                classification: fit
                    .map_or(Classification::Undetermined, |f| classify(f.lower, f.upper)),
            }
        })
        .collect();
    Scaling { steps, fits, doubt }
}

fn step<'a>(evidence: &'a RunEvidence, record: &'a PhaseRecord, size: u64) -> ScalingStep<'a> {
    let records: Vec<&IntervalRecord> = evidence
        .intervals
        .iter()
        .filter(|r| r.phase == record.name && !r.warmup)
        .collect();
    let merged = merge(&records);
    let requests = merged.outcomes.total();
    let samples = phase_samples(evidence, record).samples;
    ScalingStep {
        record,
        size,
        requests,
        latency_p50: stats::quantile_seconds(&merged.response, 0.50),
        latency_p99: stats::quantile_seconds(&merged.response, 0.99),
        throughput: stats::rate(requests, measured_time(&records)),
        rss: samples.iter().map(|s| s.rss_bytes).max().map(|v| v as f64),
        generator_bound: u32::try_from(
            records.iter().filter(|r| generator_bound(&r.stats)).count(),
        )
        .unwrap_or(u32::MAX),
    }
}

/// Why the phase's steps give no exponent, if they do not.
fn doubt(evidence: &RunEvidence, phase: &str, steps: &[ScalingStep<'_>]) -> Option<Doubt> {
    let bound: Vec<String> = steps
        .iter()
        .filter(|s| s.generator_bound > 0)
        .map(|s| format!("{} ({} items)", s.record.name, format::count(s.size)))
        .collect();
    if !bound.is_empty() {
        return Some(Doubt::ScalingGeneratorBound {
            phase: phase.to_string(),
            steps: bound,
        });
    }
    let measured = steps.iter().filter(|s| s.measured()).count();
    if measured >= MIN_STEPS {
        return None;
    }
    let failed_load = evidence.events.iter().find_map(|e| match &e.kind {
        EventKind::ScalingLoadFailed {
            phase: step,
            message,
            ..
        } if step.starts_with(&format!("{phase}#")) => Some((step.clone(), message.clone())),
        _ => None,
    });
    Some(Doubt::TooFewSteps {
        phase: phase.to_string(),
        measured,
        need: MIN_STEPS,
        failed_load,
    })
}

/// `1.02 [0.95, 1.09], linear`.
pub fn describe_fit(fit: &QuantityFit) -> String {
    match fit.fit {
        Some(f) => format!(
            "{:.2} [{:.2}, {:.2}], {}",
            f.slope,
            f.lower,
            f.upper,
            fit.classification.as_str()
        ),
        None => "no fit".to_string(),
    }
}

/// How every exponent of a scaling phase is computed, in words.
pub fn scaling_method(steps: usize) -> String {
    method_of("each quantity", steps)
}

/// The method of a scaling figure of `quantity`, in words.
fn method(quantity: ScalingQuantity, steps: usize) -> String {
    let what = match quantity {
        ScalingQuantity::LatencyP50 => "the step's median response time",
        ScalingQuantity::LatencyP99 => "the step's 99th percentile response time",
        ScalingQuantity::Throughput => "the step's completed requests per measured second",
        ScalingQuantity::Rss => "the service's largest RSS during the step's measured part",
    };
    method_of(what, steps)
}

fn method_of(what: &str, steps: usize) -> String {
    format!(
        "OLS on log–log: ln({what}) against ln(items held) over {steps} measured steps, warm-up \
         excluded; the exponent's 95% interval is Student t with n − 2 degrees of freedom; \
         sub-linear when the interval lies below {lo}, super-linear when above {hi}, linear \
         when within [{lo}, {hi}], otherwise undetermined",
        lo = 1.0 - LINEAR_TOLERANCE,
        hi = 1.0 + LINEAR_TOLERANCE
    )
}

/// Measure a `scaling.*` criterion over scaling phase `phase`.
pub(super) fn measure(
    (quantity, figure): (ScalingQuantity, ScalingFigure),
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let result = scaling(evidence, &phase.name);
    let measured = result.measured_steps();
    let fit = result.fit(quantity).copied();
    let line = fit.and_then(|f| f.fit);
    let mut basis = format!(
        "over {} measured steps of scaling phase {}",
        format::count(measured as u64),
        phase.name
    );
    if let (Some(first), Some(last)) = (result.steps.first(), result.steps.last()) {
        let _ = write!(
            basis,
            " ({} to {} items)",
            format::count(first.size),
            format::count(last.size)
        );
    }
    if let Some(fit) = &fit {
        let _ = write!(
            basis,
            "; {} exponent {}",
            quantity.name(),
            describe_fit(fit)
        );
    }
    let doubt = result.doubt.clone().or_else(|| {
        line.is_none().then(|| Doubt::NotFitted {
            quantity: quantity.name(),
            phase: phase.name.clone(),
            need: MIN_STEPS,
            rss: quantity == ScalingQuantity::Rss,
        })
    });
    let observed = line.map(|f| match figure {
        ScalingFigure::Exponent => f.slope,
        ScalingFigure::Upper => f.upper,
        ScalingFigure::Lower => f.lower,
    });
    Measurement {
        observed,
        // The bounds are figures of their own; the interval goes with the exponent.
        interval: line
            .filter(|_| figure == ScalingFigure::Exponent)
            .map(|f| ConfidenceInterval {
                lower: f.lower,
                upper: f.upper,
                confidence: SCALING_CONFIDENCE,
            }),
        samples: measured as u64,
        window: Some(Window {
            start: phase.started,
            end: phase.ended,
            first_interval: None,
            last_interval: None,
        }),
        method: method(quantity, measured),
        basis,
        doubt,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng, rngs::StdRng};

    use super::*;
    use crate::evaluate::evaluate;
    use crate::evaluate::fixtures::{assert_explains, criterion, scaling_run};
    use crate::model::{Metric, Op, Outcome};

    const SIZES: [u64; 4] = [500, 1000, 2000, 4000];

    #[test]
    fn intervals_are_classified_only_when_they_support_it() {
        assert_eq!(classify(0.95, 1.05), Classification::Linear);
        assert_eq!(
            classify(0.9, 1.1),
            Classification::Linear,
            "bounds inclusive"
        );
        assert_eq!(classify(-0.1, 0.5), Classification::SubLinear);
        assert_eq!(classify(1.5, 2.2), Classification::SuperLinear);
        assert_eq!(classify(0.7, 1.3), Classification::Undetermined);
        assert_eq!(classify(0.95, 1.2), Classification::Undetermined);
        assert_eq!(classify(f64::NAN, 1.0), Classification::Undetermined);
    }

    #[test]
    fn a_latency_proportional_to_size_is_linear() {
        let run = scaling_run(&SIZES, |n| n * 2, |n| 10_000_000 + n * 1000);
        let result = scaling(&run, "grow");
        assert_eq!(result.doubt, None);
        assert_eq!(result.measured_steps(), 4);
        let p99 = result.fit(ScalingQuantity::LatencyP99).unwrap();
        let line = p99.fit.unwrap();
        // The histogram keeps 3 significant digits: the exponent is 1 within that.
        assert!((line.slope - 1.0).abs() < 0.01, "{line:?}");
        assert_eq!(p99.classification, Classification::Linear, "{line:?}");
        let throughput = result.fit(ScalingQuantity::Throughput).unwrap();
        assert!(throughput.fit.unwrap().slope.abs() < 1e-9);
        assert_eq!(throughput.classification, Classification::SubLinear);
        let rss = result.fit(ScalingQuantity::Rss).unwrap().fit.unwrap();
        assert!(rss.slope > 0.0 && rss.slope < 0.5, "{rss:?}");
    }

    #[test]
    fn a_constant_latency_is_sub_linear_with_exponent_zero() {
        let run = scaling_run(&SIZES, |_| 900, |_| 50_000_000);
        let result = scaling(&run, "grow");
        for quantity in ScalingQuantity::ALL {
            let fit = result.fit(quantity).unwrap();
            assert!(fit.fit.unwrap().slope.abs() < 1e-9, "{quantity:?}");
            assert_eq!(fit.classification, Classification::SubLinear);
        }
    }

    #[test]
    fn two_steps_give_no_exponent_and_an_inconclusive_criterion() {
        let run = scaling_run(&SIZES[..2], |n| n, |_| 1 << 20);
        let result = scaling(&run, "grow");
        assert!(result.fits.iter().all(|f| f.fit.is_none()));
        let doubt = result.doubt.unwrap().to_string();
        assert!(doubt.contains("measured 2 steps"), "{doubt}");
        let c = criterion("grow", Metric::ScalingRssExponentUpper, Op::Le, "1.1", 1.1);
        let findings = evaluate(&[c], &run);
        assert_eq!(findings[0].outcome, Outcome::Inconclusive);
        assert_eq!(findings[0].observed, None);
    }

    #[test]
    fn a_generator_bound_step_gives_no_exponent() {
        let mut run = scaling_run(&SIZES, |n| n, |_| 1 << 20);
        for record in run.intervals.iter_mut().filter(|r| r.phase == "grow#3") {
            record.stats.gen_delay = crate::evaluate::fixtures::hist(&[(50_000, 100)]).into();
        }
        let c = criterion(
            "grow",
            Metric::ScalingLatencyP99Exponent,
            Op::Le,
            "1.1",
            1.1,
        );
        let finding = &evaluate(&[c], &run)[0];
        assert_eq!(finding.outcome, Outcome::Inconclusive);
        assert_eq!(
            finding.observed, None,
            "never a figure when generator-bound"
        );
        assert_explains(finding, "grow#3");
        assert_explains(finding, "fell behind");
    }

    #[test]
    fn criteria_read_the_exponent_and_its_bounds() {
        let run = scaling_run(&SIZES, |n| n * n / 100, |_| 1 << 20);
        let upper = criterion(
            "grow",
            Metric::ScalingLatencyP50ExponentUpper,
            Op::Le,
            "1.1",
            1.1,
        );
        let lower = criterion(
            "grow",
            Metric::ScalingLatencyP50ExponentLower,
            Op::Gt,
            "1.5",
            1.5,
        );
        let findings = evaluate(&[upper, lower], &run);
        assert_eq!(
            findings[0].outcome,
            Outcome::Fail,
            "{}",
            findings[0].explanation
        );
        assert_eq!(
            findings[1].outcome,
            Outcome::Pass,
            "{}",
            findings[1].explanation
        );
        let observed = findings[0].observed.unwrap();
        assert!((observed - 2.0).abs() < 0.05, "{observed}");
        assert_explains(&findings[0], "super-linear");
        assert!(findings[0].method.contains("OLS on log–log"));
        assert_eq!(findings[0].samples, 4);
        assert_eq!(findings[0].interval, None, "a bound is a figure of its own");
    }

    /// Property: an exact power law is recovered and classified by its exponent.
    #[test]
    fn exact_power_laws_are_recovered() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let exponent: f64 = rng.random_range(-1.0..3.0);
            let scale: f64 = rng.random_range(1e-3..1e3);
            let points: Vec<(f64, f64)> = SIZES
                .iter()
                .map(|&n| (n as f64, scale * (n as f64).powf(exponent)))
                .collect();
            let fit = stats::log_log(&points, SCALING_CONFIDENCE).unwrap();
            assert!((fit.slope - exponent).abs() < 1e-9);
            let expected = if exponent < 0.9 - 1e-6 {
                Classification::SubLinear
            } else if exponent > 1.1 + 1e-6 {
                Classification::SuperLinear
            } else if (0.9 + 1e-6..=1.1 - 1e-6).contains(&exponent) {
                Classification::Linear
            } else {
                continue;
            };
            assert_eq!(classify(fit.lower, fit.upper), expected, "{exponent}");
        }
    }
}

//! Ordinary least squares on a log–log scale, for scaling exponents.
//!
//! Owns: the fit of log(y) = a + b·log(x) and the Student-t confidence interval of
//! the exponent b. Does not own: which metric or sizes are read (evaluation). Pure.
//!
//! Reference: the textbook simple linear regression, e.g. D. C. Montgomery, E. A.
//! Peck, G. G. Vining, "Introduction to Linear Regression Analysis", §2.3: the slope's
//! standard error is √(σ̂²/Sxx) with σ̂² = SSE/(n − 2), and its interval is
//! b ± t(1 − α/2, n − 2)·se.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A straight-line fit with the slope's confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearFit {
    pub slope: f64,
    pub intercept: f64,
    /// Lower bound of the slope's confidence interval.
    pub lower: f64,
    /// Upper bound of the slope's confidence interval.
    pub upper: f64,
    /// Points used.
    pub points: usize,
}

/// OLS fit of `y` on `x` with a two-sided Student-t interval for the slope at
/// `confidence`. Returns `None` for fewer than 3 points, when every `x` is equal,
/// for non-finite input, or for `confidence` outside (0, 1).
pub fn ols(points: &[(f64, f64)], confidence: f64) -> Option<LinearFit> {
    let n = points.len();
    if n < 3
        || !(confidence > 0.0 && confidence < 1.0)
        || points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite())
    {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let sse: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let se = (sse / (nf - 2.0) / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 2.0)
        .ok()?
        .inverse_cdf(0.5 + confidence / 2.0);
    Some(LinearFit {
        slope,
        intercept,
        lower: slope - t * se,
        upper: slope + t * se,
        points: n,
    })
}

/// OLS of ln(y) on ln(x): the exponent b of y ≈ e^a·x^b with its interval.
/// Points with a non-positive `x` or `y` are skipped (their logarithm is undefined).
pub fn log_log(points: &[(f64, f64)], confidence: f64) -> Option<LinearFit> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    ols(&logs, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{covers, noisy_line};

    #[test]
    fn ols_matches_a_hand_computed_example() {
        // x = 1..5, y = 2, 4, 5, 4, 5: mean x 3, mean y 4, Sxx 10, Sxy 6 → b = 0.6,
        // a = 2.2; SSE = 2.4, se = √(2.4/3/10) = 0.28284; t(0.975, 3) = 3.18245.
        let points = [(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)];
        let fit = ols(&points, 0.95).unwrap();
        assert!((fit.slope - 0.6).abs() < 1e-12);
        assert!((fit.intercept - 2.2).abs() < 1e-12);
        let half = 3.182_446 * (0.08_f64).sqrt();
        assert!((fit.upper - (0.6 + half)).abs() < 1e-5, "{fit:?}");
        assert!((fit.lower - (0.6 - half)).abs() < 1e-5, "{fit:?}");
    }

    #[test]
    fn log_log_recovers_a_power_law_exponent() {
        for exponent in [0.5, 1.0, 2.0] {
            let points: Vec<(f64, f64)> = [1000.0, 4000.0, 16000.0, 64000.0]
                .iter()
                .map(|&n: &f64| (n, 3.0 * n.powf(exponent)))
                .collect();
            let fit = log_log(&points, 0.95).unwrap();
            assert!((fit.slope - exponent).abs() < 1e-9, "{fit:?}");
            assert!((fit.upper - fit.lower).abs() < 1e-6);
        }
    }

    #[test]
    fn degenerate_inputs_have_no_fit() {
        assert!(ols(&[(1.0, 1.0), (2.0, 2.0)], 0.95).is_none());
        assert!(ols(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)], 0.95).is_none());
        assert!(ols(&[(1.0, 1.0), (2.0, f64::NAN), (3.0, 3.0)], 0.95).is_none());
        assert!(log_log(&[(0.0, 1.0), (1.0, 1.0), (2.0, 0.0)], 0.95).is_none());
    }

    /// Property: the interval brackets the estimate, and with noise it covers the
    /// true slope in most seeds.
    #[test]
    fn interval_covers_the_true_slope_of_noisy_lines() {
        let mut covered = 0;
        for seed in 0..200 {
            let fit = ols(&noisy_line(seed, 8, 1.5, 1.0), 0.95).unwrap();
            if covers(fit.lower, fit.slope, fit.upper, 1.5) {
                covered += 1;
            }
        }
        assert!(covered >= 180, "covered {covered} of 200");
    }
}

//! Trend estimators for resource series (leak detection): the rolling minimum, the
//! Theil–Sen slope with Sen's confidence interval, and the Mann–Kendall trend test.
//!
//! Owns: pure functions over `(time, value)` points. Does not own: which samples are
//! read, the warm-up, units or the leak decision (that is `evaluate::soak`).
//! No I/O, no clock.
//!
//! References:
//! - H. Theil (1950), "A rank-invariant method of linear and polynomial regression
//!   analysis"; P. K. Sen (1968), "Estimates of the regression coefficient based on
//!   Kendall's tau", J. Amer. Statist. Assoc. 63, 1379–1389.
//! - H. B. Mann (1945), "Nonparametric tests against trend"; M. G. Kendall (1975),
//!   "Rank Correlation Methods". Variance with ties and the continuity-corrected Z as
//!   in R. O. Gilbert (1987), "Statistical Methods for Environmental Pollution
//!   Monitoring", §16.4 (also the source of the interval for Sen's slope, §16.5).

use statrs::distribution::{ContinuousCDF, Normal};

/// Points `(x, y)` of a series, ordered by `x`.
pub type Point = (f64, f64);

/// The most points the pairwise estimators accept; longer series are thinned first
/// (see [`thin`]), which keeps the O(n²) pair count near two million.
pub const MAX_TREND_POINTS: usize = 2000;

/// The two-sided standard normal quantile for `confidence` (e.g. 0.95 → 1.96).
///
/// Returns `None` when `confidence` is not strictly between 0 and 1.
pub fn normal_quantile(confidence: f64) -> Option<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let normal = Normal::new(0.0, 1.0).ok()?;
    Some(normal.inverse_cdf(0.5 + confidence / 2.0))
}

/// The trailing rolling minimum: for each point, the smallest `y` among the points
/// whose `x` lies in `[x - window, x]`.
///
/// Only points whose window is fully covered by the series (`x - window >= x₀`) are
/// returned, so the first values do not just repeat the raw series. A garbage-collected
/// sawtooth has a flat rolling minimum as long as the window spans one tooth; a leak
/// raises it. Input must be ordered by `x` (unordered input gives a meaningless but
/// finite result).
pub fn rolling_min(points: &[Point], window: f64) -> Vec<Point> {
    let Some(&(x0, _)) = points.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Monotonic deque of indices whose y values increase: the front is the minimum.
    let mut deque: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for (i, &(x, y)) in points.iter().enumerate() {
        while deque.back().is_some_and(|&j| points[j].1 >= y) {
            deque.pop_back();
        }
        deque.push_back(i);
        while deque.front().is_some_and(|&j| points[j].0 < x - window) {
            deque.pop_front();
        }
        if x - window >= x0
            && let Some(&front) = deque.front()
        {
            out.push((x, points[front].1));
        }
    }
    out
}

/// Keep at most `max` points, evenly spaced by index (first and last kept).
pub fn thin(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max)
        .filter_map(|k| points.get(k * last / (max - 1)).copied())
        .collect()
}

/// The Mann–Kendall test for a monotonic trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// S = Σ_{i<j} sign(y_j − y_i).
    pub s: f64,
    /// Var(S) with the correction for tied `y` values.
    pub variance: f64,
    /// The continuity-corrected statistic: (S − 1)/√Var for S > 0, (S + 1)/√Var for
    /// S < 0, 0 otherwise.
    pub z: f64,
    /// Two-sided p-value, 2·(1 − Φ(|Z|)); 1 when Var(S) is 0 (a constant series).
    pub p_value: f64,
}

/// Mann–Kendall test of the `y` values in `x` order (Gilbert 1987, §16.4.1).
///
/// Returns `None` for fewer than 3 points.
pub fn mann_kendall(points: &[Point]) -> Option<MannKendall> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let mut s = 0.0;
    for (i, &(_, yi)) in points.iter().enumerate() {
        for &(_, yj) in &points[i + 1..] {
            s += sign(yj - yi);
        }
    }
    let variance = s_variance(points);
    let z = if variance <= 0.0 {
        0.0
    } else if s > 0.0 {
        (s - 1.0) / variance.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / variance.sqrt()
    } else {
        0.0
    };
    let normal = Normal::new(0.0, 1.0).ok()?;
    let p_value = if variance <= 0.0 {
        1.0
    } else {
        (2.0 * (1.0 - normal.cdf(z.abs()))).clamp(0.0, 1.0)
    };
    Some(MannKendall {
        s,
        variance,
        z,
        p_value,
    })
}

fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18, the sum over groups of `t` tied
/// `y` values.
fn s_variance(points: &[Point]) -> f64 {
    let term = |t: f64| t * (t - 1.0) * (2.0 * t + 5.0);
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    ys.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut run = 1.0;
    for pair in ys.windows(2) {
        if pair[0] == pair[1] {
            run += 1.0;
        } else {
            ties += term(run);
            run = 1.0;
        }
    }
    ties += term(run);
    (term(ys.len() as f64) - ties) / 18.0
}

/// A Theil–Sen fit with Sen's confidence interval for the slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    /// The median of the pairwise slopes (y_j − y_i)/(x_j − x_i), x_i ≠ x_j.
    pub slope: f64,
    /// Lower bound of the slope's confidence interval.
    pub lower: f64,
    /// Upper bound of the slope's confidence interval.
    pub upper: f64,
    /// median(y_i − slope·x_i): the fitted line is `intercept + slope·x`.
    pub intercept: f64,
    /// Points used.
    pub points: usize,
}

/// Theil–Sen slope with Sen's (1968) nonparametric interval at `confidence`.
///
/// The interval is read from the ordered pairwise slopes: with N slopes and
/// C = z·√Var(S) (Var(S) from the Mann–Kendall test, ties included),
/// M₁ = (N − C)/2 and M₂ = (N + C)/2; the lower limit is the M₁-th smallest slope,
/// the upper the (M₂ + 1)-th (Gilbert 1987, §16.5), ranks rounded to the nearest
/// integer and clamped to the available slopes. Returns `None` for fewer than 3
/// points, when all `x` are equal, or for a `confidence` outside (0, 1).
pub fn theil_sen(points: &[Point], confidence: f64) -> Option<TheilSen> {
    if points.len() < 3 {
        return None;
    }
    let z = normal_quantile(confidence)?;
    let mut slopes = Vec::with_capacity(points.len() * (points.len() - 1) / 2);
    for (i, &(xi, yi)) in points.iter().enumerate() {
        for &(xj, yj) in &points[i + 1..] {
            if xj != xi {
                let slope = (yj - yi) / (xj - xi);
                if slope.is_finite() {
                    slopes.push(slope);
                }
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let slope = median_sorted(&slopes)?;
    let n = slopes.len() as f64;
    let c = z * s_variance(points).sqrt();
    let last = slopes.len() - 1;
    // 1-based ranks M1 and M2 + 1 → 0-based indices M1 − 1 and M2.
    let lower_index = (((n - c) / 2.0).round() - 1.0).clamp(0.0, last as f64) as usize;
    let upper_index = ((n + c) / 2.0).round().clamp(0.0, last as f64) as usize;
    let mut residuals: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    residuals.sort_by(f64::total_cmp);
    Some(TheilSen {
        slope,
        lower: slopes[lower_index].min(slope),
        upper: slopes[upper_index].max(slope),
        intercept: median_sorted(&residuals)?,
        points: points.len(),
    })
}

/// The median of an ascending slice; `None` when empty.
fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{covers, noisy_line};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn series(ys: &[f64]) -> Vec<Point> {
        ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
    }

    #[test]
    fn normal_quantile_matches_tables() {
        let z = normal_quantile(0.95).unwrap();
        assert!((z - 1.959_964).abs() < 1e-5, "{z}");
        assert!(normal_quantile(1.0).is_none());
        assert!(normal_quantile(0.0).is_none());
    }

    #[test]
    fn mann_kendall_matches_a_hand_computed_example() {
        // y = 1, 3, 2, 4, 5: pairs 10, concordant 9, discordant 1 → S = 8.
        // Var = 5·4·15/18 = 16.667; Z = 7/4.0825 = 1.7146; p = 0.0864.
        let mk = mann_kendall(&series(&[1.0, 3.0, 2.0, 4.0, 5.0])).unwrap();
        assert_eq!(mk.s, 8.0);
        assert!((mk.variance - 300.0 / 18.0).abs() < 1e-9);
        assert!((mk.z - 1.714_643).abs() < 1e-5, "{}", mk.z);
        assert!((mk.p_value - 0.086_411).abs() < 1e-4, "{}", mk.p_value);
    }

    #[test]
    fn mann_kendall_corrects_for_ties() {
        // y = 1, 1, 2, 2, 3: S = 8 (two tied pairs contribute 0);
        // Var = [5·4·15 − 2·(2·1·9)]/18 = (300 − 36)/18 = 14.667.
        let mk = mann_kendall(&series(&[1.0, 1.0, 2.0, 2.0, 3.0])).unwrap();
        assert_eq!(mk.s, 8.0);
        assert!((mk.variance - 264.0 / 18.0).abs() < 1e-9);
        let constant = mann_kendall(&series(&[4.0; 10])).unwrap();
        assert_eq!(
            (constant.s, constant.variance, constant.p_value),
            (0.0, 0.0, 1.0)
        );
        assert!(mann_kendall(&series(&[1.0, 2.0])).is_none());
    }

    #[test]
    fn theil_sen_matches_a_hand_computed_example() {
        // Pairwise slopes of y = 1, 3, 2, 4, 5 (x = 0..4) sorted:
        // -1, 0.5, 0.5, 0.667, 1, 1, 1, 1.5, 2, 2 → median 1.
        // C = 1.96·√16.667 = 8.0; M1 = 1, M2 + 1 = 10 → [-1, 2].
        let fit = theil_sen(&series(&[1.0, 3.0, 2.0, 4.0, 5.0]), 0.95).unwrap();
        assert_eq!(fit.slope, 1.0);
        assert_eq!((fit.lower, fit.upper), (-1.0, 2.0));
        // Residuals y − x: 1, 2, 0, 1, 1 → median 1.
        assert_eq!(fit.intercept, 1.0);
    }

    #[test]
    fn theil_sen_is_robust_to_outliers() {
        let mut ys: Vec<f64> = (0..50).map(|i| 10.0 + 2.0 * i as f64).collect();
        ys[10] = 1e9;
        ys[30] = -1e9;
        let fit = theil_sen(&series(&ys), 0.95).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9, "{fit:?}");
        assert!(fit.lower <= 2.0 && fit.upper >= 2.0);
    }

    #[test]
    fn degenerate_inputs_have_no_fit() {
        assert!(theil_sen(&series(&[1.0, 2.0]), 0.95).is_none());
        assert!(theil_sen(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)], 0.95).is_none());
        assert!(theil_sen(&series(&[1.0, 2.0, 3.0]), 1.5).is_none());
    }

    /// Property: the slope of a constant series is 0 with a zero-width interval, and
    /// of an exact line is its slope, whatever the spacing of x.
    #[test]
    fn slopes_of_constant_and_linear_series_are_exact() {
        for seed in 0..50 {
            let mut rng = StdRng::seed_from_u64(seed);
            let n = rng.random_range(3..80);
            let level = rng.random_range(-1e6..1e6);
            let true_slope = rng.random_range(-1e3..1e3);
            let mut x = 0.0;
            let mut flat = Vec::new();
            let mut line = Vec::new();
            for _ in 0..n {
                x += rng.random_range(0.1..5.0);
                flat.push((x, level));
                line.push((x, level + true_slope * x));
            }
            let fit = theil_sen(&flat, 0.95).unwrap();
            assert_eq!((fit.slope, fit.lower, fit.upper), (0.0, 0.0, 0.0));
            assert_eq!(mann_kendall(&flat).unwrap().p_value, 1.0);
            let fit = theil_sen(&line, 0.95).unwrap();
            let tolerance = 1e-6 * true_slope.abs().max(1.0);
            assert!(
                (fit.slope - true_slope).abs() < tolerance,
                "seed {seed}: {fit:?}"
            );
            assert!((fit.lower - true_slope).abs() < tolerance);
            assert!((fit.upper - true_slope).abs() < tolerance);
        }
    }

    /// Property: the interval contains the slope, and with noise around a line the
    /// 95% interval covers the true slope in most of the seeds.
    #[test]
    fn interval_covers_the_true_slope_of_noisy_lines() {
        let mut covered = 0;
        for seed in 0..100 {
            let points = noisy_line(seed, 60, 3.0, 20.0);
            let fit = theil_sen(&points, 0.95).unwrap();
            if covers(fit.lower, fit.slope, fit.upper, 3.0) {
                covered += 1;
            }
            assert!(
                mann_kendall(&points).unwrap().p_value < 0.001,
                "seed {seed}"
            );
        }
        assert!(covered >= 88, "covered {covered} of 100");
    }

    #[test]
    fn rolling_min_flattens_a_sawtooth_and_follows_a_rise() {
        // A sawtooth between 100 and 109 with period 10: the 10-wide minimum is 100.
        let saw: Vec<Point> = (0..100)
            .map(|i| (i as f64, 100.0 + (i % 10) as f64))
            .collect();
        let mins = rolling_min(&saw, 10.0);
        assert_eq!(mins.len(), 90);
        assert_eq!(mins.first().map(|p| p.0), Some(10.0));
        assert!(mins.iter().all(|p| p.1 == 100.0), "{mins:?}");
        let fit = theil_sen(&mins, 0.95).unwrap();
        assert_eq!(fit.slope, 0.0);
        // The same sawtooth on a rising floor: the minimum rises with the floor.
        let rising: Vec<Point> = saw.iter().map(|&(x, y)| (x, y + 2.0 * x)).collect();
        let fit = theil_sen(&rolling_min(&rising, 10.0), 0.95).unwrap();
        assert!((fit.slope - 2.0).abs() < 0.5, "{fit:?}");
        assert!(rolling_min(&[], 1.0).is_empty());
    }

    #[test]
    fn thinning_keeps_the_ends_and_the_count() {
        let points = series(&(0..10_000).map(f64::from).collect::<Vec<_>>());
        let thinned = thin(&points, MAX_TREND_POINTS);
        assert_eq!(thinned.len(), MAX_TREND_POINTS);
        assert_eq!(thinned.first(), points.first());
        assert_eq!(thinned.last(), points.last());
        assert_eq!(thin(&points[..5], 10).len(), 5);
    }
}

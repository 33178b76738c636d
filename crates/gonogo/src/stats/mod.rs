//! Small, pure statistics helpers shared by evaluation and reports.
//!
//! Owns: reading values out of HDR histograms of microseconds in seconds, the
//! guarded divisions (rates, ratios, mean CPU) that must never yield NaN or infinity,
//! trend estimators for leak detection (`trend`: rolling minimum, Theil–Sen with
//! Sen's interval, Mann–Kendall) and least squares on log–log scales for scaling
//! exponents (`regression`).
//! Does not own: which evidence is read (that is `evaluate`) nor how numbers are
//! shown (that is `report::format`). No I/O, no clock.

mod regression;
mod trend;

pub use regression::{LinearFit, log_log, ols};
pub use trend::{
    MAX_TREND_POINTS, MannKendall, Point, TheilSen, mann_kendall, normal_quantile, rolling_min,
    theil_sen, thin,
};

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::model::ResourceSample;

/// Points of the line `slope · x` at `x = 0, 1, … n - 1`, each with noise drawn
/// uniformly from ±`noise` by a generator seeded with `seed`.
#[cfg(test)]
fn noisy_line(seed: u64, n: u32, slope: f64, noise: f64) -> Vec<Point> {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let x = f64::from(i);
            (x, slope * x + rng.random_range(-noise..noise))
        })
        .collect()
}

/// Whether the interval `lower ..= upper` covers `truth`, after checking that it
/// contains its estimate `slope`.
#[cfg(test)]
fn covers(lower: f64, slope: f64, upper: f64, truth: f64) -> bool {
    assert!(lower <= slope && slope <= upper);
    lower <= truth && truth <= upper
}

/// Microseconds per second: histograms store microseconds, metrics use seconds.
const MICROS_PER_SECOND: f64 = 1_000_000.0;

/// Convert a histogram value in microseconds to seconds.
pub fn micros_to_seconds(micros: u64) -> f64 {
    micros as f64 / MICROS_PER_SECOND
}

/// The value at quantile `q` (0..=1) of a histogram of microseconds, in seconds.
///
/// Returns `None` for an empty histogram. HDR histograms report the highest value
/// equivalent to the recorded one at their precision, so the result may exceed the
/// exact sample by less than one part in a thousand (3 significant digits).
pub fn quantile_seconds(histogram: &Histogram<u64>, q: f64) -> Option<f64> {
    if histogram.is_empty() {
        return None;
    }
    Some(micros_to_seconds(
        histogram.value_at_quantile(q.clamp(0.0, 1.0)),
    ))
}

/// The largest value of a histogram of microseconds, in seconds; `None` when empty.
pub fn max_seconds(histogram: &Histogram<u64>) -> Option<f64> {
    if histogram.is_empty() {
        return None;
    }
    Some(micros_to_seconds(histogram.max()))
}

/// `numerator / denominator`, or `None` when the denominator is zero.
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    Some(numerator as f64 / denominator as f64)
}

/// Events per second over `elapsed`, or `None` when `elapsed` is zero.
pub fn rate(count: u64, elapsed: Duration) -> Option<f64> {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return None;
    }
    Some(count as f64 / secs)
}

/// Mean CPU use in cores between two cumulative samples: Δcpu_seconds / Δat.
///
/// Returns `None` when the samples are not strictly ordered in time. A process
/// leaving the tree can make the cumulative CPU time drop; the result is then
/// clamped at zero rather than reported as negative use.
pub fn cpu_cores(first: &ResourceSample, last: &ResourceSample) -> Option<f64> {
    let elapsed = last.at.checked_sub(first.at)?.as_secs_f64();
    if elapsed <= 0.0 {
        return None;
    }
    let used = (last.cpu_seconds - first.cpu_seconds).max(0.0);
    let cores = used / elapsed;
    cores.is_finite().then_some(cores)
}

/// Mean CPU use in cores over `samples` (in time order): the sum of the non-negative
/// increments of cumulative CPU time between consecutive samples, over the time from
/// the first sample to the last. A drop (the service restarted and its counter began
/// again, or a process left the tree) adds nothing for that one step, rather than
/// cancelling everything measured before it.
pub fn cpu_mean(samples: &[&ResourceSample]) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let elapsed = last.at.checked_sub(first.at)?.as_secs_f64();
    if elapsed <= 0.0 {
        return None;
    }
    let used: f64 = samples
        .windows(2)
        .map(|pair| (pair[1].cpu_seconds - pair[0].cpu_seconds).max(0.0))
        .sum();
    let cores = used / elapsed;
    cores.is_finite().then_some(cores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::new_histogram;

    fn sample(at_ms: u64, cpu_seconds: f64) -> ResourceSample {
        ResourceSample {
            at: Duration::from_millis(at_ms),
            processes: 1,
            rss_bytes: 0,
            cpu_seconds,
            threads: 1,
            open_fds: 1,
            host_available_bytes: 0,
        }
    }

    #[test]
    fn quantiles_of_a_histogram_are_in_seconds() {
        let mut h = new_histogram();
        h.record_n(1_000, 99).expect("auto-resizing histogram");
        h.record(50_000).expect("auto-resizing histogram");
        assert_eq!(quantile_seconds(&h, 0.5), Some(0.001));
        // 99 of 100 values are 1 ms: the 99th percentile is 1 ms, the max is 50 ms.
        assert_eq!(quantile_seconds(&h, 0.99), Some(0.001));
        let max = max_seconds(&h).expect("not empty");
        assert!((max - 0.05).abs() < 0.05 * 1e-3, "max {max}");
    }

    #[test]
    fn empty_histograms_have_no_quantile() {
        let h = new_histogram();
        assert_eq!(quantile_seconds(&h, 0.99), None);
        assert_eq!(max_seconds(&h), None);
    }

    #[test]
    fn divisions_by_zero_give_none() {
        assert_eq!(ratio(1, 0), None);
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(rate(10, Duration::ZERO), None);
        assert_eq!(rate(10, Duration::from_secs(4)), Some(2.5));
    }

    #[test]
    fn cpu_mean_survives_a_restart_of_the_service() {
        // 1 core for 2 s, a kill and restart (the counter starts again), 1 core for 2 s.
        let samples = [
            sample(0, 10.0),
            sample(1_000, 11.0),
            sample(2_000, 12.0),
            sample(3_000, 0.5),
            sample(4_000, 1.5),
        ];
        let refs: Vec<&ResourceSample> = samples.iter().collect();
        let cores = cpu_mean(&refs).expect("two samples apart");
        // 3 s of counted CPU (the restart step counts nothing) over 4 s.
        assert!((cores - 0.75).abs() < 1e-12, "{cores}");
        assert_eq!(cpu_mean(&refs[..1]), None, "one sample has no duration");
    }

    #[test]
    fn cpu_cores_is_cpu_time_over_wall_time() {
        let cores = cpu_cores(&sample(1_000, 2.0), &sample(5_000, 4.0)).expect("ordered samples");
        assert!((cores - 0.5).abs() < 1e-12);
        assert_eq!(cpu_cores(&sample(5_000, 1.0), &sample(5_000, 2.0)), None);
        assert_eq!(cpu_cores(&sample(5_000, 1.0), &sample(1_000, 2.0)), None);
        // A child leaving the tree lowers the cumulative figure: clamp at zero.
        assert_eq!(
            cpu_cores(&sample(1_000, 3.0), &sample(2_000, 1.0)),
            Some(0.0)
        );
    }
}

//! Downsampling for display: largest-triangle-three-buckets (Steinarsson, 2013,
//! "Downsampling Time Series for Visual Representation", University of Iceland).
//!
//! Owns: choosing which points of a long series a chart draws, so that a one-hour run
//! stays light while spikes stay visible. Does not own: any statistic — figures in
//! findings and tables are computed from the full evidence, never from these points.

/// Keep at most `cap` of `points` (sorted by x): always the first and the last, and in
/// each of `cap - 2` equal buckets between them the point that forms the largest
/// triangle with the point kept before it and the mean of the next bucket.
/// Returns the input unchanged when it already fits (or when `cap < 3`, which cannot
/// keep both ends and a middle).
pub(super) fn lttb(points: &[[f64; 2]], cap: usize) -> Vec<[f64; 2]> {
    let n = points.len();
    if n <= cap || cap < 3 {
        return points.to_vec();
    }
    let mut kept = Vec::with_capacity(cap);
    kept.push(points[0]);
    // Buckets cover points[1 .. n-1]; bucket i spans [start(i), start(i+1)).
    let every = (n - 2) as f64 / (cap - 2) as f64;
    let start = |i: usize| ((i as f64 * every) as usize + 1).min(n - 1);
    let mut previous = points[0];
    for bucket in 0..cap - 2 {
        let (lo, hi) = (start(bucket), start(bucket + 1).max(start(bucket) + 1));
        // The mean of the next bucket (the last point for the last bucket).
        let (next_lo, next_hi) = (hi.min(n - 1), start(bucket + 2).max(hi + 1).min(n));
        let next = &points[next_lo..next_hi];
        let count = next.len().max(1) as f64;
        let mean_x = next.iter().map(|p| p[0]).sum::<f64>() / count;
        let mean_y = next.iter().map(|p| p[1]).sum::<f64>() / count;
        let area = |p: &[f64; 2]| {
            ((previous[0] - mean_x) * (p[1] - previous[1])
                - (previous[0] - p[0]) * (mean_y - previous[1]))
                .abs()
        };
        let mut best = points[lo];
        let mut best_area = -1.0;
        for p in &points[lo..hi.min(n - 1)] {
            let a = area(p);
            if a > best_area {
                best_area = a;
                best = *p;
            }
        }
        kept.push(best);
        previous = best;
    }
    kept.push(points[n - 1]);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> Vec<[f64; 2]> {
        (0..n).map(|i| [i as f64, (i % 7) as f64]).collect()
    }

    #[test]
    fn a_short_series_is_returned_unchanged() {
        assert_eq!(lttb(&line(10), 10), line(10));
        assert_eq!(lttb(&line(10), 50), line(10));
        assert_eq!(lttb(&line(10), 2), line(10));
        assert!(lttb(&[], 5).is_empty());
    }

    #[test]
    fn a_long_series_keeps_exactly_cap_points_with_both_ends_in_order() {
        for (n, cap) in [(3600, 800), (1000, 3), (801, 800), (10_000, 17)] {
            let points = line(n);
            let kept = lttb(&points, cap);
            assert_eq!(kept.len(), cap, "n={n} cap={cap}");
            assert_eq!(kept[0], points[0]);
            assert_eq!(kept[cap - 1], points[n - 1]);
            assert!(kept.windows(2).all(|w| w[0][0] < w[1][0]), "x increasing");
            assert!(kept.iter().all(|p| points.contains(p)), "only input points");
        }
    }

    #[test]
    fn a_single_spike_survives_downsampling() {
        let mut points: Vec<[f64; 2]> = (0..3600).map(|i| [i as f64, 1.0]).collect();
        points[1234][1] = 500.0;
        points[2500][1] = 0.0;
        let kept = lttb(&points, 100);
        assert!(kept.contains(&[1234.0, 500.0]), "the spike is kept");
        assert!(kept.contains(&[2500.0, 0.0]), "the dip is kept");
    }
}

//! The run's timeline: per-interval and per-sample series on one time axis, built from
//! the stored evidence and downsampled for display.
//!
//! Owns: which series each chart draws and how each point is computed — the
//! histograms of every workload in the same phase and interval index are merged
//! (never averaged) for the percentiles; rates are counts over the interval's length;
//! CPU is the CPU-time difference between consecutive samples over their distance.
//! Warm-up intervals are drawn (the bands mark them); statistics elsewhere exclude
//! them. Does not own: drawing (`svg`, `html`) nor any verdict figure.
//! Pure: no I/O, no clock.
//!
//! New analyses (capacity steps, scaling fits, soak trends, integrity counts, recovery
//! times) add their own charts here as further [`ChartData`] with their own ids.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::{
    IntervalRecord, IntervalStats, LatencyMetric, LeakResource, Metric, OutcomeCounts,
    ResourceMetric, RunEvidence, TrafficMetric,
};
use crate::stats;

use super::lttb::lttb;
use super::model::{ChartData, PhaseBand, SeriesData, Timeline};

/// Most points a series keeps on a chart: about one per pixel of a chart's width.
pub const POINT_CAP: usize = 800;

/// The chart that shows a metric, by chart id.
pub(super) fn chart_of(metric: Metric) -> Option<&'static str> {
    match metric {
        Metric::Latency(LatencyMetric::LagP99) => Some("lag"),
        Metric::Latency(_) => Some("latency"),
        Metric::Traffic(TrafficMetric::Throughput) => Some("rate"),
        Metric::Traffic(TrafficMetric::ErrorRate) => Some("errors"),
        Metric::Resource(ResourceMetric::RssMax) | Metric::Leak(LeakResource::Rss, _) => {
            Some("rss")
        }
        Metric::Resource(ResourceMetric::CpuMean) => Some("cpu"),
        Metric::Resource(ResourceMetric::FdsMax | ResourceMetric::ThreadsMax)
        | Metric::Leak(LeakResource::Fds | LeakResource::Threads, _) => Some("fds_threads"),
        Metric::Capacity(_) => Some("rate"),
        // Recovery is read from the latency and errors after a fault.
        Metric::Recovery(_) => Some("latency"),
        Metric::Service(_) | Metric::Integrity(_) | Metric::Scaling(..) | Metric::BadInput(_) => {
            None
        }
    }
}

/// Build the timeline of a run, every series capped at `cap` points.
pub(super) fn build(evidence: &RunEvidence, cap: usize) -> Timeline {
    let buckets = interval_buckets(evidence);
    let mut charts = vec![latency_chart(&buckets)];
    // Under the latency chart, where the meter ran: was gonogo itself starved?
    if buckets.iter().any(|b| b.health.is_some()) {
        charts.extend(generator_charts(&buckets));
    }
    charts.extend([
        rate_chart(&buckets),
        errors_chart(&buckets),
        lag_chart(&buckets),
    ]);
    charts.extend(resource_charts(evidence));
    for chart in &mut charts {
        for series in &mut chart.series {
            series.points = lttb(&series.points, cap);
        }
    }
    Timeline {
        point_cap: cap as u32,
        phases: evidence
            .phases
            .iter()
            .map(|p| PhaseBand {
                phase: p.name.clone(),
                kind: p.kind.clone(),
                start_seconds: p.started.as_secs_f64(),
                measured_from_seconds: (p.started + p.warmup).as_secs_f64(),
                end_seconds: p.ended.map(|e| e.as_secs_f64()),
            })
            .collect(),
        charts,
        faults: super::recovery_chart::bands(evidence),
    }
}

/// All workloads of one phase during one interval index, merged, reduced to the
/// figures the charts draw (so a long run never holds thousands of merged histograms).
struct Bucket {
    start: Duration,
    length: Duration,
    outcomes: OutcomeCounts,
    planned: u64,
    response_p50: Option<f64>,
    response_p99: Option<f64>,
    response_max: Option<f64>,
    service_p99: Option<f64>,
    lag_p99: Option<f64>,
    gen_delay_p99: Option<f64>,
    /// The generator's health (the same for every workload of the interval).
    health: Option<HealthPoint>,
}

/// The generator-health figures of one interval, for its charts.
#[derive(Debug, Clone, Copy)]
struct HealthPoint {
    hiccup_p99: Option<f64>,
    hiccup_max: Option<f64>,
    /// Cores: CPU seconds per second of the interval.
    cpu: f64,
    /// Seconds per second of the time covered.
    run_queue: Option<f64>,
    throttled: Option<f64>,
}

fn health_point(record: &IntervalRecord) -> Option<HealthPoint> {
    let health = record.health.as_ref()?;
    let covered = health.covered(record.length).as_secs_f64();
    let per_second = |us: Option<u64>| {
        us.filter(|_| covered > 0.0)
            .map(|us| us as f64 / 1e6 / covered)
    };
    Some(HealthPoint {
        hiccup_p99: health.hiccup_at(0.99).map(|us| us as f64 / 1e6),
        hiccup_max: (!health.hiccup.is_empty()).then(|| health.hiccup.max() as f64 / 1e6),
        cpu: if record.length.is_zero() {
            0.0
        } else {
            record.generator_cpu_seconds / record.length.as_secs_f64()
        },
        run_queue: per_second(health.sched.run_queue_wait_us),
        throttled: per_second(health.sched.throttled_us),
    })
}

impl Bucket {
    /// The point's time: the middle of the interval.
    fn x(&self) -> f64 {
        (self.start + self.length / 2).as_secs_f64()
    }

    fn per_second(&self, count: u64) -> Option<f64> {
        stats::rate(count, self.length)
    }
}

/// Intervals merged across workloads, keyed by (phase position, interval index) so
/// they come out in time order. One scratch set of histograms is reset and reused
/// for every merge.
fn interval_buckets(evidence: &RunEvidence) -> Vec<Bucket> {
    let position = |name: &str| evidence.phases.iter().position(|p| p.name == name);
    let mut groups: BTreeMap<(usize, u32), Vec<&IntervalRecord>> = BTreeMap::new();
    for record in &evidence.intervals {
        let key = (position(&record.phase).unwrap_or(usize::MAX), record.index);
        groups.entry(key).or_default().push(record);
    }
    let mut scratch = IntervalStats::default();
    let mut buckets: Vec<Bucket> = groups
        .into_values()
        .map(|records| bucket(&records, &mut scratch))
        .collect();
    buckets.sort_by_key(|b| b.start);
    buckets
}

fn bucket(records: &[&IntervalRecord], scratch: &mut IntervalStats) -> Bucket {
    scratch.response.reset();
    scratch.service.reset();
    scratch.lag.reset();
    scratch.gen_delay.reset();
    scratch.outcomes = OutcomeCounts::default();
    scratch.planned = 0;
    let mut start = Duration::MAX;
    let mut length = Duration::ZERO;
    // Only the figures reset above are read; the other counters `merge` adds up are
    // not.
    for record in records {
        scratch.merge(&record.stats);
        start = start.min(record.start);
        length = length.max(record.length);
    }
    Bucket {
        start,
        length,
        outcomes: scratch.outcomes,
        planned: scratch.planned,
        response_p50: stats::quantile_seconds(&scratch.response, 0.50),
        response_p99: stats::quantile_seconds(&scratch.response, 0.99),
        response_max: stats::max_seconds(&scratch.response),
        service_p99: stats::quantile_seconds(&scratch.service, 0.99),
        lag_p99: stats::quantile_seconds(&scratch.lag, 0.99),
        gen_delay_p99: stats::quantile_seconds(&scratch.gen_delay, 0.99),
        health: records.iter().find_map(|r| health_point(r)),
    }
}

/// A series with its headline numbers, taken from every point before downsampling.
pub(super) fn series(name: &str, points: Vec<[f64; 2]>) -> SeriesData {
    let peak = points
        .iter()
        .copied()
        .reduce(|best, p| if p[1] > best[1] { p } else { best });
    let mut values: Vec<f64> = points.iter().map(|p| p[1]).collect();
    values.sort_by(f64::total_cmp);
    let median = match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[n / 2]),
        n => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    };
    SeriesData {
        name: name.to_string(),
        source_points: points.len() as u32,
        peak,
        median,
        points,
    }
}

/// A series with one point per bucket where `value` gives one.
fn per_bucket(
    name: &str,
    buckets: &[Bucket],
    value: impl Fn(&Bucket) -> Option<f64>,
) -> SeriesData {
    series(
        name,
        buckets
            .iter()
            .filter_map(|b| value(b).map(|v| [b.x(), v]))
            .collect(),
    )
}

fn chart(id: &str, title: &str, unit: &str, method: &str, series: Vec<SeriesData>) -> ChartData {
    ChartData {
        id: id.to_string(),
        title: title.to_string(),
        unit: unit.to_string(),
        method: method.to_string(),
        series,
    }
}

fn latency_chart(buckets: &[Bucket]) -> ChartData {
    chart(
        "latency",
        "Response time and service time",
        "seconds",
        "per interval, the histograms of all workloads merged; response time runs from the \
         intended send (coordinated omission corrected), service time from the actual send",
        vec![
            per_bucket("response p50", buckets, |b| b.response_p50),
            per_bucket("response p99", buckets, |b| b.response_p99),
            per_bucket("response max", buckets, |b| b.response_max),
            per_bucket("service p99", buckets, |b| b.service_p99),
        ],
    )
}

/// The load generator's own health: the hiccup meter's lateness, and gonogo's CPU
/// with the time it waited for a CPU or was throttled (see `docs/method.md`).
fn generator_charts(buckets: &[Bucket]) -> [ChartData; 2] {
    let health =
        |f: fn(&HealthPoint) -> Option<f64>| move |b: &Bucket| b.health.as_ref().and_then(f);
    [
        chart(
            "generator",
            "Generator health: hiccup meter",
            "seconds",
            "per interval: how late gonogo's hiccup meter woke from its 1 ms sleeps (p99 and \
             max); a stall of gonogo's process shows here whatever the load is doing",
            vec![
                per_bucket("hiccup p99", buckets, health(|h| h.hiccup_p99)),
                per_bucket("hiccup max", buckets, health(|h| h.hiccup_max)),
            ],
        ),
        chart(
            "generator_cpu",
            "Generator health: gonogo's CPU",
            "cores",
            "per interval: CPU of gonogo's process, time its threads waited for a CPU \
             (schedstat) and time its cgroup was throttled (cpu.stat), each per second",
            vec![
                per_bucket("gonogo CPU", buckets, health(|h| Some(h.cpu))),
                per_bucket("run-queue wait", buckets, health(|h| h.run_queue)),
                per_bucket("throttled", buckets, health(|h| h.throttled)),
            ],
        ),
    ]
}

fn rate_chart(buckets: &[Bucket]) -> ChartData {
    chart(
        "rate",
        "Offered and achieved rate",
        "per_second",
        "per interval, all workloads: sends the schedule planned (open model) and requests \
         completed, each over the interval's length",
        vec![
            per_bucket("offered", buckets, |b| {
                (b.planned > 0).then(|| b.per_second(b.planned)).flatten()
            }),
            per_bucket("achieved", buckets, |b| b.per_second(b.outcomes.total())),
        ],
    )
}

fn errors_chart(buckets: &[Bucket]) -> ChartData {
    type Kind = (&'static str, fn(&OutcomeCounts) -> u64);
    let kinds: [Kind; 4] = [
        ("status mismatch", |o| o.status_mismatch),
        ("connect error", |o| o.connect_error),
        ("timeout", |o| o.timeout),
        ("I/O error", |o| o.io_error),
    ];
    let mut lines: Vec<SeriesData> = kinds
        .iter()
        .filter(|(_, count)| buckets.iter().any(|b| count(&b.outcomes) > 0))
        .map(|(name, count)| per_bucket(name, buckets, |b| b.per_second(count(&b.outcomes))))
        .collect();
    if lines.is_empty() {
        lines.push(per_bucket("all kinds (none failed)", buckets, |b| {
            b.per_second(b.outcomes.failed())
        }));
    }
    chart(
        "errors",
        "Errors by kind",
        "per_second",
        "per interval, all workloads: failed requests of each kind over the interval's length",
        lines,
    )
}

fn lag_chart(buckets: &[Bucket]) -> ChartData {
    chart(
        "lag",
        "Schedule lag",
        "seconds",
        "per interval, all workloads: actual minus intended send time (p99), and the part \
         caused by the load generator itself (p99)",
        vec![
            per_bucket("lag p99", buckets, |b| b.lag_p99),
            per_bucket("generator delay p99", buckets, |b| b.gen_delay_p99),
        ],
    )
}

fn resource_charts(evidence: &RunEvidence) -> Vec<ChartData> {
    let running: Vec<_> = evidence
        .samples
        .iter()
        .filter(|s| s.processes > 0)
        .collect();
    let points = |value: fn(&crate::model::ResourceSample) -> f64| {
        running
            .iter()
            .map(|s| [s.at.as_secs_f64(), value(s)])
            .collect::<Vec<_>>()
    };
    let cpu: Vec<[f64; 2]> = running
        .windows(2)
        .filter_map(|pair| {
            let mid = (pair[0].at + pair[1].at) / 2;
            stats::cpu_cores(pair[0], pair[1]).map(|cores| [mid.as_secs_f64(), cores])
        })
        .collect();
    let method = "samples of the service's process tree from /proc, while it ran";
    vec![
        chart(
            "rss",
            "Service memory (RSS)",
            "bytes",
            method,
            vec![series("rss", points(|s| s.rss_bytes as f64))],
        ),
        chart(
            "cpu",
            "Service CPU",
            "cores",
            "CPU time of the service's process tree between consecutive samples, over the time \
             between them",
            vec![series("cpu", cpu)],
        ),
        chart(
            "fds_threads",
            "Service open files and threads",
            "count",
            method,
            vec![
                series("open fds", points(|s| s.open_fds as f64)),
                series("threads", points(|s| s.threads as f64)),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::fixtures::{go_run, nogo_run};

    fn find<'a>(timeline: &'a Timeline, chart: &str, series: &str) -> &'a SeriesData {
        let chart = timeline.charts.iter().find(|c| c.id == chart).unwrap();
        chart.series.iter().find(|s| s.name == series).unwrap()
    }

    #[test]
    fn workloads_of_the_same_interval_are_merged_into_one_point() {
        let (evidence, _) = go_run();
        let timeline = build(&evidence, POINT_CAP);
        let achieved = find(&timeline, "rate", "achieved");
        let indices: std::collections::BTreeSet<_> = evidence
            .intervals
            .iter()
            .map(|r| (r.phase.clone(), r.index))
            .collect();
        assert_eq!(achieved.points.len(), indices.len());
        // Each point is the sum of every workload's completions over the length.
        let first = &evidence.intervals[0];
        let total: u64 = evidence
            .intervals
            .iter()
            .filter(|r| r.phase == first.phase && r.index == first.index)
            .map(|r| r.stats.outcomes.total())
            .sum();
        let expected = total as f64 / first.length.as_secs_f64();
        let x = (first.start + first.length / 2).as_secs_f64();
        assert!(achieved.points.contains(&[x, expected]), "{achieved:?}");
    }

    #[test]
    fn the_generator_charts_follow_the_latency_chart_where_the_meter_ran() {
        let (mut evidence, _) = go_run();
        let ids = |t: &Timeline| t.charts.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert!(!ids(&build(&evidence, POINT_CAP)).contains(&"generator".to_string()));
        let mut hiccup = crate::model::new_histogram();
        hiccup.record_n(50_000, 10).unwrap();
        for record in &mut evidence.intervals {
            record.health = Some(crate::model::GeneratorHealth {
                hiccup: hiccup.clone().into(),
                sched: crate::model::SchedEvidence {
                    throttled_us: Some(250_000),
                    covered_us: 1_000_000,
                    ..Default::default()
                },
            });
        }
        let timeline = build(&evidence, POINT_CAP);
        assert_eq!(
            ids(&timeline)[..3],
            ["latency", "generator", "generator_cpu"]
        );
        let p99 = find(&timeline, "generator", "hiccup p99");
        assert!(
            p99.points.iter().all(|p| (p[1] - 0.05).abs() < 0.001),
            "{p99:?}"
        );
        let throttled = find(&timeline, "generator_cpu", "throttled");
        assert!(throttled.points.iter().all(|p| (p[1] - 0.25).abs() < 1e-9));
        let run_queue = find(&timeline, "generator_cpu", "run-queue wait");
        assert!(run_queue.points.is_empty(), "unknown is not drawn as 0");
    }

    #[test]
    fn error_kinds_that_occurred_get_a_line_each() {
        let (evidence, _) = nogo_run();
        let timeline = build(&evidence, POINT_CAP);
        let errors = timeline.charts.iter().find(|c| c.id == "errors").unwrap();
        let names: Vec<&str> = errors.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["status mismatch", "connect error", "I/O error"]);
        let (evidence, _) = go_run();
        let timeline = build(&evidence, POINT_CAP);
        let errors = timeline.charts.iter().find(|c| c.id == "errors").unwrap();
        assert!(errors.series.iter().all(|s| !s.name.contains("connect")));
    }

    #[test]
    fn long_series_are_capped_and_say_so() {
        let (evidence, _) = nogo_run();
        let full = build(&evidence, POINT_CAP);
        let capped = build(&evidence, 3);
        let rss_full = find(&full, "rss", "rss");
        let rss = find(&capped, "rss", "rss");
        assert!(rss_full.points.len() > 3 && !rss_full.downsampled());
        assert_eq!(rss.points.len(), 3);
        assert_eq!(rss.source_points as usize, rss_full.points.len());
        assert!(rss.downsampled());
        // Headline numbers come from every point, not from the drawn ones.
        assert_eq!(rss.peak, rss_full.peak);
        assert_eq!(rss.median, rss_full.median);
        let max = evidence
            .samples
            .iter()
            .filter(|s| s.processes > 0)
            .map(|s| s.rss_bytes)
            .max()
            .unwrap();
        assert_eq!(rss.peak.unwrap()[1], max as f64);
    }

    #[test]
    fn phase_bands_mark_the_warm_up() {
        let (evidence, _) = nogo_run();
        let timeline = build(&evidence, POINT_CAP);
        assert_eq!(timeline.phases.len(), evidence.phases.len());
        for (band, phase) in timeline.phases.iter().zip(&evidence.phases) {
            assert_eq!(band.start_seconds, phase.started.as_secs_f64());
            assert_eq!(
                band.measured_from_seconds,
                (phase.started + phase.warmup).as_secs_f64()
            );
        }
    }
}

//! The generator's starvation check: whether gonogo's own process was starved of
//! CPU during an interval, from the hiccup meter and the kernel's scheduling
//! evidence stored with it (`model::GeneratorHealth`).
//!
//! Owns: the bounds (see `docs/method.md`, "The generator's own health") and the
//! summary of a window of intervals as a [`Starved`] cause. Does not own: the
//! send-delay and shortfall rules of the self-check (`evaluate::load`), which this
//! extends: a starved interval is generator-bound like one of theirs.

use std::time::Duration;

use crate::model::{IntervalRecord, Metric, Starved};
use crate::plan::CriterionPlan;
use crate::units::format;

/// The hiccup meter's p99 lateness may be at most this share of a latency
/// criterion's threshold: a stall that long, in one wake-up of a hundred, is added
/// to the response time of every request in flight during it.
pub const HICCUP_SHARE_OF_THRESHOLD: f64 = 0.1;
/// The hiccup p99 bound when the criterion has no latency threshold (throughput,
/// errors, capacity ramps without a latency stop): the self-check's send-delay limit
/// (`GENERATOR_DELAY_LIMIT`), above the few-millisecond scheduling hiccups that a
/// shared machine shows even when gonogo has CPU to spare.
pub const HICCUP_LIMIT: Duration = Duration::from_millis(5);
/// The hiccup p99 bound is never below this: on a machine busy with other work (the
/// tests of a suite side by side on two cores) the meter's p99 reaches a millisecond
/// or two while gonogo keeps up.
pub const HICCUP_FLOOR: Duration = Duration::from_millis(2);
/// The share of an interval gonogo may have been stopped (the meter's summed
/// lateness) or throttled (its cgroup's throttled time).
pub const STALL_LIMIT: f64 = 0.1;
/// The share of the time gonogo's threads were ready to run that they waited for a
/// CPU above which the report's evidence stands out. Not a rule of
/// [`IntervalStarvation::starved`]: see there why.
pub const RUN_QUEUE_LIMIT: f64 = 0.7;
/// Run-queue wait counts only when it is at least this share of the interval
/// (summed over gonogo's threads): a lightly loaded gonogo on a busy machine waits
/// most of its short runs, a tenth of the time or so, without falling behind.
pub const RUN_QUEUE_FLOOR: f64 = 0.25;
/// Host steal time, as a share of the interval (of one CPU's time).
pub const STEAL_LIMIT: f64 = 0.1;

/// The hiccup p99 bound for `criterion`: 10% of a latency threshold (at least
/// [`HICCUP_FLOOR`]), else [`HICCUP_LIMIT`].
pub fn hiccup_bound(criterion: Option<&CriterionPlan>) -> Duration {
    match criterion {
        Some(c) if matches!(c.metric, Metric::Latency(_)) => latency_bound(c.threshold),
        _ => HICCUP_LIMIT,
    }
}

/// The hiccup p99 bound for a latency threshold of `seconds`.
pub fn latency_bound(seconds: f64) -> Duration {
    let share = if seconds.is_finite() && seconds > 0.0 {
        Duration::from_secs_f64(seconds * HICCUP_SHARE_OF_THRESHOLD)
    } else {
        HICCUP_LIMIT
    };
    share.max(HICCUP_FLOOR)
}

/// What one interval's health shows (each figure `None` where it was not measured).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntervalStarvation {
    pub hiccup_p99: Option<Duration>,
    pub stopped: f64,
    pub throttled: Option<f64>,
    pub run_queue: Option<f64>,
    pub steal: Option<f64>,
}

impl IntervalStarvation {
    /// The figures of `record`; `None` when it carries no health.
    pub fn of(record: &IntervalRecord) -> Option<IntervalStarvation> {
        let health = record.health.as_ref()?;
        let length = health.covered(record.length);
        let length_us = length.as_micros() as f64;
        let run_queue = health.run_queue_share().filter(|_| {
            let wait = health.sched.run_queue_wait_us.unwrap_or(0) as f64;
            length_us > 0.0 && wait / length_us >= RUN_QUEUE_FLOOR
        });
        Some(IntervalStarvation {
            hiccup_p99: health.hiccup_at(0.99).map(Duration::from_micros),
            stopped: if length_us > 0.0 {
                (health.sched.hiccup_total_us as f64 / length_us).min(1.0)
            } else {
                0.0
            },
            throttled: health.throttled_share(length),
            run_queue,
            steal: health
                .sched
                .steal_us
                .filter(|_| length_us > 0.0)
                .map(|s| s as f64 / length_us),
        })
    }

    /// Whether these figures make the interval generator-bound under `hiccup_bound`.
    ///
    /// The run-queue share is evidence shown in the report, not a rule: on a machine
    /// busy with other work (the tests of a suite run side by side on two cores) a
    /// gonogo that keeps up waits as long as one beside a spinning neighbour, so it
    /// cannot tell them apart; the hiccup meter can (see `docs/method.md`).
    pub fn starved(&self, hiccup_bound: Duration) -> bool {
        self.hiccup_p99.is_some_and(|p| p > hiccup_bound)
            || self.stopped > STALL_LIMIT
            || self.throttled.is_some_and(|t| t > STALL_LIMIT)
            || self.steal.is_some_and(|s| s > STEAL_LIMIT)
    }

    /// The share of the interval gonogo was not running, by any of the signals.
    pub fn not_running(&self) -> f64 {
        [self.throttled, self.steal]
            .into_iter()
            .flatten()
            .fold(self.stopped, f64::max)
            .min(1.0)
    }
}

/// Whether `record` was starved under `hiccup_bound` (false without health).
pub fn starved(record: &IntervalRecord, hiccup_bound: Duration) -> bool {
    IntervalStarvation::of(record).is_some_and(|s| s.starved(hiccup_bound))
}

/// The starvation over a window of intervals; `None` when no interval was starved.
/// Intervals of several workloads that share an index carry the same health and
/// count once.
pub fn window(records: &[&IntervalRecord], hiccup_bound: Duration) -> Option<Starved> {
    let mut seen = std::collections::BTreeMap::new();
    for record in records {
        if let Some(figures) = IntervalStarvation::of(record) {
            seen.entry((record.phase.as_str(), record.index))
                .or_insert(figures);
        }
    }
    let starved: Vec<&IntervalStarvation> =
        seen.values().filter(|s| s.starved(hiccup_bound)).collect();
    if starved.is_empty() {
        return None;
    }
    let worst = |f: fn(&IntervalStarvation) -> Option<f64>| {
        starved
            .iter()
            .filter_map(|s| f(s))
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
    };
    let mut signals = Vec::new();
    if let Some(p99) = worst(|s| s.hiccup_p99.map(|d| d.as_secs_f64()))
        && p99 > hiccup_bound.as_secs_f64()
    {
        signals.push(format!(
            "its hiccup meter woke up to {} late at p99 (bound {})",
            format::seconds(p99),
            format::seconds(hiccup_bound.as_secs_f64())
        ));
    }
    let mut share = |what: &str, value: Option<f64>, bound: f64| {
        if let Some(value) = value.filter(|v| *v > bound) {
            signals.push(format!(
                "{what} up to {} (bound {})",
                format::percent(value),
                format::percent(bound)
            ));
        }
    };
    share("stopped", worst(|s| Some(s.stopped)), STALL_LIMIT);
    share(
        "throttled by its cgroup",
        worst(|s| s.throttled),
        STALL_LIMIT,
    );
    share("host steal time", worst(|s| s.steal), STEAL_LIMIT);
    Some(Starved {
        intervals: starved.len(),
        of: seen.len(),
        worst_not_running: starved.iter().map(|s| s.not_running()).fold(0.0, f64::max),
        signals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GeneratorHealth, IntervalStats, SchedEvidence, new_histogram};

    /// An interval of 1 s whose meter woke `wakes` times `late_us` late (and 999
    /// times on time), with `sched` as its scheduling evidence.
    fn interval(index: u32, late_us: u64, wakes: u64, sched: SchedEvidence) -> IntervalRecord {
        let mut hiccup = new_histogram();
        hiccup.record_n(20, 999).unwrap();
        hiccup.record_n(late_us, wakes).unwrap();
        IntervalRecord {
            phase: "p".into(),
            workload: "w".into(),
            index,
            start: Duration::from_secs(u64::from(index)),
            length: Duration::from_secs(1),
            warmup: false,
            generator_cpu_seconds: 0.1,
            stats: IntervalStats::default(),
            health: Some(GeneratorHealth {
                hiccup: hiccup.into(),
                sched,
            }),
        }
    }

    #[test]
    fn the_hiccup_bound_follows_the_latency_threshold() {
        assert_eq!(latency_bound(0.05), Duration::from_millis(5));
        assert_eq!(latency_bound(0.002), HICCUP_FLOOR, "never below the floor");
        assert_eq!(latency_bound(f64::NAN), HICCUP_LIMIT);
        assert_eq!(hiccup_bound(None), HICCUP_LIMIT);
    }

    #[test]
    fn a_stopped_generator_is_starved_and_said_so() {
        // 10 stops of 50 ms in a second: stopped 49% of the time.
        let sched = SchedEvidence {
            hiccup_total_us: 490_000,
            ..SchedEvidence::default()
        };
        let stopped = interval(0, 50_000, 10, sched);
        let fine = interval(1, 300, 5, SchedEvidence::default());
        assert!(starved(&stopped, Duration::from_millis(20)));
        assert!(!starved(&fine, Duration::from_millis(2)));
        let starved = window(&[&stopped, &fine], Duration::from_millis(20)).unwrap();
        assert_eq!((starved.intervals, starved.of), (1, 2));
        assert!((starved.worst_not_running - 0.49).abs() < 1e-9);
        let text = starved.to_string();
        assert!(
            text.contains("not running for 49% of the time in 1 of 2"),
            "{text}"
        );
        assert!(text.contains("not the service"), "{text}");
    }

    #[test]
    fn each_signal_has_its_bound() {
        let bound = Duration::from_millis(5);
        // The hiccup p99 alone: 2% of wakes 8 ms late.
        assert!(starved(
            &interval(0, 8_000, 20, SchedEvidence::default()),
            bound
        ));
        assert!(!starved(
            &interval(0, 4_000, 20, SchedEvidence::default()),
            bound
        ));
        let sched = |f: fn(&mut SchedEvidence)| {
            let mut s = SchedEvidence::default();
            f(&mut s);
            interval(0, 20, 1, s)
        };
        assert!(starved(&sched(|s| s.throttled_us = Some(200_000)), bound));
        assert!(!starved(&sched(|s| s.throttled_us = Some(50_000)), bound));
        let waited = |s: &mut SchedEvidence| {
            s.run_queue_wait_us = Some(800_000);
            s.threads_cpu_us = Some(200_000);
        };
        assert!(
            !starved(&sched(waited), bound),
            "run-queue wait is evidence only"
        );
        let busy_machine = |s: &mut SchedEvidence| {
            s.run_queue_wait_us = Some(600_000);
            s.threads_cpu_us = Some(400_000);
        };
        assert!(!starved(&sched(busy_machine), bound), "60%: a busy machine");
        let little = |s: &mut SchedEvidence| {
            s.run_queue_wait_us = Some(150_000);
            s.threads_cpu_us = Some(60_000);
        };
        assert!(
            !starved(&sched(little), bound),
            "a short wait is no starvation"
        );
        assert!(starved(&sched(|s| s.steal_us = Some(300_000)), bound));
        assert!(
            !starved(&sched(|s| s.steal_us = None), bound),
            "unknown is not 0"
        );
    }

    #[test]
    fn no_health_is_no_starvation() {
        let mut record = interval(0, 50_000, 100, SchedEvidence::default());
        record.health = None;
        assert!(!starved(&record, HICCUP_FLOOR));
        assert_eq!(window(&[&record], HICCUP_FLOOR), None);
    }
}

//! Emergency stop limits, watched over the record stream.
//!
//! Owns: [`LimitWatch`], a small pure state machine the conductor feeds every record
//! it writes; it answers with an `EmergencyStop` event the first time a `[limits]`
//! limit trips. Does not own: stopping anything (the conductor cancels the campaign)
//! nor judging the run (`evaluate` turns the event into a finding).

use std::collections::HashMap;
use std::time::Duration;

use crate::model::{EventKind, Record};
use crate::plan::Limits;

/// Watches resource samples and intervals against the plan's limits.
#[derive(Debug)]
pub struct LimitWatch {
    limits: Limits,
    /// The phase running now, for the event.
    phase: Option<String>,
    /// Per (phase, workload): measured time of consecutive intervals above the error
    /// rate limit.
    streaks: HashMap<(String, String), Duration>,
    tripped: bool,
}

impl LimitWatch {
    pub fn new(limits: Limits) -> Self {
        LimitWatch {
            limits,
            phase: None,
            streaks: HashMap::new(),
            tripped: false,
        }
    }

    /// Observe one record; returns the event to record the first time a limit trips
    /// (later records return `None`).
    ///
    /// - a resource sample with host MemAvailable below `host_memory_floor`, or with
    ///   the service running and its RSS above `service_rss_ceiling`, trips at once;
    /// - an interval of a workload with completed requests and an error rate above
    ///   `error_rate` extends that workload's streak by its length, any other interval
    ///   with completed requests ends it; a streak of `window` or more trips.
    pub fn observe(&mut self, record: &Record) -> Option<EventKind> {
        if self.tripped {
            return None;
        }
        let tripped = match record {
            Record::PhaseStarted(phase) => {
                self.phase = Some(phase.name.clone());
                None
            }
            Record::PhaseEnded { phase, .. } => {
                if self.phase.as_ref() == Some(phase) {
                    self.phase = None;
                }
                None
            }
            Record::Sample(sample) => {
                let floor = self
                    .limits
                    .host_memory_floor
                    .filter(|&floor| sample.host_available_bytes < floor)
                    .map(|floor| ("host_memory_floor", sample.host_available_bytes, floor));
                let ceiling = self
                    .limits
                    .service_rss_ceiling
                    .filter(|&ceiling| sample.processes > 0 && sample.rss_bytes > ceiling)
                    .map(|ceiling| ("service_rss_ceiling", sample.rss_bytes, ceiling));
                floor
                    .or(ceiling)
                    .map(|(limit, observed, threshold)| (limit, observed as f64, threshold as f64))
            }
            Record::Interval(interval) => self.limits.error_rate.and_then(|limit| {
                let total = interval.stats.outcomes.total();
                if total == 0 {
                    return None;
                }
                let ratio = interval.stats.outcomes.failed() as f64 / total as f64;
                let key = (interval.phase.clone(), interval.workload.clone());
                let streak = self.streaks.entry(key).or_default();
                if ratio > limit.ratio {
                    *streak += interval.length;
                } else {
                    *streak = Duration::ZERO;
                }
                (*streak >= limit.window).then_some(("error_rate", ratio, limit.ratio))
            }),
            Record::Event(_) | Record::Artifact(_) | Record::Integrity(_) | Record::BadInput(_) => {
                None
            }
        };
        let (limit, observed, threshold) = tripped?;
        self.tripped = true;
        Some(EventKind::EmergencyStop {
            limit: limit.to_string(),
            observed,
            threshold,
            phase: self.phase.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IntervalRecord, IntervalStats, OutcomeCounts, ResourceSample};
    use crate::plan::ErrorRateLimit;

    fn sample(rss: u64, available: u64, processes: u32) -> Record {
        Record::Sample(ResourceSample {
            at: Duration::from_secs(1),
            processes,
            rss_bytes: rss,
            cpu_seconds: 0.0,
            threads: 1,
            open_fds: 1,
            host_available_bytes: available,
        })
    }

    fn interval(ok: u64, failed: u64) -> Record {
        Record::Interval(Box::new(IntervalRecord {
            phase: "p".into(),
            workload: "w".into(),
            index: 0,
            start: Duration::ZERO,
            length: Duration::from_secs(1),
            warmup: false,
            generator_cpu_seconds: 0.0,
            health: None,
            stats: IntervalStats {
                outcomes: OutcomeCounts {
                    ok,
                    timeout: failed,
                    ..OutcomeCounts::default()
                },
                ..IntervalStats::default()
            },
        }))
    }

    #[test]
    fn memory_limits_trip_once_and_name_the_phase() {
        let mut watch = LimitWatch::new(Limits {
            host_memory_floor: Some(1000),
            service_rss_ceiling: Some(500),
            error_rate: None,
        });
        assert_eq!(watch.observe(&sample(400, 2000, 1)), None);
        // A stopped service's RSS is not the service's.
        assert_eq!(watch.observe(&sample(900, 2000, 0)), None);
        let _ = watch.observe(&Record::PhaseEnded {
            phase: "none".into(),
            at: Duration::ZERO,
            abandoned: 0,
        });
        assert_eq!(
            watch.observe(&sample(600, 2000, 1)),
            Some(EventKind::EmergencyStop {
                limit: "service_rss_ceiling".into(),
                observed: 600.0,
                threshold: 500.0,
                phase: None,
            })
        );
        assert_eq!(watch.observe(&sample(600, 10, 1)), None, "only once");

        let mut watch = LimitWatch::new(Limits {
            host_memory_floor: Some(1000),
            ..Limits::default()
        });
        assert!(matches!(
            watch.observe(&sample(0, 999, 1)),
            Some(EventKind::EmergencyStop { limit, .. }) if limit == "host_memory_floor"
        ));
    }

    #[test]
    fn error_rate_trips_only_when_sustained_for_the_window() {
        let mut watch = LimitWatch::new(Limits {
            error_rate: Some(ErrorRateLimit {
                ratio: 0.5,
                window: Duration::from_secs(3),
            }),
            ..Limits::default()
        });
        // Two bad seconds, a good one, an empty one (no requests: neither), then three bad.
        for record in [
            interval(1, 9),
            interval(1, 9),
            interval(9, 1),
            interval(0, 0),
        ] {
            assert_eq!(watch.observe(&record), None);
        }
        assert_eq!(watch.observe(&interval(2, 8)), None);
        assert_eq!(watch.observe(&interval(2, 8)), None);
        assert!(matches!(
            watch.observe(&interval(4, 6)),
            Some(EventKind::EmergencyStop { limit, observed, threshold, .. })
                if limit == "error_rate" && observed == 0.6 && threshold == 0.5
        ));
    }
}

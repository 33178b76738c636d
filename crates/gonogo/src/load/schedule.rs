//! When each request is due: the schedule and the stop condition, as values.
//!
//! Owns: the open-model arrival schedule (intended send time of request `i` is
//! `t0 + i / rate`, computed from the plan, never from sleeps), the closed-model
//! "as soon as a connection is free" rule, and the count of planned sends inside an
//! interval. Does not own: sending or measuring.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How request send times are decided for one workload in one phase.
#[derive(Debug)]
pub struct Schedule {
    start: Instant,
    end: Instant,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    /// Fixed arrival rate: ticket `i` is due at `start + i / rate`.
    Open { rate: f64, next: AtomicU64 },
    /// Each free connection sends at once, until `end`.
    Closed,
}

/// A request the schedule wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// When the request is due. Latency in the open model is measured from here.
    pub intended: Instant,
}

impl Schedule {
    /// Open model at `rate` requests/s from `start` for `length`.
    pub fn open(start: Instant, length: Duration, rate: f64) -> Self {
        Schedule {
            start,
            end: start + length,
            mode: Mode::Open {
                rate,
                next: AtomicU64::new(0),
            },
        }
    }

    /// Closed model: send whenever a connection is free, from `start` for `length`.
    pub fn closed(start: Instant, length: Duration) -> Self {
        Schedule {
            start,
            end: start + length,
            mode: Mode::Closed,
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// When load stops being offered.
    pub fn end(&self) -> Instant {
        self.end
    }

    pub fn is_open(&self) -> bool {
        matches!(self.mode, Mode::Open { .. })
    }

    /// The next request to send, for a connection that became free at `now`;
    /// `None` once the schedule has nothing more before its end (the stop condition).
    pub fn next(&self, now: Instant) -> Option<Ticket> {
        match &self.mode {
            Mode::Open { rate, next } => {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let intended = self.start + Duration::from_secs_f64(i as f64 / rate);
                (intended < self.end).then_some(Ticket { intended })
            }
            Mode::Closed => (now < self.end).then_some(Ticket { intended: now }),
        }
    }

    /// How many sends the schedule intends in `[from, to)` (offsets from `start`),
    /// clipped to the schedule's length. Zero in the closed model.
    pub fn planned_between(&self, from: Duration, to: Duration) -> u64 {
        self.planned_before(to)
            .saturating_sub(self.planned_before(from))
    }

    /// How many tickets are due before `offset` from `start` (clipped to the
    /// schedule's length): exactly the tickets [`Schedule::next`] hands out with an
    /// intended time before `start + offset`, computed with the same arithmetic, so
    /// that no ticket is counted in two intervals or in none. Zero in the closed model.
    pub fn planned_before(&self, offset: Duration) -> u64 {
        let Mode::Open { rate, .. } = self.mode else {
            return 0;
        };
        let offset = offset.min(self.end.duration_since(self.start));
        let due = |i: u64| Duration::from_secs_f64(i as f64 / rate);
        // Ticket i is due at i / rate: about ceil(offset * rate) are due before
        // `offset`; floating point may be one off either way, so check the neighbours.
        let mut count = (offset.as_secs_f64() * rate).ceil().max(0.0) as u64;
        while count > 0 && due(count - 1) >= offset {
            count -= 1;
        }
        while due(count) < offset {
            count += 1;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_schedule_spaces_tickets_by_the_rate_and_stops_at_the_end() {
        let t0 = Instant::now();
        let schedule = Schedule::open(t0, Duration::from_millis(10), 1000.0);
        let tickets: Vec<Ticket> = std::iter::from_fn(|| schedule.next(t0)).collect();
        assert_eq!(tickets.len(), 10);
        assert_eq!(tickets[0].intended, t0);
        assert_eq!(tickets[3].intended, t0 + Duration::from_millis(3));
        assert!(schedule.next(t0).is_none(), "stays exhausted");
    }

    #[test]
    fn closed_schedule_sends_at_once_until_the_end() {
        let t0 = Instant::now();
        let schedule = Schedule::closed(t0, Duration::from_secs(1));
        let now = t0 + Duration::from_millis(500);
        assert_eq!(schedule.next(now), Some(Ticket { intended: now }));
        assert_eq!(schedule.next(t0 + Duration::from_secs(1)), None);
        assert_eq!(
            schedule.planned_between(Duration::ZERO, Duration::from_secs(1)),
            0
        );
    }

    #[test]
    fn planned_counts_partition_the_schedule_exactly() {
        let t0 = Instant::now();
        let schedule = Schedule::open(t0, Duration::from_millis(2500), 333.0);
        let second = Duration::from_secs(1);
        let parts: Vec<u64> = (0..3)
            .map(|k| schedule.planned_between(second * k, second * (k + 1)))
            .collect();
        let total: u64 = parts.iter().sum();
        let issued = std::iter::from_fn(|| schedule.next(t0)).count() as u64;
        assert_eq!(
            total, issued,
            "interval counts add up to the tickets issued"
        );
        assert_eq!(parts[0], 333);
        assert_eq!(parts[2], 167, "the last half second");
    }

    #[test]
    fn planned_counts_match_the_tickets_intended_times_at_every_boundary() {
        let t0 = Instant::now();
        // Rates whose ticket times fall on (or a rounding error from) the boundaries.
        for rate in [0.3, 1.0, 3.0, 7.0, 333.0, 1000.0, 1e6 / 7.0] {
            let schedule = Schedule::open(t0, Duration::from_secs(3), rate);
            let intended: Vec<Duration> = std::iter::from_fn(|| schedule.next(t0))
                .map(|t| t.intended.duration_since(t0))
                .collect();
            for tenth in 0..=35 {
                let offset = Duration::from_millis(100 * tenth);
                let expected = intended.iter().filter(|&&at| at < offset).count() as u64;
                assert_eq!(
                    schedule.planned_before(offset),
                    expected,
                    "rate {rate}, before {offset:?}"
                );
            }
        }
    }
}

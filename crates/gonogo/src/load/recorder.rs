//! Per-interval accumulation of request results for one workload.
//!
//! Owns: bucketing each finished request into the interval of its completion time,
//! and handing closed intervals to the aggregator. The buckets are sharded, one shard
//! per load runtime: a worker locks only its own runtime's shard (uncontended but for
//! the aggregator's visit once per interval), and the aggregator merges the shards'
//! histograms when it takes an interval (merged, never averaged). A result that
//! arrives for an interval already taken goes into the oldest open one, so nothing is
//! ever dropped.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::model::IntervalStats;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Ok,
    StatusMismatch,
    ConnectError,
    Timeout,
    IoError,
}

impl RequestOutcome {
    /// The outcome's name as intervals count it: `ok`, `status_mismatch`, …
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Ok => "ok",
            RequestOutcome::StatusMismatch => "status_mismatch",
            RequestOutcome::ConnectError => "connect_error",
            RequestOutcome::Timeout => "timeout",
            RequestOutcome::IoError => "io_error",
        }
    }
}

/// Everything measured about one request.
#[derive(Debug, Clone, Copy)]
pub struct RequestResult {
    pub intended: Instant,
    /// When a connection became free to take this request.
    pub picked: Instant,
    pub sent: Instant,
    pub done: Instant,
    pub outcome: RequestOutcome,
    /// Whether the request had to wait for a free connection (in-flight cap).
    pub cap_wait: bool,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

fn micros(d: Duration) -> u64 {
    // HDR histograms cannot hold 0 usefully at this precision; 1 µs is the floor.
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// `d` in nanoseconds, saturating (a u64 holds 584 years).
fn nanos(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()))
}

/// Interval buckets for one workload, shared by its workers.
#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    /// The interval length in nanoseconds (at least 1): bucketing divides by it per
    /// request, and a 64-bit division is many times cheaper than `Duration`'s 128-bit one.
    interval_nanos: u64,
    last_index: u32,
    shards: Vec<Mutex<Buckets>>,
    /// Send counts per shard, so runtimes never write the same cache line.
    sends: Vec<ShardSends>,
    /// Sends in the intervals taken so far (the aggregator's alone).
    sends_taken: AtomicU64,
}

/// One shard's counts per interval, by send time: no lock, one writer runtime.
#[derive(Debug)]
#[repr(align(128))]
struct ShardSends {
    /// Requests sent in each interval.
    sent: Vec<AtomicU64>,
    /// The most requests in flight (all shards) at one of this shard's sends.
    peak: Vec<AtomicU64>,
}

#[derive(Debug, Default)]
struct Buckets {
    /// Intervals below this index were taken by the aggregator.
    next_open: u32,
    open: BTreeMap<u32, IntervalStats>,
}

impl Recorder {
    /// Buckets of `interval` from `start`, in `shards` shards (at least one);
    /// completions after the last interval (during the drain) count in the last one,
    /// `last_index`.
    pub fn new(start: Instant, interval: Duration, last_index: u32, shards: usize) -> Self {
        Recorder {
            start,
            interval_nanos: nanos(interval).max(1),
            last_index,
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Buckets::default()))
                .collect(),
            sends: (0..shards.max(1))
                .map(|_| ShardSends {
                    sent: (0..=last_index).map(|_| AtomicU64::new(0)).collect(),
                    peak: (0..=last_index).map(|_| AtomicU64::new(0)).collect(),
                })
                .collect(),
            sends_taken: AtomicU64::new(0),
        }
    }

    /// Count a request sent at `at` in the interval of its send time, with the
    /// requests then in flight (itself included). An interval closes after its end, so
    /// every send inside it is counted before it is taken.
    pub fn sent(&self, shard: usize, at: Instant, in_flight: u64) {
        let index = self.index_of(at) as usize;
        let sends = &self.sends[shard % self.sends.len()];
        if let (Some(count), Some(peak)) = (sends.sent.get(index), sends.peak.get(index)) {
            count.fetch_add(1, Ordering::Relaxed);
            peak.fetch_max(in_flight, Ordering::Relaxed);
        }
    }

    fn index_of(&self, at: Instant) -> u32 {
        let index = nanos(at.saturating_duration_since(self.start)) / self.interval_nanos;
        u32::try_from(index)
            .unwrap_or(u32::MAX)
            .min(self.last_index)
    }

    /// Record `result` in shard `shard` (the recording worker's runtime).
    pub fn record(&self, shard: usize, result: &RequestResult) {
        let index = self.index_of(result.done);
        let response = micros(result.done.saturating_duration_since(result.intended));
        let service = micros(result.done.saturating_duration_since(result.sent));
        let lag = micros(result.sent.saturating_duration_since(result.intended));
        let gen_delay = micros(
            result
                .sent
                .saturating_duration_since(result.intended.max(result.picked)),
        );
        let mut buckets = lock(&self.shards[shard % self.shards.len()]);
        let index = index.max(buckets.next_open);
        let stats = buckets.open.entry(index).or_default();
        // Auto-resizing histograms accept any value; recording cannot fail.
        let _ = stats.response.record(response);
        let _ = stats.service.record(service);
        let _ = stats.lag.record(lag);
        let _ = stats.gen_delay.record(gen_delay);
        let counts = &mut stats.outcomes;
        match result.outcome {
            RequestOutcome::Ok => counts.ok += 1,
            RequestOutcome::StatusMismatch => counts.status_mismatch += 1,
            RequestOutcome::ConnectError => counts.connect_error += 1,
            RequestOutcome::Timeout => counts.timeout += 1,
            RequestOutcome::IoError => counts.io_error += 1,
        }
        stats.cap_waits += u64::from(result.cap_wait);
        stats.bytes_sent += result.bytes_sent;
        stats.bytes_received += result.bytes_received;
    }

    /// Take interval `index` (and any earlier leftovers, merged into it); later
    /// results for it go to the next interval.
    pub fn take(&self, index: u32) -> IntervalStats {
        self.take_through(index, index)
    }

    /// Take interval `index` as the phase's last: everything still held (results and
    /// sends bucketed in later intervals too, which a stopped phase never closes) is
    /// merged into it.
    pub fn take_rest(&self, index: u32) -> IntervalStats {
        self.take_through(index, self.last_index)
    }

    /// Sends counted in the intervals taken so far.
    pub fn sent_so_far(&self) -> u64 {
        self.sends_taken.load(Ordering::Relaxed)
    }

    /// Interval `index` with the results and sends of every interval up to `through`.
    fn take_through(&self, index: u32, through: u32) -> IntervalStats {
        let through = through.max(index);
        let mut taken = IntervalStats::default();
        for shard in &self.shards {
            // Take the shard's buckets under its lock; merge after releasing it.
            let closed = {
                let mut buckets = lock(shard);
                let keep = buckets.open.split_off(&through.saturating_add(1));
                buckets.next_open = buckets.next_open.max(through.saturating_add(1));
                std::mem::replace(&mut buckets.open, keep)
            };
            for stats in closed.values() {
                taken.merge(stats);
            }
        }
        for sends in &self.sends {
            let counts = sends.sent.iter().zip(&sends.peak);
            for (count, peak) in counts
                .skip(index as usize)
                .take((through - index) as usize + 1)
            {
                taken.sent += count.swap(0, Ordering::Relaxed);
                taken.peak_in_flight = taken.peak_in_flight.max(peak.swap(0, Ordering::Relaxed));
            }
        }
        self.sends_taken.fetch_add(taken.sent, Ordering::Relaxed);
        taken
    }
}

fn lock(shard: &Mutex<Buckets>) -> std::sync::MutexGuard<'_, Buckets> {
    match shard.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorder of intervals of `interval` from now (also returned) up to
    /// `last_index`, in `shards` shards.
    fn recorder(interval: Duration, last_index: u32, shards: usize) -> (Instant, Recorder) {
        let t0 = Instant::now();
        (t0, Recorder::new(t0, interval, last_index, shards))
    }

    fn result(start: Instant, done_ms: u64, outcome: RequestOutcome) -> RequestResult {
        RequestResult {
            intended: start,
            picked: start,
            sent: start + Duration::from_millis(1),
            done: start + Duration::from_millis(done_ms),
            outcome,
            cap_wait: false,
            bytes_sent: 10,
            bytes_received: 20,
        }
    }

    #[test]
    fn results_land_in_the_interval_of_their_completion() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 9, 1);
        recorder.record(0, &result(t0, 500, RequestOutcome::Ok));
        recorder.record(0, &result(t0, 1500, RequestOutcome::Timeout));
        let first = recorder.take(0);
        assert_eq!(first.outcomes.ok, 1);
        assert_eq!(first.outcomes.timeout, 0);
        assert_eq!(
            first.response.max(),
            first.response.highest_equivalent(500_000)
        );
        let second = recorder.take(1);
        assert_eq!(second.outcomes.timeout, 1);
        assert_eq!(second.bytes_received, 20);
    }

    #[test]
    fn bucketing_is_exact_at_interval_edges_and_saturates_far_out() {
        let (t0, recorder) = recorder(Duration::from_millis(250), 9, 1);
        assert_eq!(recorder.index_of(t0), 0);
        assert_eq!(recorder.index_of(t0 + Duration::from_nanos(249_999_999)), 0);
        assert_eq!(recorder.index_of(t0 + Duration::from_millis(250)), 1);
        assert_eq!(recorder.index_of(t0 + Duration::from_secs(2)), 8);
        assert_eq!(recorder.index_of(t0 + Duration::from_secs(3600)), 9);
        assert_eq!(nanos(Duration::MAX), u64::MAX);
        assert_eq!(nanos(Duration::new(3, 7)), 3_000_000_007);
    }

    #[test]
    fn late_results_go_to_the_next_open_interval_not_lost() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 9, 1);
        let _ = recorder.take(0);
        recorder.record(0, &result(t0, 200, RequestOutcome::IoError));
        assert_eq!(recorder.take(1).outcomes.io_error, 1);
    }

    #[test]
    fn completions_after_the_last_interval_count_in_the_last() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 2, 1);
        recorder.record(0, &result(t0, 4_000, RequestOutcome::Ok));
        assert_eq!(recorder.take(2).outcomes.ok, 1);
    }

    #[test]
    fn shards_are_merged_when_an_interval_is_taken() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 9, 3);
        recorder.record(0, &result(t0, 100, RequestOutcome::Ok));
        recorder.record(2, &result(t0, 900, RequestOutcome::Ok));
        recorder.record(4, &result(t0, 1500, RequestOutcome::Timeout));
        let first = recorder.take(0);
        assert_eq!(first.outcomes.ok, 2);
        assert_eq!(first.response.len(), 2, "histograms merged, not averaged");
        assert!(first.response.equivalent(first.response.max(), 900_000));
        assert_eq!(recorder.take(1).outcomes.timeout, 1, "shard 4 wraps to 1");
    }

    #[test]
    fn latency_runs_from_the_intended_time_and_service_time_from_the_send() {
        let (t0, recorder) = recorder(Duration::from_secs(10), 0, 1);
        let r = RequestResult {
            intended: t0,
            picked: t0 + Duration::from_millis(300),
            sent: t0 + Duration::from_millis(301),
            done: t0 + Duration::from_millis(311),
            outcome: RequestOutcome::Ok,
            cap_wait: true,
            bytes_sent: 0,
            bytes_received: 0,
        };
        recorder.record(0, &r);
        let stats = recorder.take(0);
        let near = |h: &hdrhistogram::Histogram<u64>, us: u64| h.equivalent(h.max(), us);
        assert!(near(&stats.response, 311_000));
        assert!(near(&stats.service, 10_000));
        assert!(near(&stats.lag, 301_000));
        assert!(
            near(&stats.gen_delay, 1_000),
            "own delay excludes the cap wait"
        );
        assert_eq!(stats.cap_waits, 1);
    }

    #[test]
    fn sends_count_by_send_time_across_shards_with_the_peak_in_flight() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 9, 2);
        recorder.sent(0, t0 + Duration::from_millis(100), 3);
        recorder.sent(1, t0 + Duration::from_millis(200), 7);
        recorder.sent(1, t0 + Duration::from_millis(1500), 1);
        let first = recorder.take(0);
        assert_eq!((first.sent, first.peak_in_flight), (2, 7));
        let second = recorder.take(1);
        assert_eq!((second.sent, second.peak_in_flight), (1, 1));
        assert_eq!(recorder.take(1).sent, 0, "taken once");
        assert_eq!(recorder.sent_so_far(), 3);
    }

    #[test]
    fn the_rest_of_a_stopped_phase_is_taken_with_its_last_interval() {
        let (t0, recorder) = recorder(Duration::from_secs(1), 9, 2);
        recorder.sent(0, t0 + Duration::from_millis(100), 1);
        recorder.sent(1, t0 + Duration::from_millis(2500), 2);
        recorder.record(1, &result(t0, 2700, RequestOutcome::Ok));
        assert_eq!(recorder.take(0).sent, 1);
        let rest = recorder.take_rest(1);
        assert_eq!(
            (rest.sent, rest.outcomes.ok),
            (1, 1),
            "interval 2 merged in"
        );
        assert_eq!(recorder.sent_so_far(), 2);
        assert_eq!(recorder.take(2).sent, 0, "nothing left behind");
    }
}

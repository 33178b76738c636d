//! What a criterion can measure: [`Metric`] (its spec name, unit, and which evidence
//! it reads), and the resources and figures of the leak metrics.
//!
//! Owns: the closed list of metrics and their names. Does not own: computing them
//! (that is `evaluate`).

use serde::{Deserialize, Serialize};

use crate::units::Unit;

/// What a criterion measures. Evaluation computes each from stored evidence only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Response time (from the intended send time in the open model) percentiles.
    LatencyP50,
    LatencyP90,
    LatencyP99,
    LatencyP999,
    LatencyMax,
    /// Time from the actual send to the end of the response.
    ServiceTimeP99,
    /// Schedule lag: actual send minus intended send.
    LagP99,
    /// Completed requests per second over the measured window.
    Throughput,
    /// Failed requests (any outcome but ok) over all completed requests.
    ErrorRate,
    /// Largest RSS of the service's process tree during the phase.
    RssMax,
    /// Mean CPU use of the service's process tree, in cores.
    CpuMean,
    FdsMax,
    ThreadsMax,
    /// 1 when the service exited without being asked to during the phase, else 0.
    ServiceCrashed,
    /// Soak phases: Theil–Sen growth of the rolling-minimum RSS, bytes per hour.
    LeakRssSlope,
    /// Upper bound of the 95% confidence interval of `leak.rss.slope`.
    LeakRssSlopeUpper,
    /// 1 when the RSS growth is a leak (interval excludes 0, growth ≥ the bound).
    LeakRssDetected,
    /// RSS projected at the leak horizon after the phase's end, bytes.
    LeakRssProjected,
    /// Soak phases: growth of open file descriptors per hour.
    LeakFdsSlope,
    LeakFdsSlopeUpper,
    LeakFdsDetected,
    LeakFdsProjected,
    /// Soak phases: growth of threads per hour.
    LeakThreadsSlope,
    LeakThreadsSlopeUpper,
    LeakThreadsDetected,
    LeakThreadsProjected,
    /// Ramp phases: the highest step rate that met every stop condition, requests/s.
    CapacityLastGoodRate,
    /// Ramp phases: the rate of the first step that broke a stop condition.
    CapacityFirstBadRate,
    /// Ramp phases: `capacity.last_good_rate / service.expected_rate`.
    Headroom,
    /// Phases with faults: the longest time from a fault's end to the end of the first
    /// interval that meets the fault's `recovered_when` conditions.
    RecoveryTime,
    /// Integrity phases: acknowledged writes missing or wrong on the read-back.
    IntegrityLost,
    /// Integrity phases: keys present that were never attempted, plus failed writes
    /// found present; not measured without a listing.
    IntegrityUnexpected,
    /// Integrity phases: indeterminate writes found on the read-back.
    IntegrityRecovered,
    /// Integrity phases: writes with no answer (timeout, connection lost after sending).
    IntegrityIndeterminate,
    /// Integrity phases: writes the service confirmed.
    IntegrityAcknowledged,
    /// Integrity phases: the time span of the lost acknowledged writes (0 when none).
    IntegrityRpo,
    /// Scaling phases: exponent b of latency p50 ≈ a·size^b (OLS on log–log).
    ScalingLatencyP50Exponent,
    /// Upper bound of the exponent's 95% confidence interval.
    ScalingLatencyP50ExponentUpper,
    /// Lower bound of the exponent's 95% confidence interval.
    ScalingLatencyP50ExponentLower,
    /// Scaling phases: exponent of latency p99 against size.
    ScalingLatencyP99Exponent,
    ScalingLatencyP99ExponentUpper,
    ScalingLatencyP99ExponentLower,
    /// Scaling phases: exponent of the achieved throughput against size.
    ScalingThroughputExponent,
    ScalingThroughputExponentUpper,
    ScalingThroughputExponentLower,
    /// Scaling phases: exponent of the service's largest RSS against size.
    ScalingRssExponent,
    ScalingRssExponentUpper,
    ScalingRssExponentLower,
}

impl Metric {
    /// All metrics, in the order the spec reference lists them.
    pub const ALL: [Metric; 48] = [
        Metric::LatencyP50,
        Metric::LatencyP90,
        Metric::LatencyP99,
        Metric::LatencyP999,
        Metric::LatencyMax,
        Metric::ServiceTimeP99,
        Metric::LagP99,
        Metric::Throughput,
        Metric::ErrorRate,
        Metric::RssMax,
        Metric::CpuMean,
        Metric::FdsMax,
        Metric::ThreadsMax,
        Metric::ServiceCrashed,
        Metric::LeakRssSlope,
        Metric::LeakRssSlopeUpper,
        Metric::LeakRssDetected,
        Metric::LeakRssProjected,
        Metric::LeakFdsSlope,
        Metric::LeakFdsSlopeUpper,
        Metric::LeakFdsDetected,
        Metric::LeakFdsProjected,
        Metric::LeakThreadsSlope,
        Metric::LeakThreadsSlopeUpper,
        Metric::LeakThreadsDetected,
        Metric::LeakThreadsProjected,
        Metric::CapacityLastGoodRate,
        Metric::CapacityFirstBadRate,
        Metric::Headroom,
        Metric::RecoveryTime,
        Metric::IntegrityLost,
        Metric::IntegrityUnexpected,
        Metric::IntegrityRecovered,
        Metric::IntegrityIndeterminate,
        Metric::IntegrityAcknowledged,
        Metric::IntegrityRpo,
        Metric::ScalingLatencyP50Exponent,
        Metric::ScalingLatencyP50ExponentUpper,
        Metric::ScalingLatencyP50ExponentLower,
        Metric::ScalingLatencyP99Exponent,
        Metric::ScalingLatencyP99ExponentUpper,
        Metric::ScalingLatencyP99ExponentLower,
        Metric::ScalingThroughputExponent,
        Metric::ScalingThroughputExponentUpper,
        Metric::ScalingThroughputExponentLower,
        Metric::ScalingRssExponent,
        Metric::ScalingRssExponentUpper,
        Metric::ScalingRssExponentLower,
    ];

    /// The name used in specs and reports, e.g. `latency.p99`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::LatencyP50 => "latency.p50",
            Metric::LatencyP90 => "latency.p90",
            Metric::LatencyP99 => "latency.p99",
            Metric::LatencyP999 => "latency.p999",
            Metric::LatencyMax => "latency.max",
            Metric::ServiceTimeP99 => "service_time.p99",
            Metric::LagP99 => "lag.p99",
            Metric::Throughput => "throughput",
            Metric::ErrorRate => "error_rate",
            Metric::RssMax => "rss.max",
            Metric::CpuMean => "cpu.mean",
            Metric::FdsMax => "fds.max",
            Metric::ThreadsMax => "threads.max",
            Metric::ServiceCrashed => "service.crashed",
            Metric::LeakRssSlope => "leak.rss.slope",
            Metric::LeakRssSlopeUpper => "leak.rss.slope_upper",
            Metric::LeakRssDetected => "leak.rss.detected",
            Metric::LeakRssProjected => "leak.rss.projected",
            Metric::LeakFdsSlope => "leak.fds.slope",
            Metric::LeakFdsSlopeUpper => "leak.fds.slope_upper",
            Metric::LeakFdsDetected => "leak.fds.detected",
            Metric::LeakFdsProjected => "leak.fds.projected",
            Metric::LeakThreadsSlope => "leak.threads.slope",
            Metric::LeakThreadsSlopeUpper => "leak.threads.slope_upper",
            Metric::LeakThreadsDetected => "leak.threads.detected",
            Metric::LeakThreadsProjected => "leak.threads.projected",
            Metric::CapacityLastGoodRate => "capacity.last_good_rate",
            Metric::CapacityFirstBadRate => "capacity.first_bad_rate",
            Metric::Headroom => "headroom",
            Metric::RecoveryTime => "recovery.time",
            Metric::IntegrityLost => "integrity.lost",
            Metric::IntegrityUnexpected => "integrity.unexpected",
            Metric::IntegrityRecovered => "integrity.recovered",
            Metric::IntegrityIndeterminate => "integrity.indeterminate",
            Metric::IntegrityAcknowledged => "integrity.acknowledged",
            Metric::IntegrityRpo => "integrity.rpo",
            Metric::ScalingLatencyP50Exponent => "scaling.latency_p50.exponent",
            Metric::ScalingLatencyP50ExponentUpper => "scaling.latency_p50.exponent_upper",
            Metric::ScalingLatencyP50ExponentLower => "scaling.latency_p50.exponent_lower",
            Metric::ScalingLatencyP99Exponent => "scaling.latency_p99.exponent",
            Metric::ScalingLatencyP99ExponentUpper => "scaling.latency_p99.exponent_upper",
            Metric::ScalingLatencyP99ExponentLower => "scaling.latency_p99.exponent_lower",
            Metric::ScalingThroughputExponent => "scaling.throughput.exponent",
            Metric::ScalingThroughputExponentUpper => "scaling.throughput.exponent_upper",
            Metric::ScalingThroughputExponentLower => "scaling.throughput.exponent_lower",
            Metric::ScalingRssExponent => "scaling.rss.exponent",
            Metric::ScalingRssExponentUpper => "scaling.rss.exponent_upper",
            Metric::ScalingRssExponentLower => "scaling.rss.exponent_lower",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The unit the metric's value (and its threshold) is expressed in.
    pub fn unit(self) -> Unit {
        if self.scaling().is_some() {
            return Unit::Exponent;
        }
        match self {
            Metric::LatencyP50
            | Metric::LatencyP90
            | Metric::LatencyP99
            | Metric::LatencyP999
            | Metric::LatencyMax
            | Metric::ServiceTimeP99
            | Metric::LagP99 => Unit::Seconds,
            Metric::Throughput | Metric::CapacityLastGoodRate | Metric::CapacityFirstBadRate => {
                Unit::PerSecond
            }
            Metric::Headroom => Unit::Factor,
            Metric::RecoveryTime | Metric::IntegrityRpo => Unit::Seconds,
            Metric::ErrorRate => Unit::Ratio,
            Metric::RssMax | Metric::LeakRssProjected => Unit::Bytes,
            Metric::CpuMean => Unit::Cores,
            Metric::FdsMax
            | Metric::ThreadsMax
            | Metric::LeakFdsProjected
            | Metric::LeakThreadsProjected
            | Metric::IntegrityLost
            | Metric::IntegrityUnexpected
            | Metric::IntegrityRecovered
            | Metric::IntegrityIndeterminate
            | Metric::IntegrityAcknowledged => Unit::Count,
            Metric::ServiceCrashed
            | Metric::LeakRssDetected
            | Metric::LeakFdsDetected
            | Metric::LeakThreadsDetected => Unit::Boolean,
            Metric::LeakRssSlope | Metric::LeakRssSlopeUpper => Unit::BytesPerHour,
            Metric::LeakFdsSlope
            | Metric::LeakFdsSlopeUpper
            | Metric::LeakThreadsSlope
            | Metric::LeakThreadsSlopeUpper => Unit::CountPerHour,
            // Scaling metrics were answered above.
            _ => Unit::Exponent,
        }
    }

    /// Whether the metric is read from an integrity phase's ledger.
    pub fn is_integrity(self) -> bool {
        matches!(
            self,
            Metric::IntegrityLost
                | Metric::IntegrityUnexpected
                | Metric::IntegrityRecovered
                | Metric::IntegrityIndeterminate
                | Metric::IntegrityAcknowledged
                | Metric::IntegrityRpo
        )
    }

    /// Whether the metric is read from a ramp phase's steps.
    pub fn is_capacity(self) -> bool {
        matches!(
            self,
            Metric::CapacityLastGoodRate | Metric::CapacityFirstBadRate | Metric::Headroom
        )
    }

    /// For leak metrics: the resource and what is read of its trend.
    pub fn leak(self) -> Option<(LeakResource, LeakFigure)> {
        use LeakFigure::{Detected, Projected, Slope, SlopeUpper};
        use LeakResource::{Fds, Rss, Threads};
        Some(match self {
            Metric::LeakRssSlope => (Rss, Slope),
            Metric::LeakRssSlopeUpper => (Rss, SlopeUpper),
            Metric::LeakRssDetected => (Rss, Detected),
            Metric::LeakRssProjected => (Rss, Projected),
            Metric::LeakFdsSlope => (Fds, Slope),
            Metric::LeakFdsSlopeUpper => (Fds, SlopeUpper),
            Metric::LeakFdsDetected => (Fds, Detected),
            Metric::LeakFdsProjected => (Fds, Projected),
            Metric::LeakThreadsSlope => (Threads, Slope),
            Metric::LeakThreadsSlopeUpper => (Threads, SlopeUpper),
            Metric::LeakThreadsDetected => (Threads, Detected),
            Metric::LeakThreadsProjected => (Threads, Projected),
            _ => return None,
        })
    }
}

/// A resource whose trend a soak phase checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakResource {
    Rss,
    Fds,
    Threads,
}

impl LeakResource {
    pub const ALL: [LeakResource; 3] =
        [LeakResource::Rss, LeakResource::Fds, LeakResource::Threads];

    /// `rss`, `fds` or `threads`, as in metric names and the spec's `leak` table.
    pub fn name(self) -> &'static str {
        match self {
            LeakResource::Rss => "rss",
            LeakResource::Fds => "fds",
            LeakResource::Threads => "threads",
        }
    }

    /// The unit of the resource's level (its growth is this unit per hour).
    pub fn unit(self) -> Unit {
        match self {
            LeakResource::Rss => Unit::Bytes,
            LeakResource::Fds | LeakResource::Threads => Unit::Count,
        }
    }

    /// The unit of the resource's growth.
    pub fn rate_unit(self) -> Unit {
        match self {
            LeakResource::Rss => Unit::BytesPerHour,
            LeakResource::Fds | LeakResource::Threads => Unit::CountPerHour,
        }
    }
}

/// What a leak metric reads of a resource's trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeakFigure {
    Slope,
    SlopeUpper,
    Detected,
    Projected,
}

//! The latency family: response time percentiles, service time and schedule lag,
//! read from a phase's merged per-interval HDR histograms.

use crate::units::Unit;

/// A latency metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LatencyMetric {
    /// Response time (from the intended send time in the open model) percentiles.
    P50,
    P90,
    P99,
    P999,
    Max,
    /// Time from the actual send to the end of the response, 99th percentile.
    ServiceTimeP99,
    /// Schedule lag (actual send minus intended send), 99th percentile.
    LagP99,
}

impl LatencyMetric {
    pub const ALL: [LatencyMetric; 7] = [
        LatencyMetric::P50,
        LatencyMetric::P90,
        LatencyMetric::P99,
        LatencyMetric::P999,
        LatencyMetric::Max,
        LatencyMetric::ServiceTimeP99,
        LatencyMetric::LagP99,
    ];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            LatencyMetric::P50 => ("latency.p50", "LatencyP50"),
            LatencyMetric::P90 => ("latency.p90", "LatencyP90"),
            LatencyMetric::P99 => ("latency.p99", "LatencyP99"),
            LatencyMetric::P999 => ("latency.p999", "LatencyP999"),
            LatencyMetric::Max => ("latency.max", "LatencyMax"),
            LatencyMetric::ServiceTimeP99 => ("service_time.p99", "ServiceTimeP99"),
            LatencyMetric::LagP99 => ("lag.p99", "LagP99"),
        }
    }

    pub const fn unit(self) -> Unit {
        Unit::Seconds
    }
}

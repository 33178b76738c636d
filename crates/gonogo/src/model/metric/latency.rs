//! The latency family: response time percentiles, service time and schedule lag,
//! read from a phase's merged per-interval HDR histograms.

use crate::units::Unit;

family! {
    /// A latency metric.
    pub enum LatencyMetric {
        /// Response time (from the intended send time in the open model) percentiles.
        P50 => "latency.p50", "LatencyP50", Seconds;
        P90 => "latency.p90", "LatencyP90", Seconds;
        P99 => "latency.p99", "LatencyP99", Seconds;
        P999 => "latency.p999", "LatencyP999", Seconds;
        Max => "latency.max", "LatencyMax", Seconds;
        /// Time from the actual send to the end of the response, 99th percentile.
        ServiceTimeP99 => "service_time.p99", "ServiceTimeP99", Seconds;
        /// Schedule lag (actual send minus intended send), 99th percentile.
        LagP99 => "lag.p99", "LagP99", Seconds;
    }
}

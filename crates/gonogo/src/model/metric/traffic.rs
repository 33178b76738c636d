//! The traffic family (throughput and errors): completed requests per second and the share that
//! failed, read from a phase's measured intervals.

use crate::units::Unit;

family! {
    /// A throughput or error metric.
    pub enum TrafficMetric {
        /// Completed requests per second over the measured window.
        Throughput => "throughput", "Throughput", PerSecond;
        /// Failed requests (any outcome but ok) over all completed requests.
        ErrorRate => "error_rate", "ErrorRate", Ratio;
    }
}

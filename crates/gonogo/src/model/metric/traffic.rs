//! The traffic family (throughput and errors): completed requests per second and the share that
//! failed, read from a phase's measured intervals.

use crate::units::Unit;

/// A throughput or error metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrafficMetric {
    /// Completed requests per second over the measured window.
    Throughput,
    /// Failed requests (any outcome but ok) over all completed requests.
    ErrorRate,
}

impl TrafficMetric {
    pub const ALL: [TrafficMetric; 2] = [TrafficMetric::Throughput, TrafficMetric::ErrorRate];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            TrafficMetric::Throughput => ("throughput", "Throughput"),
            TrafficMetric::ErrorRate => ("error_rate", "ErrorRate"),
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            TrafficMetric::Throughput => Unit::PerSecond,
            TrafficMetric::ErrorRate => Unit::Ratio,
        }
    }
}

//! The capacity family: what a ramp phase's steps say about the breaking point.

use crate::units::Unit;

/// A capacity metric of a ramp phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapacityMetric {
    /// The highest step rate that met every stop condition, requests/s.
    LastGoodRate,
    /// The rate of the first step that broke a stop condition.
    FirstBadRate,
    /// `capacity.last_good_rate / service.expected_rate`.
    Headroom,
}

impl CapacityMetric {
    pub const ALL: [CapacityMetric; 3] = [
        CapacityMetric::LastGoodRate,
        CapacityMetric::FirstBadRate,
        CapacityMetric::Headroom,
    ];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            CapacityMetric::LastGoodRate => ("capacity.last_good_rate", "CapacityLastGoodRate"),
            CapacityMetric::FirstBadRate => ("capacity.first_bad_rate", "CapacityFirstBadRate"),
            CapacityMetric::Headroom => ("headroom", "Headroom"),
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            CapacityMetric::LastGoodRate | CapacityMetric::FirstBadRate => Unit::PerSecond,
            CapacityMetric::Headroom => Unit::Factor,
        }
    }
}

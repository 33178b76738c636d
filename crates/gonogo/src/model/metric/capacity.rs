//! The capacity family: what a ramp phase's steps say about the breaking point.

use crate::units::Unit;

family! {
    /// A capacity metric of a ramp phase.
    pub enum CapacityMetric {
        /// The highest step rate that met every stop condition, requests/s.
        LastGoodRate => "capacity.last_good_rate", "CapacityLastGoodRate", PerSecond;
        /// The rate of the first step that broke a stop condition.
        FirstBadRate => "capacity.first_bad_rate", "CapacityFirstBadRate", PerSecond;
        /// `capacity.last_good_rate / service.expected_rate`.
        Headroom => "headroom", "Headroom", Factor;
    }
}

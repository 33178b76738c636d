//! The recovery family: how long the service took to recover after a fault ended.

use crate::units::Unit;

/// A recovery metric of a phase with faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecoveryMetric {
    /// The longest time from a fault's end to the end of the first interval that
    /// meets the fault's `recovered_when` conditions.
    Time,
}

impl RecoveryMetric {
    pub const ALL: [RecoveryMetric; 1] = [RecoveryMetric::Time];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            RecoveryMetric::Time => ("recovery.time", "RecoveryTime"),
        }
    }

    pub const fn unit(self) -> Unit {
        Unit::Seconds
    }
}

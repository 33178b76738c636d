//! The recovery family: how long the service took to recover after a fault ended.

use crate::units::Unit;

family! {
    /// A recovery metric of a phase with faults.
    pub enum RecoveryMetric {
        /// The longest time from a fault's end to the end of the first interval that
        /// meets the fault's `recovered_when` conditions.
        Time => "recovery.time", "RecoveryTime", Seconds;
    }
}

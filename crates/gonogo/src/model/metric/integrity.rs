//! The integrity family: counts of an integrity phase's ledger after the read-back.

use crate::units::Unit;

family! {
    /// An integrity metric.
    pub enum IntegrityMetric {
        /// Acknowledged writes missing or wrong on the read-back.
        Lost => "integrity.lost", "IntegrityLost", Count;
        /// Keys present that were never attempted, plus failed writes found present; not
        /// measured without a listing.
        Unexpected => "integrity.unexpected", "IntegrityUnexpected", Count;
        /// Indeterminate writes found on the read-back.
        Recovered => "integrity.recovered", "IntegrityRecovered", Count;
        /// Writes with no answer (timeout, connection lost after sending).
        Indeterminate => "integrity.indeterminate", "IntegrityIndeterminate", Count;
        /// Writes the service confirmed.
        Acknowledged => "integrity.acknowledged", "IntegrityAcknowledged", Count;
        /// The time span of the lost acknowledged writes (0 when none).
        Rpo => "integrity.rpo", "IntegrityRpo", Seconds;
    }
}

//! The integrity family: counts of an integrity phase's ledger after the read-back.

use crate::units::Unit;

/// An integrity metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrityMetric {
    /// Acknowledged writes missing or wrong on the read-back.
    Lost,
    /// Keys present that were never attempted, plus failed writes found present; not
    /// measured without a listing.
    Unexpected,
    /// Indeterminate writes found on the read-back.
    Recovered,
    /// Writes with no answer (timeout, connection lost after sending).
    Indeterminate,
    /// Writes the service confirmed.
    Acknowledged,
    /// The time span of the lost acknowledged writes (0 when none).
    Rpo,
}

impl IntegrityMetric {
    pub const ALL: [IntegrityMetric; 6] = [
        IntegrityMetric::Lost,
        IntegrityMetric::Unexpected,
        IntegrityMetric::Recovered,
        IntegrityMetric::Indeterminate,
        IntegrityMetric::Acknowledged,
        IntegrityMetric::Rpo,
    ];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            IntegrityMetric::Lost => ("integrity.lost", "IntegrityLost"),
            IntegrityMetric::Unexpected => ("integrity.unexpected", "IntegrityUnexpected"),
            IntegrityMetric::Recovered => ("integrity.recovered", "IntegrityRecovered"),
            IntegrityMetric::Indeterminate => ("integrity.indeterminate", "IntegrityIndeterminate"),
            IntegrityMetric::Acknowledged => ("integrity.acknowledged", "IntegrityAcknowledged"),
            IntegrityMetric::Rpo => ("integrity.rpo", "IntegrityRpo"),
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            IntegrityMetric::Rpo => Unit::Seconds,
            IntegrityMetric::Lost
            | IntegrityMetric::Unexpected
            | IntegrityMetric::Recovered
            | IntegrityMetric::Indeterminate
            | IntegrityMetric::Acknowledged => Unit::Count,
        }
    }
}

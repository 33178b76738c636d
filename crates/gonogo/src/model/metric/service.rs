//! The service family: whether the service crashed, read from its exit events.

use crate::units::Unit;

/// A metric of the service process itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceMetric {
    /// 1 when the service exited without being asked to during the scope, else 0.
    Crashed,
}

impl ServiceMetric {
    pub const ALL: [ServiceMetric; 1] = [ServiceMetric::Crashed];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            ServiceMetric::Crashed => ("service.crashed", "ServiceCrashed"),
        }
    }

    pub const fn unit(self) -> Unit {
        Unit::Boolean
    }
}

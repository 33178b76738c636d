//! The service family: whether the service crashed, read from its exit events.

use crate::units::Unit;

family! {
    /// A metric of the service process itself.
    pub enum ServiceMetric {
        /// 1 when the service exited without being asked to during the scope, else 0.
        Crashed => "service.crashed", "ServiceCrashed", Boolean;
    }
}

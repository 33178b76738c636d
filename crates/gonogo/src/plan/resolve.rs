//! STUB
use super::Plan;
pub fn resolve() -> Plan { todo!() }
impl Plan { pub fn remote_targets(&self) -> Vec<String> { todo!() } }

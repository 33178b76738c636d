//! STUB
use super::Plan;
pub fn resolve() -> Plan {
    todo!()
}

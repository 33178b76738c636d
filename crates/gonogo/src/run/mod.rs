//! The conductor: runs a plan against a live service and records the evidence.

pub mod events;

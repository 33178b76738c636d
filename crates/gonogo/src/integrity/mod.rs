//! Integrity phases: every acknowledged write must survive the faults.
//!
//! Owns: the write ledger, the read-back and the protocol clients ([`kv`]:
//! the contract; [`redis_kv`], [`postgres_kv`]; [`render`]: their templates).
//! Being filled in; see issue 5.

pub mod kv;
pub mod postgres_kv;
pub mod redis_kv;
pub mod render;

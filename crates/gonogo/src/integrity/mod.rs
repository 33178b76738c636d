//! Integrity phases: every acknowledged write must survive the faults.
//!
//! Owns: the write ledger, the read-back and the protocol clients ([`kv`]).
//! Being filled in; see issue 5.

pub mod kv;

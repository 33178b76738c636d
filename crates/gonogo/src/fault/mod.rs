//! Faults: what gonogo does to the service on purpose, and the proof that it did.
//!
//! Owns: the network fault kinds applied by the built-in TCP proxy ([`proxy`]), their
//! direction and the share of connections they hit, and the per-fault effect counters
//! (connections and bytes affected) that prove a fault took effect. Does not own: when
//! a fault is applied (the conductor reads that from the plan) or judging its effect
//! (evaluation).
//!
//! Contract shared by every network fault kind (checked for each kind by one
//! compliance test in `proxy::tests`): while applied, the fault changes the traffic
//! of the connections it selects and counts them in its [`Effect`]; once removed, new
//! traffic passes through unchanged, and closing the clients leaves no proxied
//! connection open.

pub mod proxy;

use std::sync::atomic::{AtomicU64, Ordering};

/// Proof of effect: what a fault touched while it was applied.
#[derive(Debug, Default)]
pub struct Effect {
    connections: AtomicU64,
    bytes: AtomicU64,
}

/// A snapshot of an [`Effect`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EffectSummary {
    /// Distinct connections the fault acted on.
    pub connections: u64,
    /// Bytes delayed, throttled, dropped or cut off by the fault.
    pub bytes: u64,
}

impl Effect {
    pub(crate) fn touch_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_bytes(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn summary(&self) -> EffectSummary {
        EffectSummary {
            connections: self.connections.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

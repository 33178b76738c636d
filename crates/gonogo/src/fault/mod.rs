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
use std::time::Duration;

/// Which way the data flows through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the load generator to the service (requests).
    ToService,
    /// From the service back to the load generator (responses).
    ToClient,
    Both,
}

impl Direction {
    /// Whether a fault in this direction acts on data flowing `flow`.
    pub fn covers(self, flow: Direction) -> bool {
        self == Direction::Both || self == flow
    }
}

/// A network fault the proxy can apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NetFault {
    /// Hold every chunk of data for `delay` ± up to `jitter` (uniform) before forwarding it.
    Latency { delay: Duration, jitter: Duration },
    /// Forward at most this many bytes per second per connection and direction.
    Bandwidth { bytes_per_second: u64 },
    /// Reset (TCP RST) selected connections at once, open ones and new ones alike.
    Reset,
    /// Accept and read, but never forward: requests vanish, nothing is answered.
    Blackhole,
    /// Forward this many bytes per connection and direction, then close the connection.
    CloseAfter { bytes: u64 },
}

impl NetFault {
    /// The kind's name as written in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            NetFault::Latency { .. } => "latency",
            NetFault::Bandwidth { .. } => "bandwidth",
            NetFault::Reset => "reset",
            NetFault::Blackhole => "blackhole",
            NetFault::CloseAfter { .. } => "close_after",
        }
    }
}

/// A fault as applied: what, which way, and to which share of connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultSpec {
    pub kind: NetFault,
    pub direction: Direction,
    /// Share of connections affected, in (0, 1]. Each connection draws a number in
    /// [0, 1) when it is accepted; the fault selects it when the draw is below this.
    pub fraction: f64,
}

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

//! Network faults as planned: what the proxy applies, in which direction, to which
//! share of connections.
//!
//! Owns: [`NetFault`], [`Direction`], [`FaultSpec`]. Does not own: applying them
//! (that is `fault::proxy`) or the spec syntax (that is `plan::resolve::fault`).

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

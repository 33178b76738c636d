//! Integrity phases: every acknowledged write must survive the faults.
//!
//! Owns: the keys and values ([`keys`]), the protocol clients ([`kv`]: the contract;
//! [`client`]: the enum over them; HTTP in `http_kv`, [`redis_kv`], [`postgres_kv`],
//! [`render`]: their templates), the write loop (`writer`), the read-back (`readback`), and
//! [`finish`], which settles, reads back and sends the phase's ledger to the
//! conductor. Does not own: faults (the conductor runs them beside the writes, as
//! in any phase) or judging the ledger (`evaluate::integrity`).

pub mod client;
mod http_kv;
pub mod keys;
pub mod kv;
#[cfg(feature = "postgres")]
pub mod postgres_kv;
mod readback;
#[cfg(feature = "redis")]
pub mod redis_kv;
pub mod render;
mod writer;

use std::time::Duration;

pub use client::{KvClient, PhaseWorkloads};
pub use http_kv::HttpKv;
pub use readback::READ_CONCURRENCY;
pub use writer::{Writes, write_phase};

use crate::load::LoadContext;
use crate::model::{IntegrityLedger, ReadBack, Record};
use crate::plan::PhasePlan;
use kv::KvError;

/// After the writes (and the faults beside them): wait `settle`, read every
/// attempted key back, and send the ledger. A cancelled campaign sends the ledger
/// without a read-back (judged INCONCLUSIVE).
pub async fn finish(
    phase: &PhasePlan,
    workloads: PhaseWorkloads<'_>,
    port: u16,
    ctx: &LoadContext,
    token: &str,
    writes: Writes,
) -> Result<(), KvError> {
    let settle = phase.integrity.map_or(Duration::ZERO, |i| i.settle);
    let mut ledger = IntegrityLedger {
        phase: phase.name.clone(),
        token: token.to_string(),
        writes_start: ctx.clock.offset(writes.start),
        writes: writes.outcomes,
        settle,
        read_back: None,
    };
    let settled = !writes.cancelled
        && tokio::select! {
            () = tokio::time::sleep(settle) => true,
            () = ctx.cancel.cancelled() => false,
        };
    if settled {
        let at = ctx.clock.elapsed();
        let concurrency = match phase.model {
            crate::plan::LoadModel::Open {
                max_connections, ..
            } => max_connections.clamp(1, READ_CONCURRENCY),
            crate::plan::LoadModel::Closed { connections } => {
                connections.clamp(1, READ_CONCURRENCY)
            }
        };
        let mut clients = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let patience = workloads.read.timeout;
            clients.push(KvClient::connect_patiently(workloads, port, patience).await?);
        }
        let attempted = ledger.writes.len() as u64;
        let read = tokio::select! {
            read = readback::read_back(clients, token, attempted, workloads.read.timeout) => Some(read),
            () = ctx.cancel.cancelled() => None,
        };
        ledger.read_back = read.map(|(reads, listing)| ReadBack { at, reads, listing });
    }
    let _ = ctx.records.send(Record::Integrity(Box::new(ledger)));
    Ok(())
}

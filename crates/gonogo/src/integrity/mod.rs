//! Integrity phases: every acknowledged write must survive the faults.
//!
//! Owns: the keys and values ([`keys`]), the sessions that read and write them
//! ([`session`], generic over `load`'s [`KeyValue`], which each protocol implements;
//! [`kv`]: their vocabulary), the write loop (`writer`), the read-back (`readback`),
//! and [`finish`], which settles, reads back and sends the phase's ledger to the
//! conductor. The protocol is picked once per step ([`with_key_value`]) and the
//! code below is monomorphised per protocol. Does not own: any protocol's
//! mechanics (`load`), faults (the conductor runs them beside the writes, as in any
//! phase) or judging the ledger (`evaluate::integrity`).

pub mod keys;
pub mod kv;
mod readback;
pub mod session;
mod writer;

use std::time::Duration;

pub use crate::load::PhaseWorkloads;
pub use readback::READ_CONCURRENCY;
pub use session::{KvSession, KvTargets};
pub use writer::{Writes, write_phase};

use crate::load::{KeyValue, KvJob, LoadContext, with_key_value};
use crate::model::{IntegrityLedger, Listing, ReadBack, ReadCheck, Record};
use crate::plan::{LoadModel, PhasePlan, WorkloadPlan};
use kv::KvError;

/// `workload` speaks a protocol this gonogo was built without.
fn unsupported(workload: &WorkloadPlan) -> KvError {
    KvError::Setup {
        workload: workload.name.clone(),
        reason: format!(
            "this gonogo was built without the `{}` feature",
            workload.protocol.as_str()
        ),
    }
}

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
        let connections = match phase.model {
            LoadModel::Open {
                max_connections, ..
            } => max_connections,
            LoadModel::Closed { connections } => connections,
        };
        let job = ReadJob {
            workloads,
            port,
            ctx,
            token,
            concurrency: connections.clamp(1, READ_CONCURRENCY),
            attempted: ledger.writes.len() as u64,
        };
        let read = with_key_value(workloads.write, job)
            .await
            .unwrap_or_else(|| Err(unsupported(workloads.write)))?;
        ledger.read_back = read.map(|(reads, listing)| ReadBack { at, reads, listing });
    }
    let _ = ctx.records.send(Record::Integrity(Box::new(ledger)));
    Ok(())
}

/// Each key's two reads and the listing; `None` when the campaign was cancelled.
type Read = Option<(Vec<[ReadCheck; 2]>, Option<Listing>)>;

/// The read-back's work, for one protocol.
struct ReadJob<'a> {
    workloads: PhaseWorkloads<'a>,
    port: u16,
    ctx: &'a LoadContext,
    token: &'a str,
    concurrency: usize,
    attempted: u64,
}

impl KvJob for ReadJob<'_> {
    type Output = Result<Read, KvError>;

    async fn run<K: KeyValue>(self) -> Self::Output {
        let timeout = self.workloads.read.timeout;
        let sessions =
            KvSession::<K>::many(self.workloads, self.port, self.concurrency, timeout).await?;
        let read = readback::read_back(sessions, self.token, self.attempted, timeout);
        Ok(tokio::select! {
            read = read => Some(read),
            () = self.ctx.cancel.cancelled() => None,
        })
    }
}

//! Filling a service with items: a workload's requests sent a fixed number of times
//! (closed model, N connections), for the loader of a scaling phase.
//!
//! Owns: counting the sends (each request once, `{seq}` continuing from a given
//! number so that every item is new) and the rule that any failed request fails the
//! fill. Does not own: measuring — a fill records no intervals, its requests are not
//! statistics of any phase — nor the offered-load hot path (`worker`), which it
//! shares the [`Workload`] and its [`attempt`] with. Any protocol's workload can
//! load: an HTTP PUT, a Redis `SET`, a PostgreSQL `INSERT` with `{seq}` in its key.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::recorder::RequestOutcome;
use super::request::RequestBuildError;
use super::worker::Target;
use super::workload::{Workload, attempt};
use crate::plan::WorkloadPlan;

/// Why a fill did not write every item.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error(transparent)]
    Request(#[from] RequestBuildError),
    #[error(
        "{failed} of {count} requests of workload {workload} failed (first: {first}); check \
         that its url or body uses {{seq}} and that expect_status lists the service's answers"
    )]
    Failed {
        workload: String,
        failed: u64,
        count: u64,
        first: String,
    },
    #[error("interrupted after {sent} of {count} requests")]
    Cancelled { sent: u64, count: u64 },
}

/// What the fill's connections share.
#[derive(Debug)]
struct Fill<W> {
    target: W,
    timeout: Duration,
    count: u64,
    /// Requests claimed so far (a claim past `count` is not sent).
    claimed: AtomicU64,
    failed: AtomicU64,
    first_failure: std::sync::Mutex<Option<String>>,
}

impl<W> Fill<W> {
    fn fail(&self, why: impl FnOnce() -> String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_failure.lock()
            && first.is_none()
        {
            *first = Some(why());
        }
    }
}

/// Send `count` requests of `workload` to the service on `port`, over `connections`
/// connections, with `{seq}` running from `first_seq`. Every request must succeed
/// (for HTTP: be answered with one of the workload's expected statuses).
pub async fn fill(
    workload: &WorkloadPlan,
    port: u16,
    first_seq: u64,
    count: u64,
    connections: usize,
    cancel: &CancellationToken,
) -> Result<(), FillError> {
    let run = Run {
        workload,
        first_seq,
        count,
        connections,
        cancel,
    };
    match Target::new(workload, port).await? {
        Target::Http(target) => run.with(target).await,
        #[cfg(feature = "redis")]
        Target::Redis(target) => run.with(target).await,
        #[cfg(feature = "postgres")]
        Target::Postgres(target) => run.with(target).await,
    }
}

/// One fill's parameters.
struct Run<'a> {
    workload: &'a WorkloadPlan,
    first_seq: u64,
    count: u64,
    connections: usize,
    cancel: &'a CancellationToken,
}

impl Run<'_> {
    /// The fill with one protocol's workload.
    async fn with<W: Workload>(self, target: W) -> Result<(), FillError> {
        let count = self.count;
        target.start_seq_at(self.first_seq);
        let shared = Arc::new(Fill {
            target,
            timeout: self.workload.timeout,
            count,
            claimed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_failure: std::sync::Mutex::new(None),
        });
        let mut tasks = JoinSet::new();
        let connections = u64::try_from(self.connections.max(1))
            .unwrap_or(1)
            .min(count.max(1));
        for _ in 0..connections {
            tasks.spawn(connection_loop(Arc::clone(&shared)));
        }
        tokio::select! {
            () = async { while tasks.join_next().await.is_some() {} } => {}
            () = self.cancel.cancelled() => {
                tasks.abort_all();
                let sent = shared.claimed.load(Ordering::Relaxed).min(count);
                return Err(FillError::Cancelled { sent, count });
            }
        }
        let failed = shared.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let first = shared
                .first_failure
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default();
            return Err(FillError::Failed {
                workload: self.workload.name.clone(),
                failed,
                count,
                first,
            });
        }
        Ok(())
    }
}

/// One connection: claim the next request, send it, until all are claimed.
async fn connection_loop<W: Workload>(fill: Arc<Fill<W>>) {
    let mut conn: Option<W::Conn> = None;
    let mut rng = SmallRng::from_os_rng();
    let mut scratch = Vec::new();
    while fill.claimed.fetch_add(1, Ordering::Relaxed) < fill.count {
        let sent = tokio::time::timeout(
            fill.timeout,
            attempt(&fill.target, &mut conn, &mut rng, &mut scratch),
        )
        .await;
        match sent {
            Ok(Ok(sent)) if sent.outcome == RequestOutcome::Ok => {}
            Ok(Ok(sent)) if sent.status != 0 => fill.fail(|| format!("status {}", sent.status)),
            Ok(Ok(sent)) => fill.fail(|| sent.outcome.as_str().to_string()),
            Ok(Err(refused)) => fill.fail(|| refused.error.to_string()),
            Err(_) => {
                conn = None;
                fill.fail(|| format!("no answer within {:?}", fill.timeout));
            }
        }
    }
}

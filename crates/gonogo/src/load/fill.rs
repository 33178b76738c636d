//! Filling a service with items: a workload's requests sent a fixed number of times
//! (closed model, N connections), for the loader of a scaling phase.
//!
//! Owns: counting the sends (each request once, `{seq}` continuing from a given
//! number so that every item is new) and the rule that any failed request fails the
//! fill. Does not own: measuring — a fill records no intervals, its requests are not
//! statistics of any phase — nor the offered-load hot path (`worker`), which it
//! shares only the request rendering and the connection with.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::http::Connection;
use super::request::{RequestBuildError, RequestFactory};
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
struct Fill {
    factory: RequestFactory,
    port: u16,
    expect_status: Vec<u16>,
    timeout: Duration,
    count: u64,
    /// Requests claimed so far (a claim past `count` is not sent).
    claimed: AtomicU64,
    failed: AtomicU64,
    first_failure: std::sync::Mutex<Option<String>>,
}

impl Fill {
    fn fail(&self, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_failure.lock()
            && first.is_none()
        {
            *first = Some(why);
        }
    }
}

/// Send `count` requests of `workload` to the service on `port`, over `connections`
/// connections, with `{seq}` running from `first_seq`. Every request must be answered
/// with one of the workload's expected statuses.
pub async fn fill(
    workload: &WorkloadPlan,
    port: u16,
    first_seq: u64,
    count: u64,
    connections: usize,
    cancel: &CancellationToken,
) -> Result<(), FillError> {
    let factory = RequestFactory::new(workload, port).await?;
    factory.start_seq_at(first_seq);
    let shared = Arc::new(Fill {
        factory,
        port,
        expect_status: workload.expect_status.clone(),
        timeout: workload.timeout,
        count,
        claimed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        first_failure: std::sync::Mutex::new(None),
    });
    let mut tasks = JoinSet::new();
    let connections = u64::try_from(connections.max(1))
        .unwrap_or(1)
        .min(count.max(1));
    for _ in 0..connections {
        tasks.spawn(connection_loop(Arc::clone(&shared)));
    }
    tokio::select! {
        () = async { while tasks.join_next().await.is_some() {} } => {}
        () = cancel.cancelled() => {
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
            workload: workload.name.clone(),
            failed,
            count,
            first,
        });
    }
    Ok(())
}

/// One connection: claim the next request, send it, until all are claimed.
async fn connection_loop(fill: Arc<Fill>) {
    let mut conn: Option<Connection> = None;
    let mut rng = SmallRng::from_os_rng();
    let mut scratch = Vec::new();
    while fill.claimed.fetch_add(1, Ordering::Relaxed) < fill.count {
        if !conn.as_mut().is_some_and(Connection::is_usable) {
            match Connection::open(fill.factory.addr).await {
                Ok(fresh) => conn = Some(fresh),
                Err(err) => {
                    fill.fail(err.to_string());
                    conn = None;
                    continue;
                }
            }
        }
        let Some(connection) = conn.as_mut() else {
            continue;
        };
        let request = fill.factory.request(fill.port, &mut rng, &mut scratch);
        let head = fill.factory.is_head();
        match tokio::time::timeout(fill.timeout, connection.send(request, head)).await {
            Ok(Ok(done)) if fill.expect_status.contains(&done.status) => {}
            Ok(Ok(done)) => fill.fail(format!("status {}", done.status)),
            Ok(Err(err)) => {
                conn = None;
                fill.fail(err.to_string());
            }
            Err(_) => {
                conn = None;
                fill.fail(format!("no answer within {:?}", fill.timeout));
            }
        }
    }
}

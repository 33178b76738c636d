//! Applies the [`Knobs`] to live `/kv` requests, as an axum middleware, and keeps the counters
//! `/stats` reports.
//!
//! For each `/kv` request, in this order: count it (numbering from 1); if it comes after the
//! crash point, stall it until the process exits; if it comes after the pause point, wait until
//! the one-time pause window has passed; retain the leaked and cache bytes; sleep the sampled
//! latency; answer 500 with probability `error_rate`; otherwise run the handler. When request
//! number `crash_after` has finished (answered or abandoned by its client), the crash signal fires
//! [`CRASH_FLUSH_DELAY`] later so that its response has left the socket.
//!
//! This module does not parse knobs (`knobs`), exit the process (`main`, on the crash signal) or
//! serve routes (`server`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::knobs::Knobs;

/// How long after the last served request the crash signal fires: time for its response to be
/// written, so "served N requests" holds from the client's side.
pub const CRASH_FLUSH_DELAY: Duration = Duration::from_millis(20);

/// The byte written into leaked and cache memory: non-zero, so every page is really touched.
const FILL_BYTE: u8 = 0xA5;

/// Counters that `/stats` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultStats {
    /// `/kv` requests received (after slow start).
    pub requests: u64,
    /// Bytes retained by `--leak-per-request`.
    pub leaked_bytes: u64,
    /// Bytes retained by the one-time cache growth.
    pub cache_bytes: u64,
}

/// The live fault state shared by all `/kv` requests.
#[derive(Debug)]
pub struct Faults {
    knobs: Knobs,
    requests: AtomicU64,
    leaked: Retained,
    cache: Retained,
    /// When the one-time pause ends; set by the first request past the pause point.
    pause_until: OnceLock<Instant>,
    crash: Arc<Notify>,
}

impl Faults {
    /// Fault state for `knobs`; `crash` is notified once when the crash point is reached.
    pub fn new(knobs: Knobs, crash: Arc<Notify>) -> Self {
        Self {
            knobs,
            requests: AtomicU64::new(0),
            leaked: Retained::default(),
            cache: Retained::default(),
            pause_until: OnceLock::new(),
            crash,
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> FaultStats {
        FaultStats {
            requests: self.requests.load(Ordering::Relaxed),
            leaked_bytes: self.leaked.bytes.load(Ordering::Relaxed),
            cache_bytes: self.cache.bytes.load(Ordering::Relaxed),
        }
    }

    /// The knobs these faults apply.
    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// Stalls request `number` as the crash and pause knobs say.
    async fn stall(&self, number: u64) {
        if self.knobs.crash_after.is_some_and(|limit| number > limit) {
            // The process is about to exit; this request is never answered.
            std::future::pending::<()>().await;
        }
        if let Some(pause) = self.knobs.pause.filter(|p| number > p.after) {
            let until = *self
                .pause_until
                .get_or_init(|| Instant::now() + pause.length);
            tokio::time::sleep_until(until).await;
        }
    }

    /// Retains the leak and cache bytes that request `number` owes.
    fn retain_memory(&self, number: u64) -> Result<(), u64> {
        self.leaked.retain(self.knobs.leak_per_request)?;
        if let Some(cache) = self.knobs.cache {
            self.cache.retain(cache.share_for(number))?;
        }
        Ok(())
    }

    /// A latency draw, if the knob is set.
    fn latency(&self) -> Option<Duration> {
        let latency = self.knobs.latency?;
        Some(latency.sample(&mut rand::rng()))
    }

    /// Whether this request is answered with an injected 500.
    fn inject_error(&self) -> bool {
        self.knobs.error_rate > 0.0 && rand::rng().random::<f64>() < self.knobs.error_rate
    }
}

/// Memory held on purpose until the process exits.
#[derive(Debug, Default)]
struct Retained {
    blocks: Mutex<Vec<Vec<u8>>>,
    bytes: AtomicU64,
}

impl Retained {
    /// Allocates `bytes`, writes every byte, and keeps the block. `Err(bytes)` if the allocation
    /// was refused.
    fn retain(&self, bytes: u64) -> Result<(), u64> {
        if bytes == 0 {
            return Ok(());
        }
        let len = usize::try_from(bytes).map_err(|_| bytes)?;
        let mut block = Vec::new();
        block.try_reserve_exact(len).map_err(|_| bytes)?;
        block.resize(len, FILL_BYTE);
        self.blocks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(block);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }
}

/// Fires the crash signal when dropped: when the last request to serve finishes or is abandoned.
struct CrashOnDrop(Arc<Notify>);

impl Drop for CrashOnDrop {
    fn drop(&mut self) {
        let crash = Arc::clone(&self.0);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep(CRASH_FLUSH_DELAY).await;
                    crash.notify_one();
                });
            }
            Err(_) => crash.notify_one(),
        }
    }
}

/// The `/kv` middleware: applies every knob, then runs the handler (or not).
pub async fn apply(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    let number = faults.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let _crash =
        (faults.knobs.crash_after == Some(number)).then(|| CrashOnDrop(Arc::clone(&faults.crash)));
    faults.stall(number).await;
    if let Err(bytes) = faults.retain_memory(number) {
        let message = format!("testbed could not allocate {bytes} bytes for a memory knob\n");
        return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
    }
    if let Some(delay) = faults.latency() {
        tokio::time::sleep(delay).await;
    }
    if faults.inject_error() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "injected error\n").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knobs::{CacheGrowth, Pause};

    fn faults(knobs: Knobs) -> Faults {
        Faults::new(knobs, Arc::new(Notify::new()))
    }

    #[test]
    fn leak_and_cache_retain_touched_memory_and_count_it() {
        let faults = faults(Knobs {
            leak_per_request: 1000,
            cache: Some(CacheGrowth {
                bytes: 10_000,
                fill_requests: 4,
            }),
            ..Knobs::default()
        });
        for number in 1..=6 {
            faults.retain_memory(number).expect("small allocations");
        }
        let stats = faults.stats();
        assert_eq!(stats.leaked_bytes, 6000);
        assert_eq!(stats.cache_bytes, 10_000);
        let blocks = faults.leaked.blocks.lock().expect("not poisoned");
        assert_eq!(blocks.len(), 6);
        assert!(blocks.iter().flatten().all(|b| *b == FILL_BYTE));
    }

    #[test]
    fn error_rate_extremes_are_exact() {
        let never = faults(Knobs::default());
        let always = faults(Knobs {
            error_rate: 1.0,
            ..Knobs::default()
        });
        assert!((0..1000).all(|_| !never.inject_error()));
        assert!((0..1000).all(|_| always.inject_error()));
    }

    #[tokio::test]
    async fn pause_stalls_requests_after_the_point_once() {
        let length = Duration::from_millis(150);
        let faults = faults(Knobs {
            pause: Some(Pause { after: 2, length }),
            ..Knobs::default()
        });
        let start = Instant::now();
        faults.stall(1).await;
        faults.stall(2).await;
        assert!(start.elapsed() < length, "no stall before the pause point");
        faults.stall(3).await;
        assert!(start.elapsed() >= length, "request 3 waits out the pause");
        let after = Instant::now();
        faults.stall(4).await;
        assert!(after.elapsed() < length, "the pause happens once");
    }

    #[tokio::test]
    async fn crash_fires_after_the_last_request_and_later_ones_stall() {
        let crash = Arc::new(Notify::new());
        let faults = Faults::new(
            Knobs {
                crash_after: Some(1),
                ..Knobs::default()
            },
            Arc::clone(&crash),
        );
        drop(CrashOnDrop(Arc::clone(&crash)));
        let fired = tokio::time::timeout(Duration::from_secs(1), crash.notified()).await;
        assert!(fired.is_ok());
        let stalled = tokio::time::timeout(Duration::from_millis(100), faults.stall(2)).await;
        assert!(
            stalled.is_err(),
            "requests past the crash point never finish"
        );
    }
}

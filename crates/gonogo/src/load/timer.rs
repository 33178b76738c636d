//! A precise timer for the open model's send times, one per load runtime.
//!
//! tokio's timer works in whole milliseconds: a sleep ends up to a millisecond or two
//! after its deadline, which would show as schedule lag that the service did not
//! cause. This timer keeps the due times of its runtime's sleeping workers in a heap
//! and arms one Linux `timerfd` (a high-resolution timer, registered with the
//! runtime's reactor) for shortly after the earliest; when it fires, every worker
//! that is due is woken. It costs a few system calls and a wake-up per firing, and
//! firings are shared by the workers due within [`COALESCE`] of each other. Does not own: what the workers do when woken.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::poll_fn;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

/// A worker waiting for its due time.
#[derive(Debug)]
struct Sleeper {
    due: Instant,
    /// Breaks ties so that entries never compare wakers.
    id: u64,
    waker: Waker,
}

impl PartialEq for Sleeper {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.id) == (other.due, other.id)
    }
}
impl Eq for Sleeper {}
impl PartialOrd for Sleeper {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sleeper {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.id).cmp(&(other.due, other.id))
    }
}

#[derive(Debug, Default)]
struct Sleepers {
    heap: BinaryHeap<Reverse<Sleeper>>,
    next_id: u64,
}

#[derive(Debug, Default)]
struct Shared {
    sleepers: Mutex<Sleepers>,
    /// Tells the driver that the earliest due time changed.
    earlier: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Sleepers> {
        match self.sleepers.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The timer of one load runtime; cheap to clone.
#[derive(Debug, Clone)]
pub struct PreciseTimer {
    shared: Arc<Shared>,
}

/// A `timerfd` as tokio's reactor wants it.
#[derive(Debug)]
struct Fd(TimerFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl PreciseTimer {
    /// Create a timer driven by a task on the runtime of `handle`. Fails when the
    /// system has no `timerfd` (then callers fall back to tokio's timer).
    pub fn start(handle: &tokio::runtime::Handle) -> std::io::Result<PreciseTimer> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        let fd = {
            // Registering with a reactor needs that runtime's context.
            let _context = handle.enter();
            // `AsyncFd::new` is deprecated because a type may hand out a raw fd that
            // it does not own; `Fd` owns its timerfd and always returns that same fd
            // until it is dropped with the `AsyncFd`, which is the contract required.
            #[allow(deprecated)]
            let registered = AsyncFd::new(Fd(fd))?;
            registered
        };
        let shared = Arc::new(Shared::default());
        handle.spawn(drive(Arc::clone(&shared), fd));
        Ok(PreciseTimer { shared })
    }

    /// Wait until `due`. Must be awaited on the runtime the timer was started on
    /// (elsewhere it still works, with a cross-thread wake-up).
    pub async fn sleep_until(&self, due: Instant) {
        let mut registered = false;
        poll_fn(|cx| {
            if Instant::now() >= due {
                return Poll::Ready(());
            }
            if !registered {
                registered = true;
                let mut sleepers = self.shared.lock();
                let id = sleepers.next_id;
                sleepers.next_id += 1;
                let earliest = sleepers.heap.peek().is_none_or(|top| due < top.0.due);
                sleepers.heap.push(Reverse(Sleeper {
                    due,
                    id,
                    waker: cx.waker().clone(),
                }));
                drop(sleepers);
                if earliest {
                    self.shared.earlier.notify_one();
                }
            }
            Poll::Pending
        })
        .await;
    }
}

/// Wake everyone due by now; returns the next due time.
fn wake_due(shared: &Shared) -> Option<Instant> {
    let mut woken = Vec::new();
    let next = {
        let mut sleepers = shared.lock();
        let now = Instant::now();
        while sleepers.heap.peek().is_some_and(|top| top.0.due <= now) {
            if let Some(Reverse(sleeper)) = sleepers.heap.pop() {
                woken.push(sleeper.waker);
            }
        }
        sleepers.heap.peek().map(|top| top.0.due)
    };
    for waker in woken {
        waker.wake();
    }
    next
}

/// The timer fires this long after the earliest due time, so that one firing (one
/// wake-up of the thread) sends every request due within that window: schedule lag
/// stays under this bound (plus the wake-up itself) while the number of wake-ups,
/// which cost far more CPU than the requests' own work, is capped at 1/COALESCE per
/// second.
const COALESCE: Duration = Duration::from_micros(200);

/// Period of the driver's tokio tick. tokio wakes its runtime (an eventfd write
/// and an extra epoll return) whenever a timer is registered earlier than every
/// other one, which would be every request timeout of a runtime that is mostly idle;
/// a timer that is never more than this far away prevents that, at 200 wake-ups/s.
const TICK: Duration = Duration::from_millis(5);

/// The timer's task: arm the `timerfd` for the earliest sleeper, wake the due ones
/// when it fires, re-arm when an earlier sleeper arrives. Ends with its runtime.
async fn drive(shared: Arc<Shared>, fd: AsyncFd<Fd>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut armed: Option<Instant> = None;
    loop {
        let next = wake_due(&shared);
        if next.is_some() && next != armed {
            let wait = next
                .map(|n| (n + COALESCE).saturating_duration_since(Instant::now()))
                .unwrap_or_default()
                // A relative one-shot of zero would disarm the timer.
                .max(Duration::from_micros(1));
            let set = fd.get_ref().0.set(
                Expiration::OneShot(TimeSpec::from_duration(wait)),
                TimerSetTimeFlags::empty(),
            );
            // Cannot fail with a valid fd and duration; if it does, the tick still
            // wakes the sleepers, late.
            armed = set.ok().and(next);
        }
        tokio::select! {
            ready = fd.readable() => {
                let Ok(mut guard) = ready else {
                    // The reactor is gone (runtime shutting down).
                    return;
                };
                // Reading clears the expiration; nothing more is pending after it.
                if guard.try_io(|fd| fd.get_ref().0.wait().map_err(std::io::Error::from)).is_ok() {
                    guard.clear_ready();
                }
                armed = None;
            }
            () = shared.earlier.notified() => {}
            _ = tick.tick() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleepers_wake_at_their_due_time_in_order() {
        let timer = PreciseTimer::start(&tokio::runtime::Handle::current()).unwrap();
        let start = Instant::now();
        let mut tasks = Vec::new();
        // Registered out of order, including one earlier than all the others later on.
        for ms in [30u64, 10, 20, 5] {
            let timer = timer.clone();
            let due = start + Duration::from_millis(ms);
            tasks.push(tokio::spawn(async move {
                timer.sleep_until(due).await;
                let now = Instant::now();
                (now >= due, now.saturating_duration_since(due))
            }));
            tokio::task::yield_now().await;
        }
        for task in tasks {
            let (on_time, late) = task.await.unwrap();
            assert!(on_time, "never woken before the due time");
            // Precision is the bench's to measure (bench/open-model.sh); on a loaded
            // test machine only "woken, not early, not absurdly late" is stable.
            assert!(late < Duration::from_secs(1), "woken {late:?} after due");
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_past_due_time_returns_at_once() {
        let timer = PreciseTimer::start(&tokio::runtime::Handle::current()).unwrap();
        let before = Instant::now();
        timer.sleep_until(before).await;
        assert!(before.elapsed() < Duration::from_millis(5));
    }
}

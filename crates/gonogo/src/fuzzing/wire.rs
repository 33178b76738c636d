//! A scripted server end for the protocol fuzz targets: the fuzz input, cut into
//! segments, is what the server sends; whatever the client writes is accepted and
//! dropped.
//!
//! Owns: [`Wire`] (the client's side of the connection), the segment format and
//! the rule for when the next segment arrives: when the client has gone idle (two
//! scheduler rounds without touching the connection), as a server answers once the
//! request is in. A client waiting for an answer that is not in the input sees the
//! end of the connection. A client still idle after that is stuck on something
//! the connection's end does not reach (a client library waiting on itself): the
//! session is then cut short, as the caller's timeout around every request cuts it
//! in a run, and counts as timed out. Also owns the one runtime the sessions run on
//! (current-thread, built once per thread, so no input pays for it).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Runtime;

/// The segments of `data`: each is one length byte, then that many bytes (fewer at
/// the end of the input).
pub(crate) fn segments(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let (segment, after) = tail.split_at(usize::from(len).min(tail.len()));
        out.push(segment);
        rest = after;
    }
    out
}

/// What the server has sent and will send.
#[derive(Debug, Default)]
struct Feed {
    /// Segments not yet sent, in order (reversed: the next one is last).
    pending: Vec<Vec<u8>>,
    /// Sent bytes the client has not read yet.
    sent: Vec<u8>,
    /// How much of `sent` the client has read.
    read: usize,
    /// Reads, writes and flushes so far: how the releaser sees a busy client.
    activity: u64,
    /// Nothing more will be sent: reads past `sent` see the end of the connection.
    closed: bool,
    /// The reader waiting for bytes.
    waker: Option<Waker>,
}

/// The client's side of a scripted connection.
#[derive(Debug, Clone)]
pub(crate) struct Wire(Arc<Mutex<Feed>>);

impl Wire {
    /// A connection whose server sends `segments`, one at a time.
    pub(crate) fn new(segments: &[&[u8]]) -> Wire {
        let feed = Feed {
            pending: segments.iter().rev().map(|s| s.to_vec()).collect(),
            ..Feed::default()
        };
        Wire(Arc::new(Mutex::new(feed)))
    }

    fn feed(&self) -> MutexGuard<'_, Feed> {
        // A panic while the lock is held is already a finding; go on with the data.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn activity(&self) -> u64 {
        self.feed().activity
    }

    /// Send the next segment, or close the connection when none is left.
    fn release_next(&self) {
        let mut feed = self.feed();
        match feed.pending.pop() {
            Some(segment) => {
                let read = std::mem::take(&mut feed.read);
                feed.sent.drain(..read);
                feed.sent.extend_from_slice(&segment);
            }
            None => feed.closed = true,
        }
        if let Some(waker) = feed.waker.take() {
            waker.wake();
        }
    }

    /// Close the connection now (the session is over): the client's reads end.
    pub(crate) fn close(&self) {
        let mut feed = self.feed();
        feed.pending.clear();
        feed.closed = true;
        if let Some(waker) = feed.waker.take() {
            waker.wake();
        }
    }

    /// Whenever the client has been idle for two scheduler rounds, send the next
    /// segment, or close the connection when none is left; return when the client
    /// is idle even after that (stuck). Run it beside the session.
    pub(crate) async fn serve(&self) {
        loop {
            let before = self.activity();
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            if self.activity() == before {
                if self.feed().closed {
                    return;
                }
                self.release_next();
            }
        }
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut feed = self.feed();
        feed.activity += 1;
        let available = feed.sent.len() - feed.read;
        if available > 0 {
            let n = available.min(buf.remaining());
            let start = feed.read;
            buf.put_slice(&feed.sent[start..start + n]);
            feed.read += n;
            return Poll::Ready(Ok(()));
        }
        if feed.closed {
            return Poll::Ready(Ok(()));
        }
        feed.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.feed().activity += 1;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.feed().activity += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

thread_local! {
    // Neither I/O nor timers: the connection is in memory and the clients run
    // without timeouts, and each driver's turn would cost every input a system call.
    static RUNTIME: Option<Runtime> = tokio::runtime::Builder::new_current_thread()
        .build()
        .ok();
}

/// Wait for a task that was aborted (or ended); a panic inside it is raised again
/// here, where the fuzzer sees it, instead of being kept in its `JoinError`.
pub(crate) async fn reap<T>(task: tokio::task::JoinHandle<T>) {
    task.abort();
    raise_panic(task.await);
}

fn raise_panic<T>(ended: Result<T, tokio::task::JoinError>) {
    if let Err(err) = ended
        && err.is_panic()
    {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Run `session` against a server sending `segments`, on this thread's runtime;
/// `None` when the runtime could not be built or the session was stuck (see the
/// module's doc).
pub(crate) fn run_session<F, Fut, T>(segments: &[&[u8]], session: F) -> Option<T>
where
    F: FnOnce(Wire) -> Fut,
    Fut: Future<Output = Option<T>>,
{
    RUNTIME.with(|runtime| {
        let runtime = runtime.as_ref()?;
        let wire = Wire::new(segments);
        let server = wire.clone();
        let closer = wire.clone();
        runtime.block_on(async move {
            // Its own task: the session's task is polled only when it is woken.
            let mut server = tokio::spawn(async move { server.serve().await });
            let out = tokio::select! {
                biased;
                out = session(wire) => {
                    reap(server).await;
                    out
                }
                ended = &mut server => {
                    raise_panic(ended);
                    None
                }
            };
            closer.close();
            out
        })
    })
}

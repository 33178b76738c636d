//! The raw-bytes sender of a bad-input case: one TCP connection, the exact bytes
//! (whole, dribbled or followed by a slow read), and what came back, every step
//! under its own deadline.
//!
//! Owns: reading an answer that may be anything (garbage, nothing, a reset) without
//! waiting past the case's deadline or keeping more than a bounded buffer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout_at};

use crate::model::{CaseOutcome, RECEIVED_KEPT};

/// Most bytes of an answer read (and scanned for secrets) before gonogo stops
/// reading.
pub const READ_LIMIT: usize = 64 * 1024;

/// Counts the sockets open to the service, and the most at once.
#[derive(Debug, Default)]
pub struct SocketCount {
    open: AtomicU32,
    peak: AtomicU32,
}

impl SocketCount {
    pub fn peak(&self) -> u32 {
        self.peak.load(Ordering::Relaxed)
    }
}

async fn connect(
    addr: SocketAddr,
    deadline: Instant,
    count: &Arc<SocketCount>,
) -> Result<(TcpStream, CountGuard), String> {
    let stream = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return Err(format!("connect to {addr}: {err}")),
        Err(_) => return Err(format!("connect to {addr}: timed out")),
    };
    let now = count.open.fetch_add(1, Ordering::Relaxed) + 1;
    count.peak.fetch_max(now, Ordering::Relaxed);
    Ok((stream, CountGuard(Arc::clone(count))))
}

/// What one exchange gave.
#[derive(Debug)]
pub struct Answer {
    pub outcome: CaseOutcome,
    /// Everything read, [`READ_LIMIT`] at most.
    pub read: Vec<u8>,
}

impl Answer {
    pub fn kept(&self) -> Vec<u8> {
        self.read[..self.read.len().min(RECEIVED_KEPT)].to_vec()
    }
}

/// The status line of `buf` when it holds one; `Err(())` when it is not HTTP.
fn status_line(buf: &[u8]) -> Result<Option<(u16, String)>, ()> {
    let prefix = &buf[..buf.len().min(5)];
    if !b"HTTP/".starts_with(prefix) {
        return Err(());
    }
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() > 1024 { Err(()) } else { Ok(None) };
    };
    let line = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..=999).contains(code));
    match status {
        Some(status) => Ok(Some((status, line))),
        None => Err(()),
    }
}

/// The outcome of what was read when reading stopped (`closed`: by the peer).
fn judge_read(read: &[u8], closed: Option<String>, sent: u64) -> CaseOutcome {
    match status_line(read) {
        Ok(Some((status, line))) => CaseOutcome::Status { status, line },
        Err(()) => CaseOutcome::Garbage,
        Ok(None) => match closed {
            Some(detail) if read.is_empty() => CaseOutcome::Closed { detail },
            Some(_) => CaseOutcome::Garbage,
            None => CaseOutcome::Hung { after_bytes: sent },
        },
    }
}

/// Read until the status line is complete and `until` says stop, the peer closes,
/// or `deadline`. Returns the bytes and why it stopped (`Some`: closed).
async fn read_answer(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    deadline: Instant,
    pace: Option<Duration>,
) -> (Vec<u8>, Option<String>) {
    let mut read = Vec::new();
    let mut buf = vec![0u8; if pace.is_some() { 1 } else { 8192 }];
    loop {
        if read.len() >= READ_LIMIT {
            return (read, None);
        }
        match timeout_at(deadline, reader.read(&mut buf)).await {
            Ok(Ok(0)) => return (read, Some("closed by the service".to_string())),
            Ok(Ok(n)) => read.extend_from_slice(&buf[..n]),
            Ok(Err(err)) => return (read, Some(format!("connection error: {err}"))),
            Err(_) => return (read, None),
        }
        if pace.is_none() && read.windows(4).any(|w| w == b"\r\n\r\n") {
            return (read, Some("answered".to_string()));
        }
        if let Some(pause) = pace {
            sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
    }
}

/// Send `bytes` whole and read the answer, all before `deadline`.
pub async fn whole(
    addr: SocketAddr,
    bytes: &[u8],
    deadline: Instant,
    count: &Arc<SocketCount>,
) -> Answer {
    let (stream, guard) = match connect(addr, deadline, count).await {
        Ok(socket) => socket,
        Err(detail) => return connect_failed(detail),
    };
    let (mut reader, mut writer) = stream.into_split();
    // Writing and reading at once: a service may answer (413) before it has read
    // all, and then the answer ends the case.
    let write = async {
        let _ = timeout_at(deadline, writer.write_all(bytes)).await;
        std::future::pending::<()>().await;
    };
    let (read, closed) = tokio::select! {
        answer = read_answer(&mut reader, deadline, None) => answer,
        () = write => (Vec::new(), None),
    };
    drop(guard);
    let closed = closed.filter(|why| why != "answered").or_else(|| {
        // A complete head is an answer whatever happened next.
        read.windows(4)
            .any(|w| w == b"\r\n\r\n")
            .then(|| "answered".to_string())
    });
    Answer {
        outcome: judge_read(&read, closed, bytes.len() as u64),
        read,
    }
}

/// Send `bytes` one byte per `drip` while reading, until the service answers or
/// closes, or `deadline`: a service that is still waiting then has no header timeout.
pub async fn dribble(
    addr: SocketAddr,
    bytes: &[u8],
    drip: Duration,
    deadline: Instant,
    count: &Arc<SocketCount>,
) -> Answer {
    let (stream, guard) = match connect(addr, deadline, count).await {
        Ok(socket) => socket,
        Err(detail) => return connect_failed(detail),
    };
    let (mut reader, mut writer) = stream.into_split();
    let mut sent = 0u64;
    let send = async {
        for byte in bytes {
            if writer.write_all(std::slice::from_ref(byte)).await.is_err() {
                return;
            }
            sent += 1;
            sleep(drip).await;
        }
        // Everything sent: wait for the answer until the deadline.
        std::future::pending::<()>().await;
    };
    let (read, closed) = tokio::select! {
        answer = read_answer(&mut reader, deadline, None) => answer,
        () = send => (Vec::new(), Some("closed by the service while sending".to_string())),
    };
    drop(guard);
    Answer {
        outcome: judge_read(&read, closed, sent),
        read,
    }
}

/// Send `bytes` whole, then read the answers one byte per `drip` until `deadline`.
pub async fn slow_read(
    addr: SocketAddr,
    bytes: &[u8],
    drip: Duration,
    deadline: Instant,
    count: &Arc<SocketCount>,
) -> Answer {
    let (stream, guard) = match connect(addr, deadline, count).await {
        Ok(socket) => socket,
        Err(detail) => return connect_failed(detail),
    };
    let (mut reader, mut writer) = stream.into_split();
    let _ = timeout_at(deadline, writer.write_all(bytes)).await;
    let (read, closed) = read_answer(&mut reader, deadline, Some(drip)).await;
    drop(guard);
    // Reading slowly until the deadline is the point: that is no hang.
    let closed = closed.or_else(|| Some("read slowly until the slow timeout".to_string()));
    Answer {
        outcome: judge_read(&read, closed, bytes.len() as u64),
        read,
    }
}

/// Counts one open socket until dropped (after both halves of the stream).
struct CountGuard(Arc<SocketCount>);

impl Drop for CountGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn connect_failed(detail: String) -> Answer {
    Answer {
        outcome: CaseOutcome::ConnectFailed { detail },
        read: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_garbage_and_silence_are_told_apart() {
        let ok = judge_read(b"HTTP/1.1 404 Not Found\r\n\r\n", None, 1);
        assert!(matches!(ok, CaseOutcome::Status { status: 404, .. }));
        assert_eq!(
            judge_read(b"\x00\xffgarbage", None, 1),
            CaseOutcome::Garbage
        );
        assert_eq!(
            judge_read(b"HTTP/1.1 abc\r\n", None, 1),
            CaseOutcome::Garbage
        );
        assert!(matches!(
            judge_read(b"", Some("x".into()), 1),
            CaseOutcome::Closed { .. }
        ));
        assert_eq!(
            judge_read(b"", None, 7),
            CaseOutcome::Hung { after_bytes: 7 }
        );
        assert_eq!(
            judge_read(b"HTT", Some("x".into()), 1),
            CaseOutcome::Garbage
        );
    }
}

//! One HTTP/1.1 connection owned by one worker, and the requests sent on it.
//!
//! Owns: connecting (no pool: the driver's connection count is the real one),
//! sending a request and reading the whole response body, classifying the result,
//! and counting the bytes that crossed the socket. Does not own: timing policy
//! (the worker applies deadlines) or statistics.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::recorder::RequestOutcome;

/// Bytes read and written on one socket.
#[derive(Debug, Default)]
pub struct ByteCounters {
    read: AtomicU64,
    written: AtomicU64,
}

impl ByteCounters {
    /// (written, read) so far.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.written.load(Ordering::Relaxed),
            self.read.load(Ordering::Relaxed),
        )
    }
}

/// A TCP stream that counts what passes through it.
#[derive(Debug)]
struct CountingStream {
    inner: TcpStream,
    counters: Arc<ByteCounters>,
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.counters.read.fetch_add(read, Ordering::Relaxed);
        poll
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.counters
                .written
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An open HTTP/1.1 connection.
#[derive(Debug)]
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    counters: Arc<ByteCounters>,
}

/// Why a request did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("could not connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("http error: {0}")]
    Http(#[from] hyper::Error),
}

impl RequestError {
    pub fn outcome(&self) -> RequestOutcome {
        match self {
            RequestError::Connect { .. } => RequestOutcome::ConnectError,
            RequestError::Http(_) => RequestOutcome::IoError,
        }
    }
}

impl Connection {
    /// Open a TCP connection and run the HTTP/1.1 handshake. The connection's
    /// driver runs as its own task and ends when this value is dropped.
    pub async fn open(addr: SocketAddr) -> Result<Connection, RequestError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| RequestError::Connect { addr, source })?;
        // Latency tests need each request on the wire at once.
        let _ = stream.set_nodelay(true);
        let counters = Arc::new(ByteCounters::default());
        let io = TokioIo::new(CountingStream {
            inner: stream,
            counters: Arc::clone(&counters),
        });
        let (sender, driver) = http1::handshake(io).await?;
        tokio::spawn(async move {
            // Errors surface on the sender; the driver just stops.
            let _ = driver.await;
        });
        Ok(Connection { sender, counters })
    }

    /// Whether the connection can take another request (the server did not close it).
    pub fn is_usable(&self) -> bool {
        !self.sender.is_closed()
    }

    pub fn counters(&self) -> &ByteCounters {
        &self.counters
    }

    /// Send `request` and read the full response body; returns the status.
    pub async fn send(
        &mut self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<http::StatusCode, RequestError> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let mut body = response.into_body();
        // Read (and discard) the body frame by frame: bytes are counted at the socket,
        // so a huge response costs time, never memory.
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok(status)
    }
}

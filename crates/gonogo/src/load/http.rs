//! One HTTP/1.1 connection owned by one worker, and the requests sent on it.
//!
//! Owns: connecting (no pool: the driver's connection count is the real one),
//! writing a pre-rendered request, reading the whole response (head parsed with
//! `httparse`; body framed by `Content-Length`, `chunked`, or the end of the
//! connection) into one reused buffer, deciding whether the connection can be kept,
//! and counting the bytes that crossed the socket. Does not own: rendering requests
//! ([`super::request`]), timing policy (the worker applies deadlines) or statistics.
//!
//! A lean client on purpose: the load generator must cost less per request than the
//! service it loads. A load request's body is read and discarded as it arrives, so a
//! huge response costs time, never memory. An integrity read keeps its body
//! ([`Connection::send_keeping_body`], bounded by a limit): the framing code is
//! generic over where body bytes go, and the load path's sink is a no-op that
//! compiles away, so keeping a body costs ordinary requests nothing.
//!
//! Whatever the service sends costs bounded memory: a response head longer than the
//! buffer, more than [`MAX_INTERIM`] interim (1xx) responses, or a kept body over its
//! limit ends the exchange as a typed error. Time is the caller's to bound (the worker's
//! deadline): an endless body costs time until then, never memory. The reading and
//! framing code is generic over the stream, so [`fuzz_read_response`] drives it from
//! bytes in memory; the load path's stream is a `TcpStream`, monomorphised as before.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;

use super::recorder::RequestOutcome;

/// Read buffer size; also the largest response head accepted.
const BUFFER: usize = 16 * 1024;
/// Most response headers accepted.
const MAX_HEADERS: usize = 64;
/// A response read yields to the runtime after this many reads (16 full buffers,
/// 256 KiB), so that the deadline around it is seen at least that often.
const YIELD_EVERY: u32 = 16;
/// Most interim (1xx) responses accepted before the final one: HTTP allows several
/// (`100 Continue`, `103 Early Hints`), a service that sends more never answers.
pub const MAX_INTERIM: usize = 32;

/// Why a request did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("could not connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("i/o error on the connection: {0}")]
    Io(#[from] io::Error),
    #[error("the server closed the connection before the response was complete")]
    Closed,
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error(
        "response too large: its head (status line and headers) is longer than {limit} bytes, \
         the most gonogo reads; check what the service answers"
    )]
    HeadTooLarge { limit: usize },
    #[error(
        "response too large: more than {limit} interim (1xx) responses and no final one; \
         the service never answers the request"
    )]
    TooManyInterim { limit: usize },
    #[error(
        "response too large: its body is longer than {limit} bytes, the most gonogo keeps \
         for a read (length limit exceeded); store smaller values"
    )]
    BodyTooLarge { limit: usize },
}

impl RequestError {
    pub fn outcome(&self) -> RequestOutcome {
        match self {
            RequestError::Connect { .. } => RequestOutcome::ConnectError,
            RequestError::Io(_)
            | RequestError::Closed
            | RequestError::Malformed(_)
            | RequestError::HeadTooLarge { .. }
            | RequestError::TooManyInterim { .. }
            | RequestError::BodyTooLarge { .. } => RequestOutcome::IoError,
        }
    }

    /// Whether the service sent more than gonogo reads (head, interim responses or a
    /// kept body over its limit).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            RequestError::HeadTooLarge { .. }
                | RequestError::TooManyInterim { .. }
                | RequestError::BodyTooLarge { .. }
        )
    }
}

/// A complete response: its status and the bytes moved for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub status: u16,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// An open HTTP/1.1 connection (over a `TcpStream`; another stream type only for
/// reading responses from memory, see [`fuzz_read_response`]).
#[derive(Debug)]
pub struct Connection<S = TcpStream> {
    stream: S,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// False once the server asked to close, or the framing needs the connection's end.
    reusable: bool,
    /// Bytes read from the socket during the current exchange.
    read: u64,
    /// Bytes of the current exchange's request written to the socket.
    wrote: u64,
    /// Reads made for the current response.
    fills: u32,
}

/// Where the bytes of a response body go.
trait BodySink {
    fn take(&mut self, bytes: &[u8]) -> Result<(), RequestError>;
}

/// The load path's sink: body bytes are dropped (inlined to nothing).
struct Discard;

impl BodySink for Discard {
    #[inline(always)]
    fn take(&mut self, _bytes: &[u8]) -> Result<(), RequestError> {
        Ok(())
    }
}

/// A read's sink: body bytes appended to `body`, at most `limit` of them.
struct Keep<'a> {
    body: &'a mut Vec<u8>,
    limit: usize,
}

impl BodySink for Keep<'_> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), RequestError> {
        if self.body.len() + bytes.len() > self.limit {
            return Err(RequestError::BodyTooLarge { limit: self.limit });
        }
        self.body.extend_from_slice(bytes);
        Ok(())
    }
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// What the head of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    /// Bytes of the head, including the blank line.
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

/// Parse a response head from `bytes`; `Ok(None)` when more bytes are needed.
fn parse_head(bytes: &[u8], head_request: bool) -> Result<Option<Head>, RequestError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    // Left uninitialised: httparse writes each slot before exposing it, and filling
    // 64 empty headers (2 KiB) per response was a visible share of the driver's time.
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        bytes,
        &mut headers,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(RequestError::Malformed(err.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut keep_alive = response.version == Some(1);
    let mut length = None;
    let mut chunked = false;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| RequestError::Malformed("invalid content-length".into()))?;
            if length.is_some_and(|l| l != value) {
                return Err(RequestError::Malformed(
                    "conflicting content-length headers".into(),
                ));
            }
            length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // The last coding decides the framing; anything but chunked reads to the end.
            chunked = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if header.name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    let framing = if head_request || (100..200).contains(&status) || status == 204 || status == 304
    {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    if framing == Framing::UntilClose {
        keep_alive = false;
    }
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive,
    }))
}

impl<S> Connection<S> {
    fn over(stream: S) -> Self {
        Connection {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            reusable: true,
            read: 0,
            wrote: 0,
            fills: 0,
        }
    }

    /// Bytes written and read for the current (or last) exchange so far, also when it
    /// failed or was cut short by the caller's deadline.
    pub fn moved(&self) -> (u64, u64) {
        (self.wrote, self.read)
    }
}

impl Connection {
    /// Open a TCP connection to `addr`.
    pub async fn open(addr: SocketAddr) -> Result<Connection, RequestError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| RequestError::Connect { addr, source })?;
        // Latency tests need each request on the wire at once.
        let _ = stream.set_nodelay(true);
        Ok(Connection::over(stream))
    }

    /// Whether the connection can take another request: the last response allowed
    /// it and the server has not closed the connection since (an idle keep-alive
    /// timeout). Costs a system call only when the socket was reported readable.
    pub fn is_usable(&mut self) -> bool {
        if !self.reusable {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Ok(())) = self.stream.poll_read_ready(&mut cx) {
            let mut probe = [0u8; 64];
            match self.stream.try_read(&mut probe) {
                // Nothing to read after all: the readiness was stale.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                // End of stream, an error, or bytes nobody asked for: start afresh.
                _ => self.reusable = false,
            }
        }
        self.reusable
    }

    /// Write `request` (a complete HTTP/1.1 request) and read the whole response,
    /// discarding its body. `head_request` says the response has no body whatever
    /// its headers say. On error the connection must not be used again.
    pub async fn send(
        &mut self,
        request: &[u8],
        head_request: bool,
    ) -> Result<Exchange, RequestError> {
        self.exchange(request, head_request, &mut Discard).await
    }

    /// [`Connection::send`], keeping the response body in `body` (cleared first);
    /// a body longer than `limit` bytes is [`RequestError::BodyTooLarge`].
    pub async fn send_keeping_body(
        &mut self,
        request: &[u8],
        head_request: bool,
        body: &mut Vec<u8>,
        limit: usize,
    ) -> Result<Exchange, RequestError> {
        body.clear();
        self.exchange(request, head_request, &mut Keep { body, limit })
            .await
    }

    async fn exchange<B: BodySink>(
        &mut self,
        request: &[u8],
        head_request: bool,
        sink: &mut B,
    ) -> Result<Exchange, RequestError> {
        self.read = 0;
        self.wrote = 0;
        // Bytes left over from an earlier response are not part of this one.
        self.start = 0;
        self.end = 0;
        if let Err(err) = self.stream.write_all(request).await {
            self.reusable = false;
            return Err(err.into());
        }
        self.wrote = request.len() as u64;
        let result = self.read_response(head_request, sink).await;
        if result.is_err() {
            self.reusable = false;
        }
        let status = result?;
        if self.reusable {
            self.forget_readiness();
        }
        Ok(Exchange {
            status,
            bytes_sent: request.len() as u64,
            bytes_received: self.read,
        })
    }

    /// The response was read to its end and a well-behaved server sends nothing
    /// until the next request, but the runtime still remembers the socket as
    /// readable: the next read would cost a system call that finds nothing. Clear
    /// that readiness without a system call; anything that arrives later (the next
    /// response, or the server closing) is a new readiness event.
    fn forget_readiness(&self) {
        let _ = self.stream.try_io(Interest::READABLE, || {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }
}

impl<S: AsyncRead + Unpin> Connection<S> {
    /// Read one whole response (after at most [`MAX_INTERIM`] interim ones), its body
    /// into `sink`; its status.
    async fn read_response<B: BodySink>(
        &mut self,
        head_request: bool,
        sink: &mut B,
    ) -> Result<u16, RequestError> {
        self.fills = 0;
        let mut interim = 0;
        let head = loop {
            let head = self.read_head(head_request).await?;
            // Interim responses (100 Continue, 103 Early Hints) precede the real one.
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
            interim += 1;
            if interim > MAX_INTERIM {
                return Err(RequestError::TooManyInterim { limit: MAX_INTERIM });
            }
        };
        match head.framing {
            Framing::None => {}
            Framing::Length(length) => self.skip(length, sink).await?,
            Framing::Chunked => self.skip_chunked(sink).await?,
            Framing::UntilClose => self.skip_to_end(sink).await?,
        }
        self.reusable = head.keep_alive;
        Ok(head.status)
    }

    async fn read_head(&mut self, head_request: bool) -> Result<Head, RequestError> {
        loop {
            if let Some(head) = parse_head(&self.buf[self.start..self.end], head_request)? {
                self.start += head.len;
                return Ok(head);
            }
            if self.start == 0 && self.end == self.buf.len() {
                return Err(RequestError::HeadTooLarge { limit: BUFFER });
            }
            if self.fill().await? == 0 {
                return Err(RequestError::Closed);
            }
        }
    }

    /// Read more bytes after the unconsumed ones (moved to the front first);
    /// returns how many were read (0 at the end of the connection).
    async fn fill(&mut self) -> Result<usize, RequestError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.fills = self.fills.wrapping_add(1);
        if self.fills % YIELD_EVERY == 0 {
            // A socket that is always readable never makes the read wait: let the
            // caller's deadline and the runtime's other workers have their turn.
            tokio::task::yield_now().await;
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        self.read += n as u64;
        Ok(n)
    }

    /// Pass `length` body bytes to `sink`.
    async fn skip<B: BodySink>(
        &mut self,
        mut length: u64,
        sink: &mut B,
    ) -> Result<(), RequestError> {
        loop {
            let available = (self.end - self.start) as u64;
            if available >= length {
                // `length` is at most `available`, which is a usize.
                let end = self.start + length as usize;
                sink.take(&self.buf[self.start..end])?;
                self.start = end;
                return Ok(());
            }
            sink.take(&self.buf[self.start..self.end])?;
            length -= available;
            self.start = 0;
            self.end = 0;
            if self.fill().await? == 0 {
                return Err(RequestError::Closed);
            }
        }
    }

    /// Pass a chunked body's data to `sink`; its trailers are discarded.
    async fn skip_chunked<B: BodySink>(&mut self, sink: &mut B) -> Result<(), RequestError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.start += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.end - self.start >= 1024 {
                            return Err(RequestError::Malformed("chunk size line too long".into()));
                        }
                        if self.fill().await? == 0 {
                            return Err(RequestError::Closed);
                        }
                    }
                    Err(_) => return Err(RequestError::Malformed("invalid chunk size".into())),
                }
            };
            if size == 0 {
                return self.skip_trailers().await;
            }
            self.skip(size, sink).await?;
            self.expect_crlf().await?;
        }
    }

    async fn expect_crlf(&mut self) -> Result<(), RequestError> {
        while self.end - self.start < 2 {
            if self.fill().await? == 0 {
                return Err(RequestError::Closed);
            }
        }
        if &self.buf[self.start..self.start + 2] != b"\r\n" {
            return Err(RequestError::Malformed("chunk not followed by CRLF".into()));
        }
        self.start += 2;
        Ok(())
    }

    /// Trailer lines after the last chunk, up to and including the blank line.
    async fn skip_trailers(&mut self) -> Result<(), RequestError> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(at) = pending.windows(2).position(|w| w == b"\r\n") {
                self.start += at + 2;
                if at == 0 {
                    return Ok(());
                }
                continue;
            }
            if self.start == 0 && self.end == self.buf.len() {
                return Err(RequestError::Malformed("trailer line too long".into()));
            }
            if self.fill().await? == 0 {
                return Err(RequestError::Closed);
            }
        }
    }

    async fn skip_to_end<B: BodySink>(&mut self, sink: &mut B) -> Result<(), RequestError> {
        loop {
            sink.take(&self.buf[self.start..self.end])?;
            self.start = 0;
            self.end = 0;
            if self.fill().await? == 0 {
                return Ok(());
            }
        }
    }
}

/// Most responses [`fuzz_read_response`] reads from one input, and the body it keeps.
const FUZZ_RESPONSES: usize = 64;
const FUZZ_BODY_LIMIT: usize = 64 * 1024;

/// The fuzzing hook: read `bytes` as what a server sent on one kept connection, one
/// response after another (each body kept, at most 64 KiB), with the load path's
/// reading and framing code; the last status, or the first error in words. Never
/// panics, whatever the bytes; reachable as `gonogo::load::http::fuzz_read_response`.
#[doc(hidden)]
pub fn fuzz_read_response(bytes: &[u8], head_request: bool) -> Result<u16, String> {
    let mut conn = Connection::over(bytes);
    let mut body = Vec::new();
    let mut status = Err("no response".to_string());
    for _ in 0..FUZZ_RESPONSES {
        body.clear();
        let mut sink = Keep {
            body: &mut body,
            limit: FUZZ_BODY_LIMIT,
        };
        let polls = bytes.len() + 2;
        status = match poll_in_memory(conn.read_response(head_request, &mut sink), polls) {
            Some(read) => read.map_err(|err| err.to_string()),
            None => Err("the reader waited on bytes in memory".to_string()),
        };
        let more = conn.start < conn.end || !conn.stream.is_empty();
        if status.is_err() || !conn.reusable || !more {
            break;
        }
    }
    status
}

/// Run `future` by polling it at most `polls` times: reading from memory never waits
/// on I/O, only yields now and then (see [`YIELD_EVERY`]); `None` if it is not done.
fn poll_in_memory<F: Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    (0..polls).find_map(|_| match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    })
}

#[cfg(test)]
mod tests;

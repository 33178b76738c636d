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

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;

use super::recorder::RequestOutcome;

/// Read buffer size; also the largest response head accepted.
const BUFFER: usize = 16 * 1024;
/// Most response headers accepted.
const MAX_HEADERS: usize = 64;

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
    #[error("reading the response body: length limit exceeded ({limit} bytes)")]
    BodyTooLarge { limit: usize },
}

impl RequestError {
    pub fn outcome(&self) -> RequestOutcome {
        match self {
            RequestError::Connect { .. } => RequestOutcome::ConnectError,
            RequestError::Io(_)
            | RequestError::Closed
            | RequestError::Malformed(_)
            | RequestError::BodyTooLarge { .. } => RequestOutcome::IoError,
        }
    }
}

/// A complete response: its status and the bytes moved for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub status: u16,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// An open HTTP/1.1 connection.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// False once the server asked to close, or the framing needs the connection's end.
    reusable: bool,
    /// Bytes read from the socket during the current exchange.
    read: u64,
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

impl Connection {
    /// Open a TCP connection to `addr`.
    pub async fn open(addr: SocketAddr) -> Result<Connection, RequestError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| RequestError::Connect { addr, source })?;
        // Latency tests need each request on the wire at once.
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            reusable: true,
            read: 0,
        })
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

    async fn exchange<S: BodySink>(
        &mut self,
        request: &[u8],
        head_request: bool,
        sink: &mut S,
    ) -> Result<Exchange, RequestError> {
        self.read = 0;
        // Bytes left over from an earlier response are not part of this one.
        self.start = 0;
        self.end = 0;
        if let Err(err) = self.stream.write_all(request).await {
            self.reusable = false;
            return Err(err.into());
        }
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

    async fn read_response<S: BodySink>(
        &mut self,
        head_request: bool,
        sink: &mut S,
    ) -> Result<u16, RequestError> {
        let head = loop {
            let head = self.read_head(head_request).await?;
            // Interim responses (100 Continue, 103 Early Hints) precede the real one.
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
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
                return Err(RequestError::Malformed(format!(
                    "response head longer than {BUFFER} bytes"
                )));
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
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        self.read += n as u64;
        Ok(n)
    }

    /// Pass `length` body bytes to `sink`.
    async fn skip<S: BodySink>(
        &mut self,
        mut length: u64,
        sink: &mut S,
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
    async fn skip_chunked<S: BodySink>(&mut self, sink: &mut S) -> Result<(), RequestError> {
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

    async fn skip_to_end<S: BodySink>(&mut self, sink: &mut S) -> Result<(), RequestError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    /// A server that answers each request (read up to its blank line) with the next
    /// canned reply, then closes. Replies may arrive in several writes.
    async fn server(replies: Vec<Vec<&'static [u8]>>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for reply in replies {
                let mut buf = [0u8; 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                let end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                seen.drain(..end);
                for part in reply {
                    socket.write_all(part).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn keep_alive_with_content_length_serves_several_requests() {
        let ok: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let addr = server(vec![vec![ok], vec![&ok[..20], &ok[20..]]]).await;
        let mut conn = Connection::open(addr).await.unwrap();
        let first = conn.send(GET, false).await.unwrap();
        assert_eq!(first.status, 200);
        assert_eq!(first.bytes_sent, GET.len() as u64);
        assert_eq!(first.bytes_received, ok.len() as u64);
        assert!(conn.is_usable());
        let second = conn.send(GET, false).await.unwrap();
        assert_eq!(
            second.bytes_received,
            ok.len() as u64,
            "head split across reads"
        );
    }

    #[tokio::test]
    async fn chunked_body_with_trailers_is_read_to_its_end() {
        let addr = server(vec![
            vec![
                b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                b"lo\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n",
                b"\r\n",
            ],
            vec![b"HTTP/1.1 204 No Content\r\n\r\n"],
        ])
        .await;
        let mut conn = Connection::open(addr).await.unwrap();
        assert_eq!(conn.send(GET, false).await.unwrap().status, 201);
        assert!(conn.is_usable());
        // The next response parses cleanly only if the first one was consumed exactly.
        assert_eq!(conn.send(GET, false).await.unwrap().status, 204);
    }

    #[tokio::test]
    async fn connection_close_makes_the_connection_unusable() {
        let addr = server(vec![vec![
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        ]])
        .await;
        let mut conn = Connection::open(addr).await.unwrap();
        assert_eq!(conn.send(GET, false).await.unwrap().status, 200);
        assert!(!conn.is_usable());
    }

    #[tokio::test]
    async fn a_keep_alive_connection_closed_while_idle_is_not_reused() {
        let addr = server(vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]]).await;
        let mut conn = Connection::open(addr).await.unwrap();
        assert_eq!(conn.send(GET, false).await.unwrap().status, 200);
        // The server task ends after its one reply, closing the socket.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!conn.is_usable());
    }

    #[tokio::test]
    async fn body_without_length_runs_to_the_close() {
        let addr = server(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nall of ", b"this"]]).await;
        let mut conn = Connection::open(addr).await.unwrap();
        let exchange = conn.send(GET, false).await.unwrap();
        assert_eq!(exchange.status, 200);
        assert_eq!(exchange.bytes_received, 30);
        assert!(!conn.is_usable());
    }

    #[tokio::test]
    async fn head_responses_and_interim_responses_have_no_body() {
        let addr = server(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"],
            vec![
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            ],
        ])
        .await;
        let mut conn = Connection::open(addr).await.unwrap();
        assert_eq!(conn.send(GET, true).await.unwrap().status, 200);
        assert!(conn.is_usable(), "the 100 bytes announced were not awaited");
        assert_eq!(conn.send(GET, false).await.unwrap().status, 404);
    }

    #[tokio::test]
    async fn malformed_and_truncated_responses_are_errors() {
        for reply in [
            &b"HTTP/1.1 abc OK\r\n\r\n"[..],
            b"garbage\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
        ] {
            let addr = server(vec![vec![reply]]).await;
            let mut conn = Connection::open(addr).await.unwrap();
            let err = conn.send(GET, false).await.unwrap_err();
            assert!(
                matches!(err, RequestError::Malformed(_)),
                "{reply:?}: {err}"
            );
            assert_eq!(err.outcome(), RequestOutcome::IoError);
            assert!(!conn.is_usable());
        }
        let addr = server(vec![vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        ]])
        .await;
        let mut conn = Connection::open(addr).await.unwrap();
        let err = conn.send(GET, false).await.unwrap_err();
        assert!(matches!(err, RequestError::Closed), "{err}");
    }

    #[tokio::test]
    async fn kept_bodies_are_whole_for_every_framing_and_bounded() {
        let addr = server(vec![
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", b"llo"],
            vec![
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                b"c\r\n2\r\nde\r\n0\r\n\r\n",
            ],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ntoobig"],
        ])
        .await;
        let mut conn = Connection::open(addr).await.unwrap();
        let mut body = b"stale".to_vec();
        let done = conn
            .send_keeping_body(GET, false, &mut body, 64)
            .await
            .unwrap();
        assert_eq!((done.status, &body[..]), (200, &b"hello"[..]));
        conn.send_keeping_body(GET, false, &mut body, 64)
            .await
            .unwrap();
        assert_eq!(body, b"abcde", "chunk data only");
        let err = conn
            .send_keeping_body(GET, false, &mut body, 5)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RequestError::BodyTooLarge { limit: 5 }),
            "{err}"
        );
        assert_eq!(err.outcome(), RequestOutcome::IoError);
        assert!(!conn.is_usable());
        let addr = server(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nall of ", b"this"]]).await;
        let mut conn = Connection::open(addr).await.unwrap();
        conn.send_keeping_body(GET, false, &mut body, 64)
            .await
            .unwrap();
        assert_eq!(body, b"all of this", "read to the close");
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = Connection::open(addr).await.unwrap_err();
        assert_eq!(err.outcome(), RequestOutcome::ConnectError);
    }

    #[test]
    fn framing_follows_the_headers() {
        let head = |bytes: &[u8]| parse_head(bytes, false).unwrap().unwrap();
        assert_eq!(
            head(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
            )
            .framing,
            Framing::Chunked,
            "chunked wins over content-length"
        );
        assert!(!head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(
            head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
        assert_eq!(
            head(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").framing,
            Framing::None
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false).unwrap(),
            None
        );
        assert_eq!(parse_head(b"", false).unwrap(), None, "nothing read yet");
    }

    #[test]
    fn header_slots_hold_up_to_their_count_and_more_is_malformed() {
        let response = |headers: usize| {
            let mut text = String::from("HTTP/1.1 200 OK\r\n");
            for i in 0..headers - 1 {
                text.push_str(&format!("X-Filler-{i}: {i}\r\n"));
            }
            text.push_str("Content-Length: 5\r\n\r\n");
            text
        };
        let full = parse_head(response(MAX_HEADERS).as_bytes(), false).unwrap();
        assert_eq!(full.map(|h| h.framing), Some(Framing::Length(5)));
        assert!(matches!(
            parse_head(response(MAX_HEADERS + 1).as_bytes(), false),
            Err(RequestError::Malformed(_))
        ));
    }
}

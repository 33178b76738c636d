//! The `http_response` fuzz target, for now: a copy of the response reader of
//! `load::http` (head parsing with `httparse`, interim responses, framing by
//! `Content-Length`, `chunked` or the connection's end, the 16 KiB buffer and its
//! limits) reading from memory instead of a socket.
//!
//! Owns: nothing for good. `load::http` is getting a reader that runs from memory
//! (`fuzz_read_response`); once it is there this file goes and
//! [`http_response`] calls it, so that the target fuzzes the real reader.
//!
//! The input: one flags byte (bit 0: the request was `HEAD`; bit 1: keep the body,
//! as an integrity read does; bits 2–4: how many bytes one read returns), then
//! what the server sends. Responses are read one after another while the
//! connection stays reusable, each exchange dropping what the last one left over,
//! as `Connection::exchange` does.

use std::mem::MaybeUninit;

use crate::load::MAX_BODY;

/// Read buffer size; also the largest response head accepted (as `load::http`).
const BUFFER: usize = 16 * 1024;
/// Most response headers accepted (as `load::http`).
const MAX_HEADERS: usize = 64;
/// Bytes one read returns, by bits 2–4 of the flags.
const READ_SIZES: [usize; 8] = [1, 2, 3, 7, 64, 511, 4096, BUFFER];

/// Read `data` (flags, then the server's bytes) as responses to requests.
pub fn http_response(data: &[u8]) {
    let Some((&flags, wire)) = data.split_first() else {
        return;
    };
    let head_request = flags & 1 != 0;
    let keep_body = flags & 2 != 0;
    let read_size = READ_SIZES[usize::from(flags >> 2) & 7];
    let mut reader = Reader::new(wire, read_size);
    let mut body = Vec::new();
    loop {
        reader.start = 0;
        reader.end = 0;
        let status = if keep_body {
            body.clear();
            let mut sink = Keep {
                body: &mut body,
                limit: MAX_BODY,
            };
            reader.read_response(head_request, &mut sink)
        } else {
            reader.read_response(head_request, &mut Discard)
        };
        if let Err(Stop::Malformed(why)) = &status {
            std::hint::black_box(why.len());
        }
        std::hint::black_box((&status, body.len()));
        if status.is_err() || !reader.reusable || reader.wire.is_empty() {
            return;
        }
    }
}

/// Why a response could not be read.
#[derive(Debug)]
enum Stop {
    Closed,
    Malformed(String),
    BodyTooLarge,
}

trait BodySink {
    fn take(&mut self, bytes: &[u8]) -> Result<(), Stop>;
}

struct Discard;

impl BodySink for Discard {
    fn take(&mut self, _bytes: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
}

struct Keep<'a> {
    body: &'a mut Vec<u8>,
    limit: usize,
}

impl BodySink for Keep<'_> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        if self.body.len() + bytes.len() > self.limit {
            return Err(Stop::BodyTooLarge);
        }
        self.body.extend_from_slice(bytes);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

/// `load::http::parse_head`, as it is.
fn parse_head(bytes: &[u8], head_request: bool) -> Result<Option<Head>, Stop> {
    if bytes.is_empty() {
        return Ok(None);
    }
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
        Err(err) => return Err(Stop::Malformed(err.to_string())),
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
                .ok_or_else(|| Stop::Malformed("invalid content-length".into()))?;
            if length.is_some_and(|l| l != value) {
                return Err(Stop::Malformed("conflicting content-length headers".into()));
            }
            length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
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

/// `load::http::Connection`'s reading half over `wire`.
struct Reader<'a> {
    wire: &'a [u8],
    read_size: usize,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    reusable: bool,
}

impl<'a> Reader<'a> {
    fn new(wire: &'a [u8], read_size: usize) -> Self {
        Reader {
            wire,
            read_size,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            reusable: true,
        }
    }

    fn read_response<S: BodySink>(
        &mut self,
        head_request: bool,
        sink: &mut S,
    ) -> Result<u16, Stop> {
        let head = loop {
            let head = self.read_head(head_request)?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        match head.framing {
            Framing::None => {}
            Framing::Length(length) => self.skip(length, sink)?,
            Framing::Chunked => self.skip_chunked(sink)?,
            Framing::UntilClose => self.skip_to_end(sink)?,
        }
        self.reusable = head.keep_alive;
        Ok(head.status)
    }

    fn read_head(&mut self, head_request: bool) -> Result<Head, Stop> {
        loop {
            if let Some(head) = parse_head(&self.buf[self.start..self.end], head_request)? {
                self.start += head.len;
                return Ok(head);
            }
            if self.start == 0 && self.end == self.buf.len() {
                return Err(Stop::Malformed(format!(
                    "response head longer than {BUFFER} bytes"
                )));
            }
            if self.fill() == 0 {
                return Err(Stop::Closed);
            }
        }
    }

    /// As a socket read: at most `read_size` bytes, 0 at the end.
    fn fill(&mut self) -> usize {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let room = &mut self.buf[self.end..];
        let n = room.len().min(self.read_size).min(self.wire.len());
        let (now, later) = self.wire.split_at(n);
        room[..n].copy_from_slice(now);
        self.wire = later;
        self.end += n;
        n
    }

    fn skip<S: BodySink>(&mut self, mut length: u64, sink: &mut S) -> Result<(), Stop> {
        loop {
            let available = (self.end - self.start) as u64;
            if available >= length {
                let end = self.start + length as usize;
                sink.take(&self.buf[self.start..end])?;
                self.start = end;
                return Ok(());
            }
            sink.take(&self.buf[self.start..self.end])?;
            length -= available;
            self.start = 0;
            self.end = 0;
            if self.fill() == 0 {
                return Err(Stop::Closed);
            }
        }
    }

    fn skip_chunked<S: BodySink>(&mut self, sink: &mut S) -> Result<(), Stop> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.start += used;
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.end - self.start >= 1024 {
                            return Err(Stop::Malformed("chunk size line too long".into()));
                        }
                        if self.fill() == 0 {
                            return Err(Stop::Closed);
                        }
                    }
                    Err(_) => return Err(Stop::Malformed("invalid chunk size".into())),
                }
            };
            if size == 0 {
                return self.skip_trailers();
            }
            self.skip(size, sink)?;
            self.expect_crlf()?;
        }
    }

    fn expect_crlf(&mut self) -> Result<(), Stop> {
        while self.end - self.start < 2 {
            if self.fill() == 0 {
                return Err(Stop::Closed);
            }
        }
        if &self.buf[self.start..self.start + 2] != b"\r\n" {
            return Err(Stop::Malformed("chunk not followed by CRLF".into()));
        }
        self.start += 2;
        Ok(())
    }

    fn skip_trailers(&mut self) -> Result<(), Stop> {
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
                return Err(Stop::Malformed("trailer line too long".into()));
            }
            if self.fill() == 0 {
                return Err(Stop::Closed);
            }
        }
    }

    fn skip_to_end<S: BodySink>(&mut self, sink: &mut S) -> Result<(), Stop> {
        loop {
            sink.take(&self.buf[self.start..self.end])?;
            self.start = 0;
            self.end = 0;
            if self.fill() == 0 {
                return Ok(());
            }
        }
    }
}

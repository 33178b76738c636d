//! Redis workloads: one RESP command per request, through the `redis` crate.
//!
//! Owns: a workload's Redis target (address and command templates), one
//! connection per worker (a `MultiplexedConnection` used by that worker alone, its
//! driver task on the worker's runtime), and the mapping of replies and errors to a
//! [`RequestOutcome`], as its [`Workload`]; and integrity's writes, reads and
//! listings of given keys, as its [`KeyValue`]. Does not own: timing, timeouts or
//! recording (the callers'), nor integrity's keys and ledger (`integrity`).
//!
//! Outcomes: any reply but an error reply is `ok` (`nil` included: a GET of a key
//! never set is an answer); an error reply (`-ERR …`) is `status_mismatch`; a
//! refused or failed connect is `connect_error`; a connection lost or broken mid
//! request is `io_error`. Bytes are counted as RESP2 encodes the command and the
//! reply (exact for RESP2 servers).
//!
//! As a [`KeyValue`]: a write answered with anything but an error reply is
//! acknowledged (`SET` answers `+OK`); an error reply is failed; a connection lost
//! after sending is indeterminate. A read's bulk string (or simple string, or
//! integer, as text) is found, `nil` is missing. Listing walks
//! `SCAN 0 MATCH <prefix>* COUNT 1000` to the end.

use ::redis::aio::{ConnectionLike, MultiplexedConnection};
use ::redis::{AsyncConnectionConfig, Client, Cmd, ErrorKind, RedisError, Value};
use rand::rngs::SmallRng;

use super::recorder::RequestOutcome;
use super::request::{KvFill, Placeholders, RequestBuildError, render_arg, render_kv_text};
use super::workload::{
    Answer, KeyValue, Listed, PhaseWorkloads, ReadOutcome, Refused, Sent, Workload,
    lists_by_itself, other_protocol,
};
use crate::model::WriteOutcome;
use crate::plan::{Protocol, Template, WorkloadPlan};

/// Keys asked for per `SCAN` step.
const SCAN_COUNT: u32 = 1000;

/// A Redis workload bound to a port.
#[derive(Debug)]
pub struct RedisTarget {
    client: Client,
    /// The address as rendered, for messages.
    address: String,
    command: Vec<Template>,
    port: u16,
    placeholders: Placeholders,
}

impl RedisTarget {
    /// Check the address (`host:port` once `{port}` is known) and keep the command.
    pub fn new(
        workload: &str,
        address: &Template,
        command: &[Template],
        keys: u64,
        port: u16,
    ) -> Result<Self, RequestBuildError> {
        let client = client_for(workload, address, port)?;
        Ok(RedisTarget {
            client,
            address: address.render_with_port(port),
            command: command.to_vec(),
            port,
            placeholders: Placeholders::new(keys),
        })
    }
}

impl Workload for RedisTarget {
    type Conn = MultiplexedConnection;
    type Error = RedisError;

    async fn connect(&self) -> Result<MultiplexedConnection, Refused<RedisError>> {
        connect(&self.client).await.map_err(|error| Refused {
            outcome: RequestOutcome::ConnectError,
            error,
        })
    }

    /// A broken connection shows on the next command (and is dropped then).
    fn usable(_conn: &mut MultiplexedConnection) -> bool {
        true
    }

    async fn send(
        &self,
        conn: &mut MultiplexedConnection,
        rng: &mut SmallRng,
        scratch: &mut Vec<u8>,
    ) -> Sent {
        let fill = self.placeholders.next(rng);
        let mut cmd = Cmd::new();
        let mut lengths = Vec::with_capacity(self.command.len());
        for arg in &self.command {
            scratch.clear();
            render_arg(scratch, arg, self.port, fill);
            cmd.arg(&scratch[..]);
            lengths.push(scratch.len());
        }
        let sent = command_size(&lengths);
        match conn.req_packed_command(&cmd).await {
            Ok(reply) => Sent {
                outcome: reply_outcome(&reply),
                bytes_sent: sent,
                bytes_received: reply_size(&reply),
                status: 0,
                keep: true,
            },
            Err(err) => {
                let outcome = classify(&err);
                Sent {
                    bytes_sent: sent,
                    keep: outcome == RequestOutcome::StatusMismatch,
                    ..Sent::failed(outcome)
                }
            }
        }
    }

    fn start_seq_at(&self, seq: u64) {
        self.placeholders.start_seq_at(seq);
    }
}

impl RedisTarget {
    /// The command for one key-value operation on `key`.
    fn kv_command(&self, key: &str, value: &str) -> Cmd {
        let fill = KvFill {
            key,
            value,
            numbers: None,
        };
        let mut cmd = Cmd::new();
        for template in &self.command {
            cmd.arg(render_kv_text(template, self.port, fill));
        }
        cmd
    }
}

impl KeyValue for RedisTarget {
    const CONNECTS_AT_SETUP: bool = true;

    async fn build(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        let Protocol::Redis { address, command } = &workload.protocol else {
            return Err(other_protocol(workload, "redis"));
        };
        RedisTarget::new(&workload.name, address, command, workload.keys, port)
    }

    /// `SCAN` on the read workload's server.
    async fn lister(
        workloads: PhaseWorkloads<'_>,
        port: u16,
    ) -> Result<Option<Self>, RequestBuildError> {
        lists_by_itself(workloads)?;
        Self::build(workloads.read, port).await.map(Some)
    }

    fn server(&self) -> String {
        self.address.clone()
    }

    async fn write(
        &self,
        conn: &mut MultiplexedConnection,
        key: &str,
        value: &str,
    ) -> Answer<WriteOutcome> {
        match conn.req_packed_command(&self.kv_command(key, value)).await {
            Ok(Value::ServerError(_)) => Answer::kept(WriteOutcome::Failed),
            Ok(_) => Answer::kept(WriteOutcome::Acknowledged),
            Err(err) => match classify(&err) {
                RequestOutcome::StatusMismatch => Answer::kept(WriteOutcome::Failed),
                _ => Answer::dropped(WriteOutcome::Indeterminate),
            },
        }
    }

    async fn read(&self, conn: &mut MultiplexedConnection, key: &str) -> Answer<ReadOutcome> {
        match conn.req_packed_command(&self.kv_command(key, "")).await {
            Ok(reply) => Answer::kept(read_outcome(reply)),
            Err(err) => failed(&err, ReadOutcome::Error(err.to_string())),
        }
    }

    async fn list(&self, conn: &mut MultiplexedConnection, prefix: &str) -> Answer<Listed> {
        let pattern = format!("{}*", glob_escape(prefix));
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let mut cmd = ::redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let reply = match conn.req_packed_command(&cmd).await {
                Ok(reply) => reply,
                Err(err) => return failed(&err, Err(err.to_string())),
            };
            let (next, batch) = match ::redis::from_redis_value::<(u64, Vec<Vec<u8>>)>(reply) {
                Ok(parsed) => parsed,
                Err(e) => return Answer::kept(Err(format!("unexpected SCAN reply: {e}"))),
            };
            keys.extend(
                batch
                    .iter()
                    .map(|k| String::from_utf8_lossy(k).into_owned()),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key more than once.
        keys.sort_unstable();
        keys.dedup();
        Answer::kept(Ok(Some(keys)))
    }
}

/// `outcome` of a command that failed: the connection is kept after an error reply.
fn failed<T>(err: &RedisError, outcome: T) -> Answer<T> {
    Answer {
        outcome,
        keep: classify(err) == RequestOutcome::StatusMismatch,
    }
}

/// What a read's reply says about the key.
fn read_outcome(reply: Value) -> ReadOutcome {
    match reply {
        Value::Nil => ReadOutcome::Missing,
        Value::BulkString(bytes) => ReadOutcome::Found(bytes),
        Value::SimpleString(text) => ReadOutcome::Found(text.into_bytes()),
        Value::Okay => ReadOutcome::Found(b"OK".to_vec()),
        Value::Int(n) => ReadOutcome::Found(n.to_string().into_bytes()),
        Value::ServerError(err) => ReadOutcome::Error(err.to_string()),
        other => ReadOutcome::Error(format!(
            "the read command answered {other:?}; use a command that returns one value, such as GET"
        )),
    }
}

/// `text` with Redis glob characters (`*?[]\`) escaped, for a `MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A client for `address` rendered with `port`; no connection is made.
fn client_for(workload: &str, address: &Template, port: u16) -> Result<Client, RequestBuildError> {
    let rendered = address.render_with_port(port);
    Client::open(format!("redis://{rendered}/")).map_err(|e| RequestBuildError::Invalid {
        workload: workload.to_string(),
        what: format!("redis address {rendered:?}"),
        reason: e.to_string(),
    })
}

/// A connection without the crate's own timeouts: the caller bounds each request.
async fn connect(client: &Client) -> Result<MultiplexedConnection, RedisError> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(None)
        .set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// `ok` for any reply but an error reply.
fn reply_outcome(reply: &Value) -> RequestOutcome {
    match reply {
        Value::ServerError(_) => RequestOutcome::StatusMismatch,
        _ => RequestOutcome::Ok,
    }
}

/// How a failed request on an open connection ended: an error reply from the
/// server is `status_mismatch` (the connection stays usable); a timeout is
/// `timeout`; anything else (connection dropped, I/O, unreadable reply) is
/// `io_error` and the connection is discarded.
fn classify(err: &RedisError) -> RequestOutcome {
    match err.kind() {
        ErrorKind::Server(_) | ErrorKind::Extension => RequestOutcome::StatusMismatch,
        _ if err.is_timeout() => RequestOutcome::Timeout,
        _ => RequestOutcome::IoError,
    }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> u64 {
    n.checked_ilog10().map_or(1, |d| u64::from(d) + 1)
}

/// RESP size of a header line such as `*3\r\n` or `$5\r\n`.
fn header(n: usize) -> u64 {
    1 + digits(n) + 2
}

/// Bytes of a command with arguments of `lengths` bytes, as RESP encodes it.
fn command_size(lengths: &[usize]) -> u64 {
    header(lengths.len())
        + lengths
            .iter()
            .map(|&len| header(len) + len as u64 + 2)
            .sum::<u64>()
}

/// Bytes of a reply as RESP2 encodes it; types RESP2 lacks count as their RESP2
/// fallbacks would (maps and sets as arrays, doubles and big numbers as bulk strings).
fn reply_size(reply: &Value) -> u64 {
    let line = |text_len: usize| 1 + text_len as u64 + 2;
    let bulk = |len: usize| header(len) + len as u64 + 2;
    match reply {
        Value::Nil => 5,
        Value::Okay => 5,
        Value::Int(n) => line(n.to_string().len()),
        Value::BulkString(bytes) => bulk(bytes.len()),
        Value::SimpleString(text) => line(text.len()),
        Value::Array(items) | Value::Set(items) => {
            header(items.len()) + items.iter().map(reply_size).sum::<u64>()
        }
        Value::Map(pairs) => {
            header(pairs.len() * 2)
                + pairs
                    .iter()
                    .map(|(k, v)| reply_size(k) + reply_size(v))
                    .sum::<u64>()
        }
        Value::Attribute { data, .. } => reply_size(data),
        Value::Double(d) => bulk(d.to_string().len()),
        Value::Boolean(_) => line(1),
        Value::VerbatimString { text, .. } => bulk(text.len()),
        Value::ServerError(err) => line(err.to_string().len()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_resp_encoding() {
        // *3\r\n $3\r\nSET\r\n $5\r\nkey-1\r\n $2\r\nv0\r\n
        assert_eq!(
            command_size(&[3, 5, 2]),
            4 + (4 + 3 + 2) + (4 + 5 + 2) + (4 + 2 + 2)
        );
        assert_eq!(command_size(&[10]), 4 + 5 + 10 + 2, "two-digit length");
        assert_eq!(reply_size(&Value::Okay), "+OK\r\n".len() as u64);
        assert_eq!(reply_size(&Value::Nil), "$-1\r\n".len() as u64);
        assert_eq!(reply_size(&Value::Int(-12)), ":-12\r\n".len() as u64);
        assert_eq!(
            reply_size(&Value::BulkString(b"hello".to_vec())),
            "$5\r\nhello\r\n".len() as u64
        );
        assert_eq!(
            reply_size(&Value::Array(vec![Value::Int(1), Value::Nil])),
            "*2\r\n:1\r\n$-1\r\n".len() as u64
        );
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("run-1:"), "run-1:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn replies_map_to_read_outcomes() {
        assert_eq!(read_outcome(Value::Nil), ReadOutcome::Missing);
        assert_eq!(
            read_outcome(Value::BulkString(b"v1".to_vec())),
            ReadOutcome::Found(b"v1".to_vec())
        );
        assert_eq!(
            read_outcome(Value::Int(7)),
            ReadOutcome::Found(b"7".to_vec())
        );
        assert!(matches!(
            read_outcome(Value::Array(vec![])),
            ReadOutcome::Error(_)
        ));
    }

    #[test]
    fn only_error_replies_fail() {
        assert_eq!(reply_outcome(&Value::Nil), RequestOutcome::Ok);
        assert_eq!(reply_outcome(&Value::Okay), RequestOutcome::Ok);
        let err = RedisError::from((ErrorKind::Io, "gone"));
        assert_eq!(classify(&err), RequestOutcome::IoError);
        let err = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(classify(&err), RequestOutcome::Timeout);
    }
}

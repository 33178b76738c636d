//! The integrity client for Redis: writes, reads and lists keys with RESP commands
//! from the phase's write and read workloads.
//!
//! Owns: [`RedisKv`], keeping the contract in [`super::kv`]. Does not own: the
//! ledger, scheduling or timeouts (the caller's), nor the load driver's Redis path
//! (`load::redis`, whose connection setup and error classification it reuses).
//!
//! Outcomes: a write answered with anything but an error reply is acknowledged
//! (`SET` answers `+OK`); an error reply, or a connection that could not be made
//! before sending, is failed; a connection lost after sending is indeterminate. A
//! read's bulk string (or simple string, or integer, as text) is found, `nil` is
//! missing. `list` walks `SCAN 0 MATCH <prefix>* COUNT 1000` to the end.

use ::redis::aio::{ConnectionLike, MultiplexedConnection};
use ::redis::{Client, Cmd, Value};

use super::kv::{KvError, ReadOutcome};
use super::render::render_kv;
use crate::load::RequestOutcome;
use crate::load::redis::{classify, client_for, connect};
use crate::model::WriteOutcome;
use crate::plan::{Protocol, Template, WorkloadPlan};

/// Keys asked for per `SCAN` step.
const SCAN_COUNT: u32 = 1000;

/// A Redis key-value client for an integrity phase.
#[derive(Debug)]
pub struct RedisKv {
    client: Client,
    target: String,
    conn: Option<MultiplexedConnection>,
    write: Vec<Template>,
    read: Vec<Template>,
    port: u16,
}

/// The address and command of a Redis workload, or why it is not one.
fn redis_parts(workload: &WorkloadPlan) -> Result<(&Template, &[Template]), KvError> {
    match &workload.protocol {
        Protocol::Redis { address, command } => Ok((address, command)),
        other => Err(KvError::Setup {
            workload: workload.name.clone(),
            reason: format!(
                "speaks {}, but the other integrity workload speaks redis; use one protocol for both",
                other.as_str()
            ),
        }),
    }
}

impl RedisKv {
    /// Connect to the write workload's address with `port` for `{port}`. The read
    /// workload must be a Redis workload on the same address.
    pub async fn connect(
        write: &WorkloadPlan,
        read: &WorkloadPlan,
        port: u16,
    ) -> Result<Self, KvError> {
        let (address, write_command) = redis_parts(write)?;
        let (read_address, read_command) = redis_parts(read)?;
        let target = address.render_with_port(port);
        if read_address.render_with_port(port) != target {
            return Err(KvError::Setup {
                workload: read.name.clone(),
                reason: format!("reads from another address than the writes ({target})"),
            });
        }
        let client = client_for(&write.name, address, port).map_err(|e| KvError::Setup {
            workload: write.name.clone(),
            reason: e.to_string(),
        })?;
        let conn = connect(&client).await.map_err(|e| KvError::Connect {
            target: target.clone(),
            reason: e.to_string(),
        })?;
        Ok(RedisKv {
            client,
            target,
            conn: Some(conn),
            write: write_command.to_vec(),
            read: read_command.to_vec(),
            port,
        })
    }

    /// The open connection, reconnecting when the last one broke.
    async fn connection(&mut self) -> Result<&mut MultiplexedConnection, String> {
        if self.conn.is_none() {
            let fresh = connect(&self.client).await.map_err(|e| e.to_string())?;
            self.conn = Some(fresh);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| format!("no connection to {}", self.target))
    }

    /// Send `cmd`; a broken connection is dropped. `Err(None)` when no connection
    /// could be made (nothing was sent).
    async fn send(&mut self, cmd: &Cmd) -> Result<Value, Option<::redis::RedisError>> {
        let conn = self.connection().await.map_err(|_| None)?;
        match conn.req_packed_command(cmd).await {
            Ok(value) => Ok(value),
            Err(err) => {
                if classify(&err) != RequestOutcome::StatusMismatch {
                    self.conn = None;
                }
                Err(Some(err))
            }
        }
    }

    fn command(&self, templates: &[Template], key: &str, value: &str) -> Cmd {
        let mut cmd = Cmd::new();
        for template in templates {
            cmd.arg(render_kv(template, self.port, key, value));
        }
        cmd
    }

    /// Write `value` at `key` with the write workload's command.
    pub async fn write(&mut self, key: &str, value: &str) -> WriteOutcome {
        let cmd = self.command(&self.write, key, value);
        match self.send(&cmd).await {
            Ok(Value::ServerError(_)) => WriteOutcome::Failed,
            Ok(_) => WriteOutcome::Acknowledged,
            Err(None) => WriteOutcome::Failed,
            Err(Some(err)) => match classify(&err) {
                RequestOutcome::StatusMismatch => WriteOutcome::Failed,
                _ => WriteOutcome::Indeterminate,
            },
        }
    }

    /// Read `key` with the read workload's command.
    pub async fn read(&mut self, key: &str) -> ReadOutcome {
        let cmd = self.command(&self.read, key, "");
        match self.send(&cmd).await {
            Ok(reply) => read_outcome(reply),
            Err(None) => ReadOutcome::Error(format!("cannot connect to {}", self.target)),
            Err(Some(err)) => ReadOutcome::Error(err.to_string()),
        }
    }

    /// Every key that starts with `prefix`, by `SCAN … MATCH prefix*`.
    pub async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError> {
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
            let reply = self.send(&cmd).await.map_err(|err| {
                KvError::List(err.map_or_else(
                    || format!("cannot connect to {}", self.target),
                    |e| e.to_string(),
                ))
            })?;
            let (next, batch) = ::redis::from_redis_value::<(u64, Vec<Vec<u8>>)>(reply)
                .map_err(|e| KvError::List(format!("unexpected SCAN reply: {e}")))?;
            keys.extend(
                batch
                    .into_iter()
                    .map(|k| String::from_utf8_lossy(&k).into_owned()),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key more than once.
        keys.sort_unstable();
        keys.dedup();
        Ok(Some(keys))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! PostgreSQL workloads: one prepared statement per request, through
//! `tokio-postgres`.
//!
//! Owns: a workload's PostgreSQL target (connection settings, statement, parameter
//! templates), one client per worker (its connection task spawned on the worker's
//! runtime, the statement prepared once per connection), parameters sent in text
//! format so the server converts them to whatever type the statement needs, and
//! the mapping of errors to a [`RequestOutcome`], as its [`Workload`]. Does not own: timing, timeouts or
//! recording (the worker loop), nor integrity reads and writes
//! (`integrity::postgres_kv`, which reuses [`connect`], [`TextParam`],
//! [`classify`] and [`keeps_connection`]).
//!
//! Outcomes: the statement ran (any number of rows) → `ok`; the server answered
//! with an error (constraint, syntax, a failed prepare) → `status_mismatch`; a
//! failed connect (refused, authentication) → `connect_error`; a connection closed
//! or broken mid request → `io_error`. Bytes are not counted (the driver does not
//! expose them): intervals record 0.

use std::error::Error as _;
use std::str::FromStr;

use bytes::BytesMut;
use rand::rngs::SmallRng;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::recorder::RequestOutcome;
use super::request::{Placeholders, RequestBuildError, render_arg};
use super::workload::{Refused, Sent, Workload};
use crate::plan::Template;

/// A PostgreSQL workload bound to a port.
#[derive(Debug)]
pub struct PostgresTarget {
    config: Config,
    statement: String,
    params: Vec<Template>,
    port: u16,
    placeholders: Placeholders,
}

/// A worker's connection and its prepared statement.
#[derive(Debug)]
pub struct PostgresConn {
    client: Client,
    prepared: Option<Statement>,
}

impl PostgresTarget {
    /// Parse the connection settings with `{port}` filled in.
    pub fn new(
        workload: &str,
        config: &Template,
        statement: &str,
        params: &[Template],
        keys: u64,
        port: u16,
    ) -> Result<Self, RequestBuildError> {
        Ok(PostgresTarget {
            config: config_for(workload, config, port)?,
            statement: statement.to_string(),
            params: params.to_vec(),
            port,
            placeholders: Placeholders::new(keys),
        })
    }
}

impl Workload for PostgresTarget {
    type Conn = PostgresConn;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<PostgresConn, Refused<tokio_postgres::Error>> {
        match connect(&self.config).await {
            Ok(client) => Ok(PostgresConn {
                client,
                prepared: None,
            }),
            Err(error) => Err(Refused {
                outcome: RequestOutcome::ConnectError,
                error,
            }),
        }
    }

    /// A broken connection shows on the next statement (and is dropped then).
    fn usable(_conn: &mut PostgresConn) -> bool {
        true
    }

    /// Run the statement once, preparing it first on a fresh connection.
    async fn send(
        &self,
        conn: &mut PostgresConn,
        rng: &mut SmallRng,
        scratch: &mut Vec<u8>,
    ) -> Sent {
        let statement = match &conn.prepared {
            Some(statement) => statement.clone(),
            None => match conn.client.prepare(&self.statement).await {
                Ok(statement) => conn.prepared.insert(statement).clone(),
                Err(err) => return failed(&err),
            },
        };
        let fill = self.placeholders.next(rng);
        let mut values = Vec::with_capacity(self.params.len());
        for param in &self.params {
            scratch.clear();
            render_arg(scratch, param, self.port, fill);
            values.push(TextParam(String::from_utf8_lossy(scratch).into_owned()));
        }
        let refs: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        match conn.client.execute(&statement, &refs).await {
            Ok(_rows) => Sent {
                keep: true,
                ..Sent::failed(RequestOutcome::Ok)
            },
            Err(err) => failed(&err),
        }
    }

    fn start_seq_at(&self, seq: u64) {
        self.placeholders.start_seq_at(seq);
    }
}

/// A failed statement; a connection that is no longer usable is not kept.
fn failed(err: &tokio_postgres::Error) -> Sent {
    Sent {
        keep: keeps_connection(err),
        ..Sent::failed(classify(err))
    }
}

/// The connection settings of `config` rendered with `port`.
pub(crate) fn config_for(
    workload: &str,
    config: &Template,
    port: u16,
) -> Result<Config, RequestBuildError> {
    Config::from_str(&config.render_with_port(port)).map_err(|e| RequestBuildError::Invalid {
        workload: workload.to_string(),
        what: "postgres connection string".to_string(),
        reason: e.to_string(),
    })
}

/// Connect and spawn the connection's task on the current runtime; it ends when
/// the client is dropped or the connection breaks.
pub(crate) async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        // Its error shows on the client's next call (the connection is closed).
        let _ = connection.await;
    });
    Ok(client)
}

/// How a statement on an open connection failed: a database error is
/// `status_mismatch` (the connection stays usable); an I/O timeout is `timeout`; a
/// closed or broken connection is `io_error`; anything else the client refused
/// before sending (a parameter count that does not match the statement) is
/// `status_mismatch`.
pub(crate) fn classify(err: &tokio_postgres::Error) -> RequestOutcome {
    if err.as_db_error().is_some() {
        return RequestOutcome::StatusMismatch;
    }
    if err.is_closed() {
        return RequestOutcome::IoError;
    }
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::TimedOut => RequestOutcome::Timeout,
                _ => RequestOutcome::IoError,
            };
        }
        source = cause.source();
    }
    RequestOutcome::StatusMismatch
}

/// Whether the connection is still usable after `err`: a database error of
/// severity ERROR is (the session goes on); FATAL or PANIC (e.g. the server shutting
/// down) and every non-database error are not.
pub(crate) fn keeps_connection(err: &tokio_postgres::Error) -> bool {
    err.as_db_error()
        .is_some_and(|db| !matches!(db.severity(), "FATAL" | "PANIC"))
}

/// A parameter sent in text format: the server parses it as the type the
/// statement gives the parameter (text, integer, timestamp, …), as `psql` would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextParam(pub String);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_params_go_as_text_for_any_type() {
        let param = TextParam("42".into());
        let mut out = BytesMut::new();
        let written = param.to_sql_checked(&Type::INT8, &mut out);
        assert!(matches!(written, Ok(IsNull::No)));
        assert_eq!(&out[..], b"42");
        assert!(matches!(param.encode_format(&Type::INT8), Format::Text));
    }

    #[test]
    fn a_bad_connection_string_is_a_build_error() {
        let bad = Template::literal("host=127.0.0.1 nonsense=1");
        let err = config_for("w", &bad, 1).expect_err("must fail");
        assert!(
            err.to_string().contains("postgres connection string"),
            "{err}"
        );
        let good = Template {
            segments: vec![
                crate::plan::Segment::Literal("host=127.0.0.1 user=postgres port=".into()),
                crate::plan::Segment::Port,
            ],
        };
        let config = config_for("w", &good, 5433).expect("valid");
        assert_eq!(config.get_ports(), &[5433]);
    }
}

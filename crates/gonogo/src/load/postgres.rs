//! PostgreSQL workloads: one prepared statement per request, through
//! `tokio-postgres`.
//!
//! Owns: a workload's PostgreSQL target (connection settings, statement, parameter
//! templates), one client per worker (its connection task spawned on the worker's
//! runtime, the statement prepared once per connection), parameters sent in text
//! format so the server converts them to whatever type the statement needs, and
//! the mapping of errors to a [`RequestOutcome`], as its [`Workload`]; and
//! integrity's writes, reads and listings of given keys, as its [`KeyValue`]. Does
//! not own: timing, timeouts or recording (the callers'), nor integrity's keys and
//! ledger (`integrity`).
//!
//! Outcomes: the statement ran (any number of rows) → `ok`; the server answered
//! with an error (constraint, syntax, a failed prepare) → `status_mismatch`; a
//! failed connect (refused, authentication) → `connect_error`; a connection closed
//! or broken mid request → `io_error`. Bytes are not counted (the driver does not
//! expose them): intervals record 0.
//!
//! As a [`KeyValue`]: a write statement that completed is acknowledged (in
//! autocommit, its completion is its commit); a database error of severity ERROR
//! (the statement was rolled back) is failed; a connection lost after sending, or
//! a FATAL error that ends the session, is indeterminate. A read's first row's
//! first column is found (its bytes as the server sends them: text for text
//! columns; cast other types with `::text`); no row, or NULL, is missing. The
//! lister runs the read (or write) workload's `list` statement with the prefix as
//! `$1` (keys in its first column); without one there is no listing. A closed
//! client is not used for a key-value operation (the next one connects afresh).

use std::error::Error as _;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use rand::rngs::SmallRng;
use tokio_postgres::types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use super::recorder::RequestOutcome;
use super::request::{KvFill, Placeholders, RequestBuildError, render_arg, render_kv_text};
use super::workload::{
    Answer, KeyValue, Listed, PhaseWorkloads, ReadOutcome, Refused, Sent, Workload,
    lists_by_itself, other_protocol,
};
use crate::model::WriteOutcome;
use crate::plan::{Protocol, Segment, Template, WorkloadPlan};

/// Numbers the targets, so a connection knows whose statement it prepared.
static NEXT_TARGET: AtomicU64 = AtomicU64::new(0);

/// A PostgreSQL workload bound to a port.
#[derive(Debug)]
pub struct PostgresTarget {
    /// Which target this is (see [`PostgresConn`]'s prepared statement).
    id: u64,
    config: Config,
    statement: String,
    params: Vec<Template>,
    port: u16,
    placeholders: Placeholders,
}

/// A worker's connection and its prepared statement, with the id of the target
/// that prepared it (an integrity session runs several targets' statements).
#[derive(Debug)]
pub struct PostgresConn {
    client: Client,
    prepared: Option<(u64, Statement)>,
}

impl PostgresConn {
    /// A connection over `client`, nothing prepared yet: how the fuzz target
    /// (`crate::fuzzing`) runs the workload over a scripted connection.
    pub(crate) fn for_fuzzing(client: Client) -> PostgresConn {
        PostgresConn {
            client,
            prepared: None,
        }
    }
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
            id: NEXT_TARGET.fetch_add(1, Ordering::Relaxed),
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
        let statement = match self.prepared(conn).await {
            Ok(statement) => statement,
            Err(err) => return failed(&err),
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

impl PostgresTarget {
    /// This target's statement on `conn`, prepared once per connection.
    async fn prepared(&self, conn: &mut PostgresConn) -> Result<Statement, tokio_postgres::Error> {
        match &conn.prepared {
            Some((id, statement)) if *id == self.id => Ok(statement.clone()),
            _ => {
                let statement = conn.client.prepare(&self.statement).await?;
                conn.prepared = Some((self.id, statement.clone()));
                Ok(statement)
            }
        }
    }

    /// Run the statement for `key` and `value`.
    async fn query_kv(
        &self,
        conn: &mut PostgresConn,
        key: &str,
        value: &str,
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepared(conn).await?;
        let fill = KvFill {
            key,
            value,
            numbers: None,
        };
        let render = |param| TextParam(render_kv_text(param, self.port, fill));
        let values: Vec<TextParam> = self.params.iter().map(render).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        conn.client.query(&statement, &refs).await
    }
}

impl KeyValue for PostgresTarget {
    const CONNECTS_AT_SETUP: bool = true;

    async fn build(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        let Protocol::Postgres {
            config,
            statement,
            params,
            ..
        } = &workload.protocol
        else {
            return Err(other_protocol(workload, "postgres"));
        };
        PostgresTarget::new(
            &workload.name,
            config,
            statement,
            params,
            workload.keys,
            port,
        )
    }

    /// The read workload's `list` statement, else the write workload's.
    async fn lister(
        workloads: PhaseWorkloads<'_>,
        port: u16,
    ) -> Result<Option<Self>, RequestBuildError> {
        lists_by_itself(workloads)?;
        let PhaseWorkloads { write, read, .. } = workloads;
        let list_of = |w: &WorkloadPlan| match &w.protocol {
            Protocol::Postgres { list, .. } => list.clone(),
            _ => None,
        };
        let (Some(sql), Protocol::Postgres { config, .. }) =
            (list_of(read).or_else(|| list_of(write)), &read.protocol)
        else {
            return Ok(None);
        };
        // The statement's only parameter is the prefix, given as the key.
        let prefix = Template {
            segments: vec![Segment::Key],
        };
        PostgresTarget::new(&read.name, config, &sql, &[prefix], read.keys, port).map(Some)
    }

    fn server(&self) -> String {
        target_of(&self.config)
    }

    fn kv_usable(conn: &mut PostgresConn) -> bool {
        !conn.client.is_closed()
    }

    async fn write(&self, conn: &mut PostgresConn, key: &str, value: &str) -> Answer<WriteOutcome> {
        let Err(err) = self.query_kv(conn, key, value).await else {
            return Answer::kept(WriteOutcome::Acknowledged);
        };
        // A FATAL error (the server shutting down mid-statement) ends the session;
        // whether the commit got through first is not known.
        let fatal = err.as_db_error().is_some() && !keeps_connection(&err);
        let outcome = match classify(&err) {
            RequestOutcome::StatusMismatch if !fatal => WriteOutcome::Failed,
            _ => WriteOutcome::Indeterminate,
        };
        kv_failed(&err, outcome)
    }

    async fn read(&self, conn: &mut PostgresConn, key: &str) -> Answer<ReadOutcome> {
        let rows = match self.query_kv(conn, key, "").await {
            Ok(rows) => rows,
            Err(err) => return kv_failed(&err, ReadOutcome::Error(err.to_string())),
        };
        Answer::kept(match rows.first().map(|row| row.try_get::<_, Raw>(0)) {
            None | Some(Ok(Raw(None))) => ReadOutcome::Missing,
            Some(Ok(Raw(Some(bytes)))) => ReadOutcome::Found(bytes),
            Some(Err(err)) => ReadOutcome::Error(format!(
                "the read statement returned no readable first column: {err}"
            )),
        })
    }

    async fn list(&self, conn: &mut PostgresConn, prefix: &str) -> Answer<Listed> {
        let rows = match self.query_kv(conn, prefix, "").await {
            Ok(rows) => rows,
            Err(err) => return kv_failed(&err, Err(err.to_string())),
        };
        let keys = rows
            .iter()
            .filter_map(|row| match row.try_get::<_, Raw>(0) {
                Ok(Raw(Some(bytes))) => Some(Ok(String::from_utf8_lossy(&bytes).into_owned())),
                Ok(Raw(None)) => None,
                Err(err) => Some(Err(format!(
                    "the list statement returned no readable first column: {err}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>();
        Answer::kept(keys.map(Some))
    }
}

/// `outcome` of a key-value statement that failed; the connection kept as after a
/// load request.
fn kv_failed<T>(err: &tokio_postgres::Error, outcome: T) -> Answer<T> {
    Answer {
        outcome,
        keep: keeps_connection(err),
    }
}

/// `host:port` of the first host in `config`, for messages.
fn target_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "?".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// A column's bytes as the server sent them, whatever its type; `None` for NULL.
struct Raw(Option<Vec<u8>>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw.to_vec())))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
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
fn config_for(workload: &str, config: &Template, port: u16) -> Result<Config, RequestBuildError> {
    Config::from_str(&config.render_with_port(port)).map_err(|e| RequestBuildError::Invalid {
        workload: workload.to_string(),
        what: "postgres connection string".to_string(),
        reason: e.to_string(),
    })
}

/// Connect and spawn the connection's task on the current runtime; it ends when
/// the client is dropped or the connection breaks.
async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
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
fn classify(err: &tokio_postgres::Error) -> RequestOutcome {
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
fn keeps_connection(err: &tokio_postgres::Error) -> bool {
    err.as_db_error()
        .is_some_and(|db| !matches!(db.severity(), "FATAL" | "PANIC"))
}

/// A parameter sent in text format: the server parses it as the type the
/// statement gives the parameter (text, integer, timestamp, …), as `psql` would.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TextParam(pub String);

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
    fn raw_columns_keep_their_bytes_and_null() {
        let value = Raw::from_sql(&Type::TEXT, b"v-1").map(|r| r.0);
        assert_eq!(value.ok().flatten(), Some(b"v-1".to_vec()));
        let null = Raw::from_sql_null(&Type::TEXT).map(|r| r.0);
        assert!(matches!(null, Ok(None)));
        assert!(Raw::accepts(&Type::INT8));
    }

    #[test]
    fn targets_name_host_and_port() {
        let config: Config = "host=127.0.0.1 port=5433 user=postgres"
            .parse()
            .expect("valid");
        assert_eq!(target_of(&config), "127.0.0.1:5433");
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

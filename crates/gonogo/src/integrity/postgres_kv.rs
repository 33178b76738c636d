//! The integrity client for PostgreSQL: writes, reads and (optionally) lists keys
//! with the statements of the phase's write and read workloads.
//!
//! Owns: [`PostgresKv`], keeping the contract in [`super::kv`]. Does not own: the
//! ledger, scheduling or timeouts (the caller's), nor the load driver's PostgreSQL
//! path (`load::postgres`, whose connect, text parameters and error classification
//! it reuses).
//!
//! Outcomes: a write statement that completed is acknowledged (in autocommit, its
//! completion is its commit); a database error (severity ERROR: the statement was
//! rolled back), or a connection that could not be made before sending, is failed;
//! a connection lost after sending, or a FATAL error that ends the session, is
//! indeterminate. A read's first row's first column is found (its bytes as the
//! server sends them: text for text columns; cast other types with `::text`); no
//! row, or NULL, is missing. `list` runs the workload's `list` statement with the
//! prefix as `$1` (keys in its first column), and is `Ok(None)` without one.

use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Config, Statement};

use super::kv::{KvError, ReadOutcome};
use super::render::render_kv;
use crate::load::RequestOutcome;
use crate::load::postgres::{TextParam, classify, config_for, connect, keeps_connection};
use crate::model::WriteOutcome;
use crate::plan::{Protocol, Template, WorkloadPlan};

/// One statement and its parameter templates, prepared per connection.
#[derive(Debug)]
struct Query {
    sql: String,
    params: Vec<Template>,
    prepared: Option<Statement>,
}

impl Query {
    fn new(sql: &str, params: &[Template]) -> Self {
        Query {
            sql: sql.to_string(),
            params: params.to_vec(),
            prepared: None,
        }
    }
}

/// A PostgreSQL key-value client for an integrity phase.
#[derive(Debug)]
pub struct PostgresKv {
    config: Config,
    client: Option<Client>,
    write: Query,
    read: Query,
    list: Option<Query>,
    port: u16,
}

/// Why a statement did not run: no connection (nothing sent), or the driver's error.
enum Failure {
    NotSent(String),
    Driver(tokio_postgres::Error),
}

/// The PostgreSQL side of a workload.
struct Parts<'a> {
    config: &'a Template,
    statement: &'a str,
    params: &'a [Template],
    list: Option<&'a str>,
}

/// The parts of a PostgreSQL workload, or why it is not one.
fn postgres_parts(workload: &WorkloadPlan) -> Result<Parts<'_>, KvError> {
    match &workload.protocol {
        Protocol::Postgres {
            config,
            statement,
            params,
            list,
        } => Ok(Parts {
            config,
            statement,
            params,
            list: list.as_deref(),
        }),
        other => Err(KvError::Setup {
            workload: workload.name.clone(),
            reason: format!(
                "speaks {}, but the other integrity workload speaks postgres; use one protocol for both",
                other.as_str()
            ),
        }),
    }
}

impl PostgresKv {
    /// Connect with the write workload's connection string (`port` for `{port}`).
    /// The read workload must be a PostgreSQL workload with the same one.
    pub async fn connect(
        write: &WorkloadPlan,
        read: &WorkloadPlan,
        port: u16,
    ) -> Result<Self, KvError> {
        let writes = postgres_parts(write)?;
        let reads = postgres_parts(read)?;
        let config = writes.config;
        if reads.config.render_with_port(port) != config.render_with_port(port) {
            return Err(KvError::Setup {
                workload: read.name.clone(),
                reason: "reads with another connection string than the writes".to_string(),
            });
        }
        let config = config_for(&write.name, config, port).map_err(|e| KvError::Setup {
            workload: write.name.clone(),
            reason: e.to_string(),
        })?;
        let client = connect(&config).await.map_err(|e| KvError::Connect {
            target: target_of(&config),
            reason: e.to_string(),
        })?;
        Ok(PostgresKv {
            config,
            client: Some(client),
            write: Query::new(writes.statement, writes.params),
            read: Query::new(reads.statement, reads.params),
            list: reads.list.or(writes.list).map(|sql| Query::new(sql, &[])),
            port,
        })
    }

    /// Run the write, read or list statement for `key` (the prefix, for a list)
    /// and `value`; reconnects and re-prepares as needed.
    async fn run(
        &mut self,
        which: Which,
        key: &str,
        value: &str,
    ) -> Result<Vec<tokio_postgres::Row>, Failure> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            let fresh = connect(&self.config)
                .await
                .map_err(|e| Failure::NotSent(e.to_string()))?;
            self.client = Some(fresh);
            self.write.prepared = None;
            self.read.prepared = None;
            if let Some(list) = &mut self.list {
                list.prepared = None;
            }
        }
        let port = self.port;
        let query = match which {
            Which::Write => &mut self.write,
            Which::Read => &mut self.read,
            Which::List => match &mut self.list {
                Some(list) => list,
                None => return Ok(Vec::new()),
            },
        };
        let Some(client) = self.client.as_ref() else {
            return Err(Failure::NotSent("no connection".to_string()));
        };
        let result = run_query(client, query, which, port, key, value).await;
        if let Err(Failure::Driver(err)) = &result
            && !keeps_connection(err)
        {
            self.client = None;
        }
        result
    }

    /// Write `value` at `key` with the write workload's statement.
    pub async fn write(&mut self, key: &str, value: &str) -> WriteOutcome {
        match self.run(Which::Write, key, value).await {
            Ok(_) => WriteOutcome::Acknowledged,
            Err(Failure::NotSent(_)) => WriteOutcome::Failed,
            Err(Failure::Driver(err)) => {
                // A FATAL error (the server shutting down mid-statement) ends the
                // session; whether the commit got through first is not known.
                let fatal = err.as_db_error().is_some() && !keeps_connection(&err);
                match classify(&err) {
                    RequestOutcome::StatusMismatch if !fatal => WriteOutcome::Failed,
                    _ => WriteOutcome::Indeterminate,
                }
            }
        }
    }

    /// Read `key` with the read workload's statement.
    pub async fn read(&mut self, key: &str) -> ReadOutcome {
        match self.run(Which::Read, key, "").await {
            Ok(rows) => match rows.first().map(|row| row.try_get::<_, Raw>(0)) {
                None => ReadOutcome::Missing,
                Some(Ok(Raw(Some(bytes)))) => ReadOutcome::Found(bytes),
                Some(Ok(Raw(None))) => ReadOutcome::Missing,
                Some(Err(err)) => ReadOutcome::Error(format!(
                    "the read statement returned no readable first column: {err}"
                )),
            },
            Err(Failure::NotSent(reason)) => ReadOutcome::Error(reason),
            Err(Failure::Driver(err)) => ReadOutcome::Error(err.to_string()),
        }
    }

    /// Keys starting with `prefix`, by the workload's `list` statement; `Ok(None)`
    /// when neither workload has one.
    pub async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError> {
        if self.list.is_none() {
            return Ok(None);
        }
        let rows = self.run(Which::List, prefix, "").await.map_err(|failure| {
            KvError::List(match failure {
                Failure::NotSent(reason) => reason,
                Failure::Driver(err) => err.to_string(),
            })
        })?;
        rows.iter()
            .filter_map(|row| match row.try_get::<_, Raw>(0) {
                Ok(Raw(Some(bytes))) => Some(Ok(String::from_utf8_lossy(&bytes).into_owned())),
                Ok(Raw(None)) => None,
                Err(err) => Some(Err(KvError::List(format!(
                    "the list statement returned no readable first column: {err}"
                )))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Write,
    Read,
    List,
}

/// Prepare `query` when needed and run it on `client`. A list query's only
/// parameter is `key` (the prefix); the others render their templates.
async fn run_query(
    client: &Client,
    query: &mut Query,
    which: Which,
    port: u16,
    key: &str,
    value: &str,
) -> Result<Vec<tokio_postgres::Row>, Failure> {
    let statement = match &query.prepared {
        Some(statement) => statement.clone(),
        None => {
            let prepared = client.prepare(&query.sql).await.map_err(Failure::Driver)?;
            query.prepared.insert(prepared).clone()
        }
    };
    let values: Vec<TextParam> = if which == Which::List {
        vec![TextParam(key.to_string())]
    } else {
        query
            .params
            .iter()
            .map(|param| TextParam(render_kv(param, port, key, value)))
            .collect()
    };
    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    client
        .query(&statement, &refs)
        .await
        .map_err(Failure::Driver)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

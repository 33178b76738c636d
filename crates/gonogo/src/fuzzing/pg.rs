//! The `pg_backend` fuzz target's session: a PostgreSQL server's messages read by
//! `tokio-postgres` (its codec, startup, prepare, row and error decoding) and
//! handled by gonogo's PostgreSQL workload: a load request, an integrity write, read
//! and listing. The target also parses the same bytes message by message with
//! `postgres-protocol` itself (in `fuzz/`).
//!
//! Owns: the session script. The input is the server's side (see [`super::wire`]):
//! startup answers (authentication, parameters, `ReadyForQuery`), then each
//! statement's prepare and execute answers, in order.

use std::str::FromStr;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio_postgres::{Config, NoTls};

use super::wire::{Wire, reap, run_session, segments};
use crate::load::postgres::PostgresConn;
use crate::load::{KeyValue, PostgresTarget, Workload};
use crate::plan::{Segment, Template};

/// Without a password: a server asking for one ends the session at startup (a
/// SCRAM exchange would run the server's iteration count, which only measures
/// the hash).
const CONFIG: &str = "host=127.0.0.1 port=5432 user=fuzz dbname=fuzz";

/// Replay `data` as a PostgreSQL server's messages to one session of gonogo's.
pub fn pg_session(data: &[u8]) {
    std::hint::black_box(pg_outcomes(data));
}

/// What each operation of the session came to, in order, until one dropped the
/// connection (empty when the startup failed).
pub(crate) fn pg_outcomes(data: &[u8]) -> Vec<String> {
    run_session(&segments(data), session).unwrap_or_default()
}

/// The workloads a run would have: a read (and load) statement, a write and a
/// listing; built once (each parses the connection settings).
struct Targets {
    read: PostgresTarget,
    write: PostgresTarget,
    list: PostgresTarget,
}

fn targets() -> Option<&'static Targets> {
    static TARGETS: OnceLock<Option<Targets>> = OnceLock::new();
    TARGETS.get_or_init(build_targets).as_ref()
}

fn build_targets() -> Option<Targets> {
    let key = Template {
        segments: vec![Segment::Key],
    };
    let value = Template {
        segments: vec![Segment::Value],
    };
    let config = Template::literal(CONFIG);
    let target = |statement: &str, params: &[Template]| {
        PostgresTarget::new("fuzz", &config, statement, params, 16, 5432).ok()
    };
    Some(Targets {
        read: target("SELECT v FROM kv WHERE k = $1", std::slice::from_ref(&key))?,
        write: target("INSERT INTO kv VALUES ($1, $2)", &[key.clone(), value])?,
        list: target("SELECT k FROM kv WHERE k LIKE $1 || '%'", &[key])?,
    })
}

async fn session(wire: Wire) -> Option<Vec<String>> {
    let Targets {
        read: target,
        write: writer,
        list: lister,
    } = targets()?;
    let (client, connection) = Config::from_str(CONFIG)
        .ok()?
        .connect_raw(wire, NoTls)
        .await
        .ok()?;
    let connection = tokio::spawn(connection);
    let mut conn = PostgresConn::for_fuzzing(client);
    let mut rng = SmallRng::seed_from_u64(0);
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    let ops = async {
        let sent = target.send(&mut conn, &mut rng, &mut scratch).await;
        out.push(format!("{:?}", sent.outcome));
        sent.keep.then_some(())?;
        let written = writer.write(&mut conn, "fuzz-1", "v-1").await;
        out.push(format!("{:?}", written.outcome));
        written.keep.then_some(())?;
        let read = target.read(&mut conn, "fuzz-1").await;
        out.push(format!("{:?}", read.outcome));
        read.keep.then_some(())?;
        let listed = lister.list(&mut conn, "fuzz-").await;
        out.push(format!("{:?}", listed.outcome));
        Some(())
    };
    let _ = ops.await;
    drop(conn);
    reap(connection).await;
    Some(out)
}

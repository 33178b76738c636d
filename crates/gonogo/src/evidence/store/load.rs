//! Queries that read evidence back: a whole run, the list of runs, evaluations.
//!
//! Owns: the read side of the store's SQL and the mapping of rows to model types.
//! Does not own: writes (the parent `store` module) or the column encodings (`codec`).
//!
//! A value that cannot be converted back (a negative duration, an unknown status,
//! broken JSON, a damaged histogram) gives [`StoreError::Corrupt`], never a panic.

use std::time::Duration;

use rusqlite::types::{Type, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::de::DeserializeOwned;

use super::reap::seen_at_read;
use super::{StoreError, StoredEvaluation};
use crate::model::codec::from_micros;
use crate::model::{
    Artifact, Decision, Event, GeneratorHealth, IntervalHistogram, IntervalRecord, IntervalStats,
    NotSent, OutcomeCounts, PhaseRecord, ResourceSample, RunEvidence, RunId, RunManifest,
    RunStatus, RunSummary, SchedEvidence,
};

/// Everything stored about `run`, read inside one transaction so a run being
/// recorded by another process is seen at one instant.
pub fn load_run(conn: &Connection, path: &str, run: RunId) -> Result<RunEvidence, StoreError> {
    let tx = conn
        .unchecked_transaction()
        .map_err(read_error(path, format!("run {run}")))?;
    let (manifest, status, ended_at_ms) = load_manifest(&tx, path, run)?;
    let evidence = RunEvidence {
        id: run,
        manifest,
        status,
        ended_at_ms,
        phases: load_phases(&tx, path, run)?,
        intervals: load_intervals(&tx, path, run)?,
        samples: load_samples(&tx, path, run)?,
        events: load_events(&tx, path, run)?,
        artifacts: load_artifacts(&tx, path, run)?,
        integrity: super::integrity::load(&tx, path, run)?,
        bad_input: super::bad_input::load(&tx, path, run)?,
    };
    tx.finish()
        .map_err(read_error(path, format!("run {run}")))?;
    Ok(evidence)
}

fn load_manifest(
    conn: &Connection,
    path: &str,
    run: RunId,
) -> Result<(RunManifest, RunStatus, Option<i64>), StoreError> {
    let (manifest, status, pid, ended_at_ms) = conn
        .query_row(
            "SELECT name, started_at_ms, tool_version, spec_path, spec_text, spec_hash, host_json,
                git_commit, status, pid, ended_at_ms
         FROM runs WHERE id = ?1",
            [run],
            |row| {
                let manifest = RunManifest {
                    name: row.get(0)?,
                    started_at_ms: row.get(1)?,
                    tool_version: row.get(2)?,
                    spec_path: row.get(3)?,
                    spec_text: row.get(4)?,
                    spec_hash: row.get(5)?,
                    host: json_at(row, 6)?,
                    git_commit: row.get(7)?,
                };
                Ok((manifest, status_at(row, 8)?, row.get(9)?, row.get(10)?))
            },
        )
        .optional()
        .map_err(read_error(path, format!("manifest of run {run}")))?
        .ok_or_else(|| StoreError::RunNotFound(run, path.to_string()))?;
    let (status, ended_at_ms) = seen_at_read(conn, path, run, status, pid, ended_at_ms)?;
    Ok((manifest, status, ended_at_ms))
}

fn load_phases(conn: &Connection, path: &str, run: RunId) -> Result<Vec<PhaseRecord>, StoreError> {
    run_rows(
        conn,
        path,
        run,
        "phases",
        "SELECT name, kind, model, planned_rate, connections, warmup_us, planned_duration_us,
                started_us, ended_us, parent, size
         FROM phases WHERE run_id = ?1 ORDER BY started_us, id",
        |row| {
            Ok(PhaseRecord {
                name: row.get(0)?,
                kind: row.get(1)?,
                model: row.get(2)?,
                planned_rate: row.get(3)?,
                connections: row.get(4)?,
                warmup: duration_at(row, 5)?,
                planned_duration: duration_at(row, 6)?,
                started: duration_at(row, 7)?,
                ended: optional_at(row, 8, duration_at)?,
                parent: row.get(9)?,
                size: row.get(10)?,
            })
        },
    )
}

/// An interval row with its histograms still encoded.
struct RawInterval {
    record: IntervalRecord,
    /// response, service, lag, gen_delay.
    blobs: [Vec<u8>; 4],
    /// The generator health's hiccup histogram and scheduling JSON, when stored.
    health: Option<(Vec<u8>, String)>,
}

/// The run's intervals with their histograms kept as the stored bytes
/// ([`IntervalHistogram::stored`]): checked here, decoded only while they are read,
/// so a long run loads in bounded memory.
fn load_intervals(
    conn: &Connection,
    path: &str,
    run: RunId,
) -> Result<Vec<IntervalRecord>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT p.name, i.workload, i.idx, i.start_us, i.length_us, i.warmup,
                i.generator_cpu_seconds, i.ok, i.status_mismatch, i.connect_error, i.timeout,
                i.io_error, i.planned, i.cap_waits, i.bytes_sent, i.bytes_received,
                i.response_hist, i.service_hist, i.lag_hist, i.gen_delay_hist, i.sent,
                i.peak_in_flight, i.connections, i.not_sent_waiting, i.not_sent_busy,
                i.not_sent_stopped, i.hiccup_hist, i.generator_sched
         FROM intervals i JOIN phases p ON p.id = i.phase_id
         WHERE i.run_id = ?1
         ORDER BY p.started_us, p.id, i.workload, i.idx",
        )
        .map_err(read_error(path, format!("intervals of run {run}")))?;
    let rows = statement
        .query_map(params![run], raw_interval)
        .map_err(read_error(path, format!("intervals of run {run}")))?;
    // One row at a time: each row's blobs become its histograms before the next is read.
    rows.map(|raw| {
        raw.map_err(read_error(path, format!("intervals of run {run}")))
            .and_then(|raw| decode_interval(path, run, raw))
    })
    .collect()
}

/// The three `not_sent_*` columns from `first` on; `None` when they are NULL (the
/// closed model, or a run stored before migration 6).
fn not_sent_at(row: &Row<'_>, first: usize) -> rusqlite::Result<Option<NotSent>> {
    let waiting: Option<u64> = row.get(first)?;
    let busy: Option<u64> = row.get(first + 1)?;
    let stopped: Option<u64> = row.get(first + 2)?;
    Ok(match (waiting, busy, stopped) {
        (Some(waiting), Some(busy), Some(stopped)) => Some(NotSent {
            waiting,
            busy,
            stopped,
        }),
        _ => None,
    })
}

fn raw_interval(row: &Row<'_>) -> rusqlite::Result<RawInterval> {
    let outcomes = OutcomeCounts {
        ok: row.get(7)?,
        status_mismatch: row.get(8)?,
        connect_error: row.get(9)?,
        timeout: row.get(10)?,
        io_error: row.get(11)?,
    };
    // Runs stored before migration 3 have no send count: their completions stand in.
    let sent: Option<u64> = row.get(20)?;
    let stats = IntervalStats {
        outcomes,
        sent: sent.unwrap_or_else(|| outcomes.total()),
        peak_in_flight: row.get::<_, Option<u64>>(21)?.unwrap_or(0),
        connections: row.get::<_, Option<u64>>(22)?.unwrap_or(0),
        planned: row.get(12)?,
        cap_waits: row.get(13)?,
        bytes_sent: row.get(14)?,
        bytes_received: row.get(15)?,
        not_sent: not_sent_at(row, 23)?,
        // Placeholders until `decode_interval`: empty stored histograms allocate no
        // counts array.
        response: IntervalHistogram::empty(),
        service: IntervalHistogram::empty(),
        lag: IntervalHistogram::empty(),
        gen_delay: IntervalHistogram::empty(),
    };
    Ok(RawInterval {
        record: IntervalRecord {
            phase: row.get(0)?,
            workload: row.get(1)?,
            index: row.get(2)?,
            start: duration_at(row, 3)?,
            length: duration_at(row, 4)?,
            warmup: row.get(5)?,
            generator_cpu_seconds: row.get(6)?,
            stats,
            health: None,
        },
        blobs: [row.get(16)?, row.get(17)?, row.get(18)?, row.get(19)?],
        health: row
            .get::<_, Option<Vec<u8>>>(26)?
            .zip(row.get::<_, Option<String>>(27)?),
    })
}

fn decode_interval(path: &str, run: RunId, raw: RawInterval) -> Result<IntervalRecord, StoreError> {
    let RawInterval {
        mut record,
        blobs,
        health,
    } = raw;
    let [response, service, lag, gen_delay] = blobs;
    let decode = |which: &str, blob: Vec<u8>| {
        IntervalHistogram::stored(blob).map_err(|source| StoreError::Corrupt {
            path: path.to_string(),
            what: format!(
                "{which} histogram of run {run}, phase {:?}, workload {:?}, interval {}",
                record.phase, record.workload, record.index
            ),
            source: Box::new(source),
        })
    };
    let (response, service, lag, gen_delay) = (
        decode("response", response)?,
        decode("service", service)?,
        decode("lag", lag)?,
        decode("gen_delay", gen_delay)?,
    );
    record.stats.response = response;
    record.stats.service = service;
    record.stats.lag = lag;
    record.stats.gen_delay = gen_delay;
    if let Some((hiccup, sched)) = health {
        let sched = serde_json::from_str::<SchedEvidence>(&sched).map_err(|source| {
            StoreError::Corrupt {
                path: path.to_string(),
                what: format!(
                    "generator health of run {run}, phase {:?}, interval {}",
                    record.phase, record.index
                ),
                source: Box::new(source),
            }
        })?;
        record.health = Some(GeneratorHealth {
            hiccup: decode("hiccup", hiccup)?,
            sched,
        });
    }
    Ok(record)
}

fn load_samples(
    conn: &Connection,
    path: &str,
    run: RunId,
) -> Result<Vec<ResourceSample>, StoreError> {
    run_rows(
        conn,
        path,
        run,
        "resource samples",
        "SELECT at_us, processes, rss_bytes, cpu_seconds, threads, open_fds, host_available_bytes
         FROM resource_samples WHERE run_id = ?1 ORDER BY at_us, id",
        |row| {
            Ok(ResourceSample {
                at: duration_at(row, 0)?,
                processes: row.get(1)?,
                rss_bytes: row.get(2)?,
                cpu_seconds: row.get(3)?,
                threads: row.get(4)?,
                open_fds: row.get(5)?,
                host_available_bytes: row.get(6)?,
            })
        },
    )
}

fn load_events(conn: &Connection, path: &str, run: RunId) -> Result<Vec<Event>, StoreError> {
    run_rows(
        conn,
        path,
        run,
        "events",
        "SELECT at_us, detail FROM events WHERE run_id = ?1 ORDER BY at_us, id",
        |row| {
            Ok(Event {
                at: duration_at(row, 0)?,
                kind: json_at(row, 1)?,
            })
        },
    )
}

fn load_artifacts(conn: &Connection, path: &str, run: RunId) -> Result<Vec<Artifact>, StoreError> {
    run_rows(
        conn,
        path,
        run,
        "artifacts",
        "SELECT name, path FROM artifacts WHERE run_id = ?1 ORDER BY id",
        |row| {
            Ok(Artifact {
                name: row.get(0)?,
                path: row.get(1)?,
            })
        },
    )
}

/// Every run, newest first, each with the decision of its latest evaluation; a run
/// whose writer is gone is shown aborted (see `reap`), without writing it.
pub fn list_runs(conn: &Connection, path: &str) -> Result<Vec<RunSummary>, StoreError> {
    let rows: Vec<(RunSummary, i64, bool)> = conn
        .prepare(
            "SELECT r.id, r.name, r.spec_path, r.started_at_ms, r.ended_at_ms, r.status,
                (SELECT e.decision FROM evaluations e WHERE e.run_id = r.id
                 ORDER BY e.created_at_ms DESC, e.id DESC LIMIT 1),
                (SELECT COUNT(*) FROM evaluations e WHERE e.run_id = r.id),
                r.pid,
                EXISTS (SELECT 1 FROM events v WHERE v.run_id = r.id
                        AND v.type IN ('interrupted', 'emergency_stop', 'failure'))
         FROM runs r ORDER BY r.started_at_ms DESC, r.id DESC",
        )
        .and_then(|mut statement| {
            statement
                .query_map([], |row| {
                    let summary = RunSummary {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        spec_path: row.get(2)?,
                        started_at_ms: row.get(3)?,
                        ended_at_ms: row.get(4)?,
                        status: status_at(row, 5)?,
                        writer_gone: false,
                        decision: optional_at(row, 6, decision_at)?,
                        judgements: row.get(7)?,
                    };
                    Ok((summary, row.get(8)?, row.get(9)?))
                })?
                .collect()
        })
        .map_err(read_error(path, "list of runs"))?;
    rows.into_iter()
        .map(|(mut run, pid, stop_recorded)| {
            (run.status, run.ended_at_ms) =
                seen_at_read(conn, path, run.id, run.status, pid, run.ended_at_ms)?;
            run.writer_gone = run.status == RunStatus::Aborted && !stop_recorded;
            Ok(run)
        })
        .collect()
}

/// The most recently started run (the first of [`list_runs`]).
pub fn latest_run_id(conn: &Connection, path: &str) -> Result<Option<RunId>, StoreError> {
    conn.query_row(
        "SELECT id FROM runs ORDER BY started_at_ms DESC, id DESC LIMIT 1",
        [],
        |row| row.get(0),
    )
    .optional()
    .map_err(read_error(path, "latest run"))
}

/// Judgement `number` (1-based, in the order they were made) of run `run`, or the
/// latest when `number` is `None`; `None` when the run has no such judgement.
pub fn evaluation(
    conn: &Connection,
    path: &str,
    run: RunId,
    number: Option<u32>,
) -> Result<Option<StoredEvaluation>, StoreError> {
    let failed = || read_error(path, format!("judgement of run {run}"));
    let tx = conn.unchecked_transaction().map_err(failed())?;
    let count = judgements(&tx, path, run)?;
    let number = number.unwrap_or(count);
    if number == 0 || number > count {
        return Ok(None);
    }
    let mut evaluation = tx
        .query_row(
            "SELECT id, created_at_ms, spec_hash, verdict FROM evaluations WHERE run_id = ?1
             ORDER BY created_at_ms, id LIMIT 1 OFFSET ?2",
            params![run, number - 1],
            |row| {
                Ok(StoredEvaluation {
                    id: row.get(0)?,
                    number,
                    of: count,
                    created_at_ms: row.get(1)?,
                    spec_hash: row.get(2)?,
                    findings: Vec::new(),
                    verdict: json_at(row, 3)?,
                })
            },
        )
        .map_err(failed())?;
    evaluation.findings = collect(
        &tx,
        "SELECT finding FROM findings WHERE evaluation_id = ?1 ORDER BY seq",
        evaluation.id,
        |row| json_at(row, 0),
    )
    .map_err(failed())?;
    tx.finish().map_err(failed())?;
    Ok(Some(evaluation))
}

/// How many judgements run `run` has.
pub fn judgements(conn: &Connection, path: &str, run: RunId) -> Result<u32, StoreError> {
    conn.query_row(
        "SELECT COUNT(*) FROM evaluations WHERE run_id = ?1",
        [run],
        |row| row.get(0),
    )
    .map_err(read_error(path, format!("judgements of run {run}")))
}

/// Every row of one of run `run`'s tables, mapped, with a failure named as `what`
/// of that run.
fn run_rows<T>(
    conn: &Connection,
    path: &str,
    run: RunId,
    what: &str,
    sql: &str,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    collect(conn, sql, run, map).map_err(read_error(path, format!("{what} of run {run}")))
}

/// Run a query with one id parameter and map every row.
fn collect<T>(
    conn: &Connection,
    sql: &str,
    id: i64,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params![id], map)?;
    rows.collect()
}

/// Map a read failure: a value that did not convert is [`StoreError::Corrupt`], any
/// other failure [`StoreError::Query`].
pub(super) fn read_error(
    path: &str,
    what: impl Into<String>,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_string();
    let what = what.into();
    move |source| match source {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt {
            path,
            what,
            source: Box::new(source),
        },
        source => StoreError::Query {
            path,
            what: format!("read the {what}"),
            source,
        },
    }
}

fn conversion_failure(
    column: usize,
    kind: Type,
    message: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, kind, message.into())
}

/// A microsecond column as a duration.
fn duration_at(row: &Row<'_>, column: usize) -> rusqlite::Result<Duration> {
    let micros: i64 = row.get(column)?;
    from_micros(micros).ok_or_else(|| {
        conversion_failure(
            column,
            Type::Integer,
            format!("negative duration of {micros} µs"),
        )
    })
}

/// A nullable column as `None`, or as what `convert` reads from it.
fn optional_at<T>(
    row: &Row<'_>,
    column: usize,
    convert: fn(&Row<'_>, usize) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    match row.get_ref(column)? {
        ValueRef::Null => Ok(None),
        _ => convert(row, column).map(Some),
    }
}

/// A JSON text column as a value.
fn json_at<T: DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|source| conversion_failure(column, Type::Text, source))
}

fn status_at(row: &Row<'_>, column: usize) -> rusqlite::Result<RunStatus> {
    let text: String = row.get(column)?;
    RunStatus::parse(&text).ok_or_else(|| {
        conversion_failure(column, Type::Text, format!("unknown run status {text:?}"))
    })
}

fn decision_at(row: &Row<'_>, column: usize) -> rusqlite::Result<Decision> {
    let text: String = row.get(column)?;
    Decision::parse(&text)
        .ok_or_else(|| conversion_failure(column, Type::Text, format!("unknown decision {text:?}")))
}

//! The evidence store: one SQLite file that holds every run, written as the run goes
//! and read back whole by evaluation and reports (DESIGN §4).
//!
//! Owns: all SQL of gonogo (no other module talks to SQLite), the connection settings
//! (WAL, `synchronous=NORMAL`, foreign keys, busy timeout), the versioned schema and
//! its migrations (`schema`), the column encodings (`codec`), the two ways of opening
//! a store (`access`: for writing, or read-only, which works on a full disk and on a
//! read-only medium), and the runs whose recording process died (`reap`). Does not
//! own: the record types (`evidence::model`), what the numbers mean (`evaluate`), nor
//! when to write (the conductor, the only writer, calls one `record_*` per record;
//! each is its own short transaction).
//!
//! Errors keep the SQLite cause as their `source`; their messages do not repeat it, so
//! print the error chain to see it.

mod access;
#[cfg(test)]
mod access_tests;
mod bad_input;
mod integrity;
mod load;
mod reap;
mod schema;
#[cfg(test)]
mod tests;

use std::error::Error as StdError;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::model::codec::{encode_histogram, micros};
use crate::model::{
    Artifact, Event, Finding, IntervalRecord, PhaseRecord, ResourceSample, RunEvidence, RunId,
    RunManifest, RunStatus, RunSummary, Verdict,
};

/// What can go wrong with the evidence store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's parent directory could not be created.
    #[error(
        "cannot create directory {path} for the evidence store; check its permissions or choose another store path"
    )]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be written where it is (read-only medium or file, or a
    /// directory that cannot hold the `-wal` and `-shm` files); why, in words.
    #[error(
        "evidence store {path} is read-only: {why}; `gonogo run` and `gonogo evaluate` write to their store (a run, a judgement), so pass --store with a path on a writable disk (a copy of this store, with its -wal and -shm files if any, will do) or make it writable; `gonogo runs` and `gonogo report` read it as it is"
    )]
    ReadOnly { path: String, why: String },
    /// SQLite could not open the file read-only, or not read it.
    #[error(
        "cannot read evidence store {path}; check that it is a gonogo evidence store (an SQLite file) that you may read, or choose another store path"
    )]
    OpenRead {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// An SQLite file without gonogo's schema.
    #[error(
        "{path} is not a gonogo evidence store (it has no schema version); pass --store with the path of a store written by `gonogo run`"
    )]
    NotAStore { path: String },
    /// A store with a write-ahead log that cannot be read where it is.
    #[error(
        "evidence store {path} has a write-ahead log ({path}-wal) that SQLite cannot read here: its -shm file is missing and the directory cannot be written; copy {path}, {path}-wal (and {path}-shm if any) to a writable directory and pass --store with the copy"
    )]
    WalUnreadable { path: String },
    /// Read-only, a store written by an older gonogo cannot be upgraded.
    #[error(
        "evidence store {path} has schema version {found}, from an older gonogo; this one reads version {known} and upgrades a store the first time it opens it writable, which it cannot do here (the store is read-only); copy it to a writable directory and pass --store with the copy, or read it with the gonogo that wrote it"
    )]
    SchemaOld {
        path: String,
        found: usize,
        known: usize,
    },
    /// A write failed because the store's disk is full.
    #[error(
        "evidence store {path}: cannot {what}: the disk that holds it is full; free space on it (what was recorded before is kept, and `gonogo runs` and `gonogo report` still read it)"
    )]
    DiskFull {
        path: String,
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    /// Another connection held the file locked for longer than the busy timeout.
    #[error(
        "evidence store {path}: cannot {what}: another program held it locked for more than {} s; find what holds it (`fuser {path}`) and try again",
        schema::BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        path: String,
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    /// SQLite could not open the file or apply the connection settings.
    #[error(
        "cannot open evidence store {path}; check that it is a writable SQLite file or choose another store path"
    )]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// A migration failed; its transaction was rolled back.
    #[error(
        "cannot migrate evidence store {path} to schema version {version} (the file was left unchanged); check that it is writable and its disk has space"
    )]
    Migrate {
        path: String,
        version: usize,
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer gonogo with a schema this build does not know.
    #[error(
        "evidence store {path} has schema version {found}, this gonogo knows up to {known}; upgrade gonogo"
    )]
    SchemaTooNew {
        path: String,
        found: usize,
        known: usize,
    },
    /// A statement failed (disk full, lock held too long, I/O error).
    #[error(
        "evidence store {path}: cannot {what}; check that its disk has space and no other program holds the file locked"
    )]
    Query {
        path: String,
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    /// A stored value could not be converted back to its model type.
    #[error(
        "evidence store {path}: the stored {what} is corrupt and cannot be read; re-run the campaign to get this evidence again"
    )]
    Corrupt {
        path: String,
        what: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A value could not be serialized for storage.
    #[error(
        "cannot encode {what} for evidence store {path}; this is a bug in gonogo, please report it"
    )]
    Encode {
        path: String,
        what: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// No run has this id (the run id, then the store's path).
    #[error("no run with id {0} in {1}; list runs with 'gonogo runs'")]
    RunNotFound(RunId, String),
    /// A phase end or interval named a phase that was never recorded as started.
    #[error(
        "run {run} in {path} has no phase named {phase:?}; record a phase as started before its intervals or its end"
    )]
    PhaseNotFound {
        path: String,
        run: RunId,
        phase: String,
    },
}

/// A handle on one evidence store file (or an in-memory store, for tests).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The path as shown in messages (`:memory:` for an in-memory store).
    path: String,
    /// Opened by [`Store::open_read_only`]: every write is refused.
    read_only: bool,
}

/// One stored evaluation of a run: the findings and the verdict drawn from them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvaluation {
    pub id: i64,
    /// Its place among the run's judgements (1-based, oldest first), and their count.
    pub number: u32,
    pub of: u32,
    /// Wall-clock time of the evaluation, ms since the Unix epoch.
    pub created_at_ms: i64,
    /// Hash of the spec the run was judged against (not necessarily the run's own).
    pub spec_hash: String,
    /// In the order they were recorded.
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

impl Store {
    /// Open the store at `path` for writing, creating and migrating it; marks runs
    /// left `running` by a process that no longer exists as `aborted` (best effort:
    /// they are shown aborted when read in any case). A store that cannot be written
    /// where it is gives [`StoreError::ReadOnly`] before SQLite touches it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_for_upgrade(path)?;
        // A failure leaves the runs `running`; every read shows them aborted anyway.
        let _ = reap::reap_stale_runs(&store.conn, &store.path);
        Ok(store)
    }

    /// Open the store at `path` for writing and bring its schema up to date, without
    /// touching its runs: what a reading command does once to a store written by an
    /// older gonogo before it reads it read-only.
    pub fn open_for_upgrade(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        access::check_writable(path, &shown)?;
        access::retry_while_busy(|| {
            let mut conn = Connection::open(path).map_err(|source| StoreError::Open {
                path: shown.clone(),
                source,
            })?;
            schema::configure(&conn, &shown)?;
            schema::migrate(&mut conn, &shown)?;
            Ok(conn)
        })
        .map(|conn| Store {
            conn,
            path: shown.clone(),
            read_only: false,
        })
    }

    /// Open the existing store at `path` read-only: nothing is written, not even the
    /// end of a run whose writer is gone (it is shown aborted as it is read). Works on
    /// a full disk and on a read-only medium (see `access` for what SQLite needs).
    /// A store of an older schema gives [`StoreError::SchemaOld`].
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let conn = access::open_read_only(path, &shown)?;
        Ok(Store {
            conn,
            path: shown,
            read_only: true,
        })
    }

    /// Whether this handle was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The path of the store as shown in messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// [`StoreError::ReadOnly`] for a handle opened read-only.
    pub fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                why: "it was opened read-only".to_string(),
            });
        }
        Ok(())
    }

    /// A fresh store that lives in memory and vanishes with the handle.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let shown = ":memory:".to_string();
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: shown.clone(),
            source,
        })?;
        Store::init(conn, shown)
    }

    fn init(mut conn: Connection, path: String) -> Result<Store, StoreError> {
        schema::configure(&conn, &path)?;
        schema::migrate(&mut conn, &path)?;
        Ok(Store {
            conn,
            path,
            read_only: false,
        })
    }

    /// Insert a run with status `running` and the current process id; returns its id.
    pub fn begin_run(&mut self, manifest: &RunManifest) -> Result<RunId, StoreError> {
        self.writable()?;
        let host = to_json(&self.path, "host facts", &manifest.host)?;
        self.conn
            .prepare_cached(
                "INSERT INTO runs (name, started_at_ms, status, pid, tool_version, spec_path,
                                   spec_text, spec_hash, host_json, git_commit)
                 VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    manifest.name,
                    manifest.started_at_ms,
                    std::process::id(),
                    manifest.tool_version,
                    manifest.spec_path,
                    manifest.spec_text,
                    manifest.spec_hash,
                    host,
                    manifest.git_commit,
                ])
            })
            .map_err(query_error(&self.path, "record the start of a run"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Record that `phase` started (its planned shape and actual start offset).
    pub fn phase_started(&mut self, run: RunId, phase: &PhaseRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO phases (run_id, name, kind, model, planned_rate, connections,
                                     warmup_us, planned_duration_us, started_us, ended_us,
                                     parent, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    run,
                    phase.name,
                    phase.kind,
                    phase.model,
                    phase.planned_rate,
                    phase.connections,
                    micros(phase.warmup),
                    micros(phase.planned_duration),
                    micros(phase.started),
                    phase.ended.map(micros),
                    phase.parent,
                    phase.size,
                ])
            })
            .map_err(write_error(
                &self.path,
                run,
                format!("record the start of phase {:?} of run {run}", phase.name),
            ))?;
        Ok(())
    }

    /// Record the end offset of a phase recorded by [`Store::phase_started`].
    pub fn phase_ended(
        &mut self,
        run: RunId,
        phase: &str,
        ended: Duration,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE phases SET ended_us = ?3 WHERE run_id = ?1 AND name = ?2")
            .and_then(|mut statement| statement.execute(params![run, phase, micros(ended)]))
            .map_err(query_error(
                &self.path,
                format!("record the end of phase {phase:?} of run {run}"),
            ))?;
        if changed == 0 {
            return Err(self.phase_not_found(run, phase));
        }
        Ok(())
    }

    /// Record one interval of one workload; its phase must have been started.
    pub fn record_interval(
        &mut self,
        run: RunId,
        interval: &IntervalRecord,
    ) -> Result<(), StoreError> {
        let stats = &interval.stats;
        let encode = |which: &str, histogram| {
            encode_histogram(histogram).map_err(|source| StoreError::Encode {
                path: self.path.clone(),
                what: format!("the {which} histogram of interval {}", interval.index),
                source: Box::new(source),
            })
        };
        let response = encode("response", &stats.response)?;
        let service = encode("service", &stats.service)?;
        let lag = encode("lag", &stats.lag)?;
        let gen_delay = encode("gen_delay", &stats.gen_delay)?;
        let (hiccup, sched) = match &interval.health {
            Some(health) => (
                Some(encode("hiccup", &health.hiccup)?),
                Some(serde_json::to_string(&health.sched).map_err(|source| {
                    StoreError::Encode {
                        path: self.path.clone(),
                        what: format!("the generator health of interval {}", interval.index),
                        source: Box::new(source),
                    }
                })?),
            ),
            None => (None, None),
        };
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO intervals (run_id, phase_id, workload, idx, start_us, length_us,
                     warmup, generator_cpu_seconds, ok, status_mismatch, connect_error, timeout,
                     io_error, planned, cap_waits, bytes_sent, bytes_received,
                     response_hist, service_hist, lag_hist, gen_delay_hist, sent, peak_in_flight,
                     connections, not_sent_waiting, not_sent_busy, not_sent_stopped,
                     hiccup_hist, generator_sched)
                 SELECT ?1, id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                        ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29
                 FROM phases WHERE run_id = ?1 AND name = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    run,
                    interval.phase,
                    interval.workload,
                    interval.index,
                    micros(interval.start),
                    micros(interval.length),
                    interval.warmup,
                    interval.generator_cpu_seconds,
                    stats.outcomes.ok,
                    stats.outcomes.status_mismatch,
                    stats.outcomes.connect_error,
                    stats.outcomes.timeout,
                    stats.outcomes.io_error,
                    stats.planned,
                    stats.cap_waits,
                    stats.bytes_sent,
                    stats.bytes_received,
                    response,
                    service,
                    lag,
                    gen_delay,
                    stats.sent,
                    stats.peak_in_flight,
                    stats.connections,
                    stats.not_sent.map(|n| n.waiting),
                    stats.not_sent.map(|n| n.busy),
                    stats.not_sent.map(|n| n.stopped),
                    hiccup,
                    sched,
                ])
            })
            .map_err(query_error(
                &self.path,
                format!(
                    "record interval {} of workload {:?} in phase {:?} of run {run}",
                    interval.index, interval.workload, interval.phase
                ),
            ))?;
        if changed == 0 {
            return Err(self.phase_not_found(run, &interval.phase));
        }
        Ok(())
    }

    /// Record one resource sample of the service's process tree.
    pub fn record_sample(&mut self, run: RunId, sample: &ResourceSample) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO resource_samples (run_id, at_us, processes, rss_bytes, cpu_seconds,
                                               threads, open_fds, host_available_bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    run,
                    micros(sample.at),
                    sample.processes,
                    sample.rss_bytes,
                    sample.cpu_seconds,
                    sample.threads,
                    sample.open_fds,
                    sample.host_available_bytes,
                ])
            })
            .map_err(write_error(
                &self.path,
                run,
                format!("record a resource sample of run {run}"),
            ))?;
        Ok(())
    }

    /// Record one event: its tag in a column for queries, its details as JSON.
    pub fn record_event(&mut self, run: RunId, event: &Event) -> Result<(), StoreError> {
        let detail = to_json(&self.path, "an event", &event.kind)?;
        self.conn
            .prepare_cached(
                "INSERT INTO events (run_id, at_us, type, detail) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut statement| {
                statement.execute(params![run, micros(event.at), event.kind.tag(), detail])
            })
            .map_err(write_error(
                &self.path,
                run,
                format!("record a {} event of run {run}", event.kind.tag()),
            ))?;
        Ok(())
    }

    /// Record an integrity phase's ledger (its writes and read-back).
    pub fn record_integrity(
        &mut self,
        run: RunId,
        ledger: &crate::model::IntegrityLedger,
    ) -> Result<(), StoreError> {
        integrity::record(&self.conn, &self.path, run, ledger)
    }

    /// Record a bad-input phase's cases and post-conditions.
    pub fn record_bad_input(
        &mut self,
        run: RunId,
        ledger: &crate::model::BadInputLedger,
    ) -> Result<(), StoreError> {
        bad_input::record(&self.conn, &self.path, run, ledger)
    }

    /// Record a file the run produced.
    pub fn record_artifact(&mut self, run: RunId, artifact: &Artifact) -> Result<(), StoreError> {
        self.conn
            // A restarted service appends to the same logs: one row per file.
            .prepare_cached(
                "INSERT INTO artifacts (run_id, name, path) SELECT ?1, ?2, ?3
                 WHERE NOT EXISTS (SELECT 1 FROM artifacts
                                   WHERE run_id = ?1 AND name = ?2 AND path = ?3)",
            )
            .and_then(|mut statement| statement.execute(params![run, artifact.name, artifact.path]))
            .map_err(write_error(
                &self.path,
                run,
                format!("record artifact {:?} of run {run}", artifact.name),
            ))?;
        Ok(())
    }

    /// Set the run's final status and wall-clock end (ms since the epoch).
    pub fn finish_run(
        &mut self,
        run: RunId,
        status: RunStatus,
        ended_at_ms: i64,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE runs SET status = ?2, ended_at_ms = ?3 WHERE id = ?1")
            .and_then(|mut statement| statement.execute(params![run, status.as_str(), ended_at_ms]))
            .map_err(query_error(
                &self.path,
                format!("record the end of run {run}"),
            ))?;
        if changed == 0 {
            return Err(StoreError::RunNotFound(run, self.path.clone()));
        }
        Ok(())
    }

    /// Store an evaluation of `run` (findings in order, and the verdict) in one
    /// transaction; returns the evaluation's id.
    pub fn record_evaluation(
        &mut self,
        run: RunId,
        spec_hash: &str,
        created_at_ms: i64,
        findings: &[Finding],
        verdict: &Verdict,
    ) -> Result<i64, StoreError> {
        self.writable()?;
        let verdict_json = to_json(&self.path, "the verdict", verdict)?;
        let finding_json = findings
            .iter()
            .map(|finding| to_json(&self.path, "a finding", finding))
            .collect::<Result<Vec<_>, _>>()?;
        let failed = write_error(
            &self.path,
            run,
            format!("record an evaluation of run {run}"),
        );
        let tx = match self.conn.transaction() {
            Ok(tx) => tx,
            Err(source) => return Err(failed(source)),
        };
        let written = (|| {
            tx.execute(
                "INSERT INTO evaluations (run_id, created_at_ms, spec_hash, decision, verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run,
                    created_at_ms,
                    spec_hash,
                    verdict.decision.as_str(),
                    verdict_json
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO findings (evaluation_id, seq, finding) VALUES (?1, ?2, ?3)",
            )?;
            for (seq, json) in finding_json.iter().enumerate() {
                insert.execute(params![id, seq, json])?;
            }
            drop(insert);
            Ok(id)
        })();
        match written.and_then(|id| tx.commit().map(|()| id)) {
            Ok(id) => Ok(id),
            Err(source) => Err(failed(source)),
        }
    }

    /// The newest evaluation of `run`, if it has one.
    pub fn latest_evaluation(&self, run: RunId) -> Result<Option<StoredEvaluation>, StoreError> {
        load::evaluation(&self.conn, &self.path, run, None)
    }

    /// How many judgements `run` has.
    pub fn judgements(&self, run: RunId) -> Result<u32, StoreError> {
        load::judgements(&self.conn, &self.path, run)
    }

    /// Judgement `number` (1-based, oldest first) of `run`, or `None` if it has none
    /// of that number. Every judgement is kept: re-judging adds one.
    pub fn evaluation(
        &self,
        run: RunId,
        number: u32,
    ) -> Result<Option<StoredEvaluation>, StoreError> {
        load::evaluation(&self.conn, &self.path, run, Some(number))
    }

    /// Every stored run, newest first, each with the decision of its latest evaluation.
    pub fn list_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        load::list_runs(&self.conn, &self.path)
    }

    /// The id of the most recently started run, if any.
    pub fn latest_run_id(&self) -> Result<Option<RunId>, StoreError> {
        load::latest_run_id(&self.conn, &self.path)
    }

    /// Everything stored about `run`, read in one consistent snapshot.
    pub fn load_run(&self, run: RunId) -> Result<RunEvidence, StoreError> {
        load::load_run(&self.conn, &self.path, run)
    }

    fn phase_not_found(&self, run: RunId, phase: &str) -> StoreError {
        StoreError::PhaseNotFound {
            path: self.path.clone(),
            run,
            phase: phase.to_string(),
        }
    }
}

/// Map a failed statement to [`StoreError::Query`], or to what it says when SQLite
/// names the cause: [`StoreError::DiskFull`], [`StoreError::Busy`],
/// [`StoreError::ReadOnly`].
fn query_error(path: &str, what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_string();
    let what = what.into();
    move |source| classify(path, what, source)
}

fn classify(path: String, what: String, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull { path, what, source },
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Busy { path, what, source }
        }
        Some(rusqlite::ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path,
            why: format!("SQLite refused to {what} ({source})"),
        },
        _ => StoreError::Query { path, what, source },
    }
}

/// Like [`query_error`], but a row that points at a missing run gives
/// [`StoreError::RunNotFound`].
fn write_error(
    path: &str,
    run: RunId,
    what: impl Into<String>,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_string();
    let what = what.into();
    move |source| {
        let foreign_key = matches!(
            &source,
            rusqlite::Error::SqliteFailure(failure, _)
                if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
        );
        if foreign_key {
            StoreError::RunNotFound(run, path)
        } else {
            classify(path, what, source)
        }
    }
}

fn to_json<T: Serialize>(path: &str, what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode {
        path: path.to_string(),
        what: what.to_string(),
        source: Box::new(source),
    })
}

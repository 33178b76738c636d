//! Connection settings and the numbered schema migrations of the evidence store.
//!
//! Owns: the `meta` table that holds the schema version, the DDL of every table and
//! index, and the rule for applying migrations. Does not own: the queries that read
//! and write rows (the parent `store` module).
//!
//! Conventions of the schema: offsets on a run's timeline and durations are
//! INTEGER microseconds (`*_us` columns, see `codec`), wall-clock times are INTEGER
//! milliseconds since the Unix epoch (`*_ms`), ratios and CPU seconds are REAL, and
//! structured values (host facts, event details, findings, verdicts) are serde JSON
//! TEXT. Tables are STRICT so a wrongly typed value is refused at write time.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::StoreError;

/// How long a writer waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Migration `n` (1-based) is `MIGRATIONS[n - 1]`; the schema version is the number
/// of migrations applied. Append only: never edit a migration that has shipped.
pub const MIGRATIONS: &[&str] = &[
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    MIGRATION_5,
    MIGRATION_6,
    MIGRATION_7,
    MIGRATION_8,
];

/// Migration 7: the evidence of each bad-input phase (`store::bad_input`): its
/// post-conditions (JSON) and socket peak, and each case with the exact bytes sent
/// and the first bytes received.
const MIGRATION_7: &str = "
CREATE TABLE bad_input_phases (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase         TEXT NOT NULL,
    peak_sockets  INTEGER NOT NULL,
    connections   INTEGER NOT NULL,
    post          TEXT NOT NULL
) STRICT;
CREATE INDEX bad_input_phases_by_run ON bad_input_phases (run_id);
CREATE TABLE bad_input_cases (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    name      TEXT NOT NULL,
    sent      BLOB NOT NULL,
    received  BLOB NOT NULL,
    detail    TEXT NOT NULL
) STRICT;
CREATE INDEX bad_input_cases_by_run ON bad_input_cases (run_id, phase, seq);
";

/// Migration 8: each load interval's generator health: the hiccup meter's lateness
/// histogram (µs) and the scheduling evidence as JSON (`model::SchedEvidence`);
/// NULL where the meter did not run and in runs recorded before.
const MIGRATION_8: &str = "
ALTER TABLE intervals ADD COLUMN hiccup_hist BLOB;
ALTER TABLE intervals ADD COLUMN generator_sched TEXT;
";

/// Migration 4: the ledger of each integrity phase (writes and read-back packed in
/// blobs, see `store::integrity`); the read-back columns are NULL when none was made.
const MIGRATION_4: &str = "
CREATE TABLE integrity_ledgers (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase            TEXT NOT NULL,
    token            TEXT NOT NULL,
    writes_start_us  INTEGER NOT NULL,
    settle_us        INTEGER NOT NULL,
    writes           BLOB NOT NULL,
    read_at_us       INTEGER,
    reads            BLOB,
    listed_keys      INTEGER,
    never_attempted  INTEGER,
    UNIQUE (run_id, phase)
) STRICT;
CREATE INDEX integrity_ledgers_by_run ON integrity_ledgers (run_id);
";
/// Migration 5: each step of a scaling phase records the data set size it measured;
/// NULL for every other phase and in runs recorded before.
const MIGRATION_5: &str = "ALTER TABLE phases ADD COLUMN size INTEGER;";

/// Migration 6: each interval's account of the open-model plan's requests not sent
/// as of its close (still waiting, given up with every connection busy until the
/// phase's deadline, given up because the run stopped); NULL in the closed model and
/// in runs recorded before.
const MIGRATION_6: &str = "
ALTER TABLE intervals ADD COLUMN not_sent_waiting INTEGER;
ALTER TABLE intervals ADD COLUMN not_sent_busy INTEGER;
ALTER TABLE intervals ADD COLUMN not_sent_stopped INTEGER;
";

/// Requests sent per interval (by send time), and the peak of requests in flight
/// with the workload's connections; NULL in runs recorded before.
const MIGRATION_3: &str = "
ALTER TABLE intervals ADD COLUMN sent INTEGER;
ALTER TABLE intervals ADD COLUMN peak_in_flight INTEGER;
ALTER TABLE intervals ADD COLUMN connections INTEGER;
";

/// Migration 2: ramp steps are phases of their own that name their ramp phase.
const MIGRATION_2: &str = "ALTER TABLE phases ADD COLUMN parent TEXT;";

/// Migration 1: the whole schema of the first release.
const MIGRATION_1: &str = "
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    ended_at_ms     INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted')),
    pid             INTEGER NOT NULL,
    tool_version    TEXT NOT NULL,
    spec_path       TEXT NOT NULL,
    spec_text       TEXT NOT NULL,
    spec_hash       TEXT NOT NULL,
    host_json       TEXT NOT NULL,
    git_commit      TEXT
) STRICT;
CREATE INDEX runs_by_start ON runs (started_at_ms, id);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE phases (
    id                  INTEGER PRIMARY KEY,
    run_id              INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,
    model               TEXT NOT NULL,
    planned_rate        REAL,
    connections         INTEGER NOT NULL,
    warmup_us           INTEGER NOT NULL,
    planned_duration_us INTEGER NOT NULL,
    started_us          INTEGER NOT NULL,
    ended_us            INTEGER,
    UNIQUE (run_id, name)
) STRICT;

CREATE TABLE intervals (
    id                    INTEGER PRIMARY KEY,
    run_id                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    phase_id              INTEGER NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    workload              TEXT NOT NULL,
    idx                   INTEGER NOT NULL,
    start_us              INTEGER NOT NULL,
    length_us             INTEGER NOT NULL,
    warmup                INTEGER NOT NULL,
    generator_cpu_seconds REAL NOT NULL,
    ok                    INTEGER NOT NULL,
    status_mismatch       INTEGER NOT NULL,
    connect_error         INTEGER NOT NULL,
    timeout               INTEGER NOT NULL,
    io_error              INTEGER NOT NULL,
    planned               INTEGER NOT NULL,
    cap_waits             INTEGER NOT NULL,
    bytes_sent            INTEGER NOT NULL,
    bytes_received        INTEGER NOT NULL,
    response_hist         BLOB NOT NULL,
    service_hist          BLOB NOT NULL,
    lag_hist              BLOB NOT NULL,
    gen_delay_hist        BLOB NOT NULL,
    UNIQUE (phase_id, workload, idx)
) STRICT;
CREATE INDEX intervals_by_run ON intervals (run_id);

CREATE TABLE resource_samples (
    id                   INTEGER PRIMARY KEY,
    run_id               INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at_us                INTEGER NOT NULL,
    processes            INTEGER NOT NULL,
    rss_bytes            INTEGER NOT NULL,
    cpu_seconds          REAL NOT NULL,
    threads              INTEGER NOT NULL,
    open_fds             INTEGER NOT NULL,
    host_available_bytes INTEGER NOT NULL
) STRICT;
CREATE INDEX resource_samples_by_run ON resource_samples (run_id, at_us);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at_us   INTEGER NOT NULL,
    type    TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_run ON events (run_id, at_us);
CREATE INDEX events_by_type ON events (run_id, type);

CREATE TABLE artifacts (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    path    TEXT NOT NULL
) STRICT;
CREATE INDEX artifacts_by_run ON artifacts (run_id);

CREATE TABLE evaluations (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    created_at_ms  INTEGER NOT NULL,
    spec_hash      TEXT NOT NULL,
    decision       TEXT NOT NULL,
    verdict        TEXT NOT NULL
) STRICT;
CREATE INDEX evaluations_by_run ON evaluations (run_id, created_at_ms, id);

CREATE TABLE findings (
    evaluation_id  INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    finding        TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, seq)
) STRICT;
";

/// Apply the connection settings every store connection uses: WAL journal (the
/// conductor writes while reports read), `synchronous=NORMAL` (durable at each
/// checkpoint, never corrupt), foreign keys, and a busy timeout.
pub fn configure(conn: &Connection, path: &str) -> Result<(), StoreError> {
    let open_error = |source| StoreError::Open {
        path: path.to_string(),
        source,
    };
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    // Answers the mode now in effect: `memory` for an in-memory database.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        .map_err(open_error)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(open_error)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_error)?;
    Ok(())
}

/// Bring the schema up to the newest version this build knows, in one immediate
/// transaction (so two processes opening a new file cannot both migrate it).
/// Returns how many migrations were applied: 0 for an up-to-date store.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<usize, StoreError> {
    let migrate_error = |version: usize| {
        move |source| StoreError::Migrate {
            path: path.to_string(),
            version,
            source,
        }
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT;",
    )
    .map_err(migrate_error(0))?;
    if check_version(conn, path)? == MIGRATIONS.len() {
        return Ok(0);
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(migrate_error(0))?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let current = check_version(&tx, path)?;
    for (number, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql).map_err(migrate_error(number + 1))?;
    }
    let newest = MIGRATIONS.len();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [i64::try_from(newest).unwrap_or(i64::MAX)],
    )
    .map_err(migrate_error(newest))?;
    tx.commit().map_err(migrate_error(newest))?;
    Ok(newest - current)
}

/// The stored schema version (0 for a new file), refused when newer than this build.
fn check_version(conn: &Connection, path: &str) -> Result<usize, StoreError> {
    let stored: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|source| StoreError::Query {
            path: path.to_string(),
            what: "read the schema version".to_string(),
            source,
        })?;
    let stored = stored.unwrap_or(0);
    let version = usize::try_from(stored).map_err(|_| StoreError::Corrupt {
        path: path.to_string(),
        what: "schema version".to_string(),
        source: format!("{stored} is not a version number").into(),
    })?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew {
            path: path.to_string(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    Ok(version)
}

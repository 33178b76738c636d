//! Tests of the two ways of opening a store: read-only reads write nothing (a run
//! whose writer is gone is shown aborted as it is read), writes are refused on a
//! read-only handle, an old schema is named, and an open that collides with another
//! is tried again.

use rusqlite::Connection;

use super::tests::{dead_pid, finding, interval, manifest, ms, phase, set_schema_version, verdict};
use super::*;
use crate::model::{Decision, EventKind, Outcome};

/// A store file with one run whose writer is gone (its pid names no process), one
/// interval and one event recorded, and one live run; returns their ids.
fn store_with_a_vanished_writer(path: &Path) -> (RunId, RunId) {
    let mut store = Store::open(path).unwrap();
    let gone = store.begin_run(&manifest("killed", 5_000)).unwrap();
    let alive = store.begin_run(&manifest("in progress", 6_000)).unwrap();
    store
        .phase_started(gone, &phase("baseline", ms(100), None))
        .unwrap();
    store
        .record_interval(gone, &interval("baseline", "get", 0, ms(1_500)))
        .unwrap();
    let event = Event {
        at: ms(2_900),
        kind: EventKind::PhaseStarted {
            phase: "baseline".to_string(),
        },
    };
    store.record_event(gone, &event).unwrap();
    store
        .conn
        .execute("UPDATE runs SET pid = ?1 WHERE id = ?2", [dead_pid(), gone])
        .unwrap();
    (gone, alive)
}

/// The stored status of `run`, read with a connection of its own.
fn raw_status(path: &Path, run: RunId) -> String {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT status FROM runs WHERE id = ?1", [run], |row| {
            row.get(0)
        })
        .unwrap()
}

#[test]
fn reading_shows_a_vanished_writer_aborted_without_writing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    let (gone, alive) = store_with_a_vanished_writer(&path);

    let store = Store::open_read_only(&path).unwrap();
    assert!(store.is_read_only());
    let read = store.load_run(gone).unwrap();
    // The end the reaper would write: the interval ends at 2.5 s, the event at 2.9 s.
    assert_eq!(
        (read.status, read.ended_at_ms),
        (RunStatus::Aborted, Some(5_000 + 2_900))
    );
    assert_eq!(read.intervals.len(), 1);
    let listed = store.list_runs().unwrap();
    let line = |id| listed.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        (line(gone).status, line(gone).writer_gone),
        (RunStatus::Aborted, true)
    );
    assert_eq!(line(gone).ended_at_ms, Some(7_900));
    assert_eq!(
        (line(alive).status, line(alive).writer_gone),
        (RunStatus::Running, false)
    );
    drop(store);
    assert_eq!(raw_status(&path, gone), "running", "nothing was written");

    // A writer marks it for good, with the same end; it still reads as writer gone.
    let store = Store::open(&path).unwrap();
    assert_eq!(raw_status(&path, gone), "aborted");
    assert_eq!(store.load_run(gone).unwrap().ended_at_ms, Some(7_900));
    assert!(
        store
            .list_runs()
            .unwrap()
            .iter()
            .any(|r| r.id == gone && r.writer_gone)
    );
}

#[test]
fn an_aborted_run_that_recorded_why_did_not_lose_its_writer() {
    let mut store = Store::open_in_memory().unwrap();
    let run = store.begin_run(&manifest("interrupted", 1)).unwrap();
    let event = Event {
        at: ms(10),
        kind: EventKind::Interrupted {
            signal: "SIGINT".to_string(),
        },
    };
    store.record_event(run, &event).unwrap();
    store.finish_run(run, RunStatus::Aborted, 2).unwrap();
    let listed = store.list_runs().unwrap();
    assert_eq!(
        (listed[0].status, listed[0].writer_gone),
        (RunStatus::Aborted, false)
    );
}

#[test]
fn a_read_only_handle_refuses_every_write_and_names_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    drop(Store::open(&path).unwrap());
    let mut store = Store::open_read_only(&path).unwrap();
    let refused = store.begin_run(&manifest("no", 1)).unwrap_err();
    assert!(
        matches!(refused, StoreError::ReadOnly { .. }),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .contains("pass --store with a path on a writable disk"),
        "{refused}"
    );
    let findings = [finding("p99", Outcome::Pass)];
    let refused = store
        .record_evaluation(1, "h", 1, &findings, &verdict(Decision::Go))
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::ReadOnly { .. }),
        "{refused:?}"
    );
    // SQLite itself refuses too (a write that went past the handle's check).
    let refused = store.finish_run(1, RunStatus::Completed, 1).unwrap_err();
    assert!(
        matches!(refused, StoreError::ReadOnly { .. }),
        "{refused:?}"
    );
}

#[test]
fn an_old_store_is_named_read_only_and_readable_once_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    drop(Store::open(&path).unwrap());
    set_schema_version(&path, 1);
    let known = schema::MIGRATIONS.len();
    let err = Store::open_read_only(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaOld { found: 1, known: k, .. } if k == known),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("copy it to a writable directory"),
        "{err}"
    );
    // The version alone was lowered: the upgrade re-applies nothing but the number.
    set_schema_version(&path, i64::try_from(known).unwrap());
    drop(Store::open_for_upgrade(&path).unwrap());
    assert!(Store::open_read_only(&path).is_ok());
}

#[test]
fn an_open_that_collides_with_another_process_is_tried_again_and_other_errors_are_not() {
    // What SQLite answers, without waiting, to one of two processes that set WAL mode
    // on one new file at the same instant.
    let busy = || StoreError::Open {
        path: "e.db".to_string(),
        source: rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".to_string()),
        ),
    };
    let mut attempts = 0;
    let opened = access::retry_while_busy(|| {
        attempts += 1;
        if attempts < 3 {
            Err(busy())
        } else {
            Ok(attempts)
        }
    });
    assert_eq!(opened.unwrap(), 3);
    let mut attempts = 0;
    let refused = access::retry_while_busy(|| -> Result<(), StoreError> {
        attempts += 1;
        Err(StoreError::NotAStore {
            path: "e.db".to_string(),
        })
    });
    assert!(matches!(refused, Err(StoreError::NotAStore { .. })));
    assert_eq!(attempts, 1, "only a lock is worth another try");
}

#[test]
fn threads_creating_the_same_new_store_at_once_all_get_it() {
    // 4 connections open one new file at the same instant, as 4 `gonogo run` started
    // together do (the integration test `store_media` runs two real processes).
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidence.db");
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        let mut store = Store::open(&path)?;
                        store.begin_run(&manifest("together", 1))
                    })
                })
                .collect();
            for handle in handles {
                let result = handle.join().unwrap();
                assert!(result.is_ok(), "round {round}: {result:?}");
            }
        });
        let store = Store::open_read_only(&path).unwrap();
        assert_eq!(store.list_runs().unwrap().len(), 4);
    }
}

//! The `bad_input_phases` and `bad_input_cases` SQL: one row per bad-input phase
//! (its post-conditions as JSON, its socket peak) and one per case, with the exact
//! bytes sent and the first bytes received as BLOBs and the rest as JSON.

use rusqlite::types::Type;
use rusqlite::{Connection, params};

use super::{StoreError, to_json, write_error};
use crate::model::{BadInputCase, BadInputLedger, RunId};

/// Store `ledger` for `run`.
pub(super) fn record(
    conn: &Connection,
    path: &str,
    run: RunId,
    ledger: &BadInputLedger,
) -> Result<(), StoreError> {
    let what = format!("record the bad_input evidence of phase {}", ledger.phase);
    let post = to_json(path, &what, &ledger.post)?;
    conn.prepare_cached(
        "INSERT INTO bad_input_phases (run_id, phase, peak_sockets, connections, post)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            run,
            ledger.phase,
            ledger.peak_sockets,
            ledger.connections,
            post
        ])
    })
    .map_err(write_error(path, run, what.clone()))?;
    for (seq, case) in ledger.cases.iter().enumerate() {
        let meta = BadInputCase {
            sent: Vec::new(),
            received: Vec::new(),
            ..case.clone()
        };
        let meta = to_json(path, &what, &meta)?;
        conn.prepare_cached(
            "INSERT INTO bad_input_cases (run_id, phase, seq, name, sent, received, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                run,
                ledger.phase,
                i64::try_from(seq).unwrap_or(i64::MAX),
                case.name,
                case.sent,
                case.received,
                meta
            ])
        })
        .map_err(write_error(path, run, what.clone()))?;
    }
    Ok(())
}

/// Every bad-input ledger of `run`, in the order recorded.
pub(super) fn load(
    conn: &Connection,
    path: &str,
    run: RunId,
) -> Result<Vec<BadInputLedger>, StoreError> {
    let what = format!("bad_input evidence of run {run}");
    let corrupt = |column: usize, kind: Type, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(column, kind, Box::new(e))
    };
    let mut phases = conn
        .prepare_cached(
            "SELECT phase, peak_sockets, connections, post FROM bad_input_phases
             WHERE run_id = ?1 ORDER BY id",
        )
        .map_err(super::load::read_error(path, what.clone()))?;
    let rows = phases.query_map([run], |row| {
        let post: String = row.get(3)?;
        Ok(BadInputLedger {
            phase: row.get(0)?,
            peak_sockets: row.get(1)?,
            connections: row.get(2)?,
            post: serde_json::from_str(&post).map_err(|e| corrupt(3, Type::Text, e))?,
            cases: Vec::new(),
        })
    });
    let mut ledgers: Vec<BadInputLedger> = rows
        .and_then(Iterator::collect)
        .map_err(super::load::read_error(path, what.clone()))?;
    let mut cases = conn
        .prepare_cached(
            "SELECT phase, sent, received, detail FROM bad_input_cases
             WHERE run_id = ?1 ORDER BY phase, seq",
        )
        .map_err(super::load::read_error(path, what.clone()))?;
    let rows = cases.query_map([run], |row| {
        let phase: String = row.get(0)?;
        let detail: String = row.get(3)?;
        let mut case: BadInputCase =
            serde_json::from_str(&detail).map_err(|e| corrupt(3, Type::Text, e))?;
        case.sent = row.get(1)?;
        case.received = row.get(2)?;
        Ok((phase, case))
    });
    let rows: Vec<(String, BadInputCase)> = rows
        .and_then(Iterator::collect)
        .map_err(super::load::read_error(path, what))?;
    for (phase, case) in rows {
        if let Some(ledger) = ledgers.iter_mut().find(|l| l.phase == phase) {
            ledger.cases.push(case);
        }
    }
    Ok(ledgers)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Store;
    use super::super::tests::{manifest, phase};
    use crate::model::{
        CaseFamily, CaseOutcome, Delivery, EscapedPath, PostCheck, PostConditions, RunStatus,
    };

    use super::*;

    #[test]
    fn a_ledger_round_trips_with_its_exact_bytes() {
        let mut store = Store::open_in_memory().unwrap();
        let run = store
            .begin_run(&manifest("bad", 1_700_000_000_000))
            .unwrap();
        store
            .phase_started(run, &phase("hostile", Duration::ZERO, None))
            .unwrap();
        let case = |name: &str, sent: &[u8], outcome| BadInputCase {
            name: name.to_string(),
            family: CaseFamily::Encoding,
            delivery: Delivery::Whole,
            sent: sent.to_vec(),
            reject: vec![400],
            closed_ok: true,
            outcome,
            received: b"HTTP/1.1 400 \xff\x00\r\n".to_vec(),
            elapsed: Duration::from_millis(12),
            secrets_echoed: vec!["API_KEY".to_string()],
            probe_failed: None,
        };
        let ledger = BadInputLedger {
            phase: "hostile".to_string(),
            cases: vec![
                case(
                    "nul",
                    b"GET /a\0b\xff HTTP/1.1\r\n\r\n",
                    CaseOutcome::Garbage,
                ),
                case("hung", &[0u8; 300], CaseOutcome::Hung { after_bytes: 300 }),
            ],
            post: PostConditions {
                not_ready: Some("connect refused".to_string()),
                escaped: vec![EscapedPath {
                    path: "/d/x".to_string(),
                    change: "created".to_string(),
                }],
                post_check: Some(PostCheck {
                    command: vec!["false".to_string()],
                    status: Some(1),
                    detail: String::new(),
                }),
                ..PostConditions::default()
            },
            peak_sockets: 3,
            connections: 4,
        };
        store.record_bad_input(run, &ledger).unwrap();
        store.finish_run(run, RunStatus::Completed, 1).unwrap();
        let loaded = store.load_run(run).unwrap();
        assert_eq!(loaded.bad_input, vec![ledger]);
    }
}

//! The integrity ledger's rows: one per integrity phase, its writes and reads packed
//! into blobs of a few bytes per key.
//!
//! Owns: the `integrity_ledgers` SQL and the blob encodings — a write is 5 bytes
//! (outcome code, then its time in ms as u32 little-endian), a key's two reads are
//! 1 byte (first read's code in the low nibble, second's in the high). Does not own:
//! what the codes mean for the verdict (`evaluate::integrity`).

use rusqlite::types::Type;
use rusqlite::{Connection, params};

use super::{StoreError, write_error};
use crate::model::codec::{from_micros, micros};
use crate::model::{
    IntegrityLedger, LedgerWrite, Listing, ReadBack, ReadCheck, RunId, WriteOutcome,
};

const WRITE_BYTES: usize = 5;

fn outcome_code(outcome: WriteOutcome) -> u8 {
    match outcome {
        WriteOutcome::Acknowledged => 0,
        WriteOutcome::Failed => 1,
        WriteOutcome::Indeterminate => 2,
    }
}

fn outcome_of(code: u8) -> Option<WriteOutcome> {
    Some(match code {
        0 => WriteOutcome::Acknowledged,
        1 => WriteOutcome::Failed,
        2 => WriteOutcome::Indeterminate,
        _ => return None,
    })
}

fn check_code(check: ReadCheck) -> u8 {
    match check {
        ReadCheck::Match => 0,
        ReadCheck::Missing => 1,
        ReadCheck::Wrong => 2,
        ReadCheck::Error => 3,
    }
}

fn check_of(code: u8) -> Option<ReadCheck> {
    Some(match code {
        0 => ReadCheck::Match,
        1 => ReadCheck::Missing,
        2 => ReadCheck::Wrong,
        3 => ReadCheck::Error,
        _ => return None,
    })
}

pub(super) fn encode_writes(writes: &[LedgerWrite]) -> Vec<u8> {
    let mut out = Vec::with_capacity(writes.len() * WRITE_BYTES);
    for write in writes {
        out.push(outcome_code(write.outcome));
        out.extend_from_slice(&write.at_ms.to_le_bytes());
    }
    out
}

pub(super) fn decode_writes(blob: &[u8]) -> Option<Vec<LedgerWrite>> {
    if blob.len() % WRITE_BYTES != 0 {
        return None;
    }
    blob.chunks_exact(WRITE_BYTES)
        .map(|chunk| {
            let outcome = outcome_of(chunk[0])?;
            let at_ms = u32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]);
            Some(LedgerWrite { outcome, at_ms })
        })
        .collect()
}

pub(super) fn encode_reads(reads: &[[ReadCheck; 2]]) -> Vec<u8> {
    reads
        .iter()
        .map(|[first, second]| check_code(*first) | (check_code(*second) << 4))
        .collect()
}

pub(super) fn decode_reads(blob: &[u8]) -> Option<Vec<[ReadCheck; 2]>> {
    blob.iter()
        .map(|byte| Some([check_of(byte & 0x0f)?, check_of(byte >> 4)?]))
        .collect()
}

/// Store `ledger` for `run`.
pub(super) fn record(
    conn: &Connection,
    path: &str,
    run: RunId,
    ledger: &IntegrityLedger,
) -> Result<(), StoreError> {
    let read = ledger.read_back.as_ref();
    let listing = read.and_then(|r| r.listing);
    conn.prepare_cached(
        "INSERT INTO integrity_ledgers (run_id, phase, token, writes_start_us, settle_us, writes,
                                        read_at_us, reads, listed_keys, never_attempted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            run,
            ledger.phase,
            ledger.token,
            micros(ledger.writes_start),
            micros(ledger.settle),
            encode_writes(&ledger.writes),
            read.map(|r| micros(r.at)),
            read.map(|r| encode_reads(&r.reads)),
            listing.map(|l| l.keys),
            listing.map(|l| l.never_attempted),
        ])
    })
    .map_err(write_error(
        path,
        run,
        format!("record the integrity ledger of phase {}", ledger.phase),
    ))?;
    Ok(())
}

/// Every integrity ledger of `run`, in the order they were recorded.
pub(super) fn load(
    conn: &Connection,
    path: &str,
    run: RunId,
) -> Result<Vec<IntegrityLedger>, StoreError> {
    let corrupt = |column: usize, kind: Type, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(column, kind, what.to_string().into())
    };
    let duration = |row: &rusqlite::Row<'_>, column: usize| -> rusqlite::Result<_> {
        let us: i64 = row.get(column)?;
        from_micros(us).ok_or_else(|| corrupt(column, Type::Integer, "negative duration"))
    };
    let mut statement = conn
        .prepare_cached(
            "SELECT phase, token, writes_start_us, settle_us, writes, read_at_us, reads,
                    listed_keys, never_attempted
             FROM integrity_ledgers WHERE run_id = ?1 ORDER BY id",
        )
        .map_err(super::load::read_error(
            path,
            format!("integrity ledgers of run {run}"),
        ))?;
    let rows = statement.query_map([run], |row| {
        let writes: Vec<u8> = row.get(4)?;
        let writes =
            decode_writes(&writes).ok_or_else(|| corrupt(4, Type::Blob, "damaged write ledger"))?;
        let read_at: Option<i64> = row.get(5)?;
        let reads: Option<Vec<u8>> = row.get(6)?;
        let listed: Option<u64> = row.get(7)?;
        let never: Option<u64> = row.get(8)?;
        let read_back = match (read_at, reads) {
            (Some(at), Some(reads)) => Some(ReadBack {
                at: from_micros(at).ok_or_else(|| corrupt(5, Type::Integer, "negative time"))?,
                reads: decode_reads(&reads)
                    .ok_or_else(|| corrupt(6, Type::Blob, "damaged read-back"))?,
                listing: listed.zip(never).map(|(keys, never_attempted)| Listing {
                    keys,
                    never_attempted,
                }),
            }),
            _ => None,
        };
        Ok(IntegrityLedger {
            phase: row.get(0)?,
            token: row.get(1)?,
            writes_start: duration(row, 2)?,
            settle: duration(row, 3)?,
            writes,
            read_back,
        })
    });
    rows.and_then(Iterator::collect)
        .map_err(super::load::read_error(
            path,
            format!("integrity ledgers of run {run}"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_round_trip_and_damage_is_refused() {
        let writes = vec![
            LedgerWrite {
                outcome: WriteOutcome::Acknowledged,
                at_ms: 12,
            },
            LedgerWrite {
                outcome: WriteOutcome::Indeterminate,
                at_ms: u32::MAX,
            },
            LedgerWrite {
                outcome: WriteOutcome::Failed,
                at_ms: 0,
            },
        ];
        let blob = encode_writes(&writes);
        assert_eq!(blob.len(), 15, "5 bytes a write");
        assert_eq!(decode_writes(&blob), Some(writes));
        assert_eq!(decode_writes(&blob[..14]), None, "truncated");
        assert_eq!(decode_writes(&[9, 0, 0, 0, 0]), None, "unknown outcome");
        let reads = vec![
            [ReadCheck::Match, ReadCheck::Missing],
            [ReadCheck::Wrong, ReadCheck::Error],
        ];
        let blob = encode_reads(&reads);
        assert_eq!(blob.len(), 2, "1 byte a key");
        assert_eq!(decode_reads(&blob), Some(reads));
        assert_eq!(decode_reads(&[0x44]), None);
    }
}

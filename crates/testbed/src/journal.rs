//! The durable mode's data file: an append-only journal of PUT and DELETE records, each written and
//! `fsync`ed (`File::sync_data`) before the write is acknowledged, and replayed into memory on start.
//!
//! Format (version 1): the 13-byte header `TESTBED-KV 1\n`, then records of
//! `op: u8 (b'P' put | b'D' delete)`, `key_len: u32 LE`, `value_len: u32 LE`, the key's UTF-8 bytes,
//! the value's bytes (none for a delete). A crash can leave a torn last record; replay ignores it
//! and truncates the file back to the last whole record so later appends stay aligned.
//!
//! This module owns the file and its format only; the in-memory map and the locking discipline
//! around it belong to `store`. All calls block on disk I/O: run them off the async workers.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use axum::body::Bytes;

/// The header every data file starts with; the trailing digit is the format version.
const MAGIC: &[u8] = b"TESTBED-KV 1\n";
/// Record tag of a put.
const OP_PUT: u8 = b'P';
/// Record tag of a delete.
const OP_DELETE: u8 = b'D';
/// Bytes before a record's key: the tag and two little-endian `u32` lengths.
const RECORD_HEAD: usize = 1 + 4 + 4;

/// What went wrong with the data file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened, read or prepared.
    #[error("could not open the data file `{path}`; check that its folder exists and is writable")]
    Open {
        /// The data file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// The file does not start with the testbed header.
    #[error(
        "`{path}` is not a testbed data file (its header is wrong); point --data-file at a new path or move the file aside"
    )]
    NotAJournal {
        /// The data file.
        path: PathBuf,
    },
    /// A whole record that cannot be understood.
    #[error(
        "the data file `{path}` is corrupt at byte {offset} ({reason}); move it aside to start empty"
    )]
    Corrupt {
        /// The data file.
        path: PathBuf,
        /// Where the bad record starts.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key or value longer than the format can record.
    #[error("a key or value of {0} bytes is too long for the data file (at most 4 GiB)")]
    TooLong(usize),
    /// Appending or syncing a record failed; the write was not acknowledged.
    #[error("could not append to the data file; the write was not acknowledged")]
    Append(#[source] io::Error),
    /// A failed append could not be rolled back, so the file's tail is unknown.
    #[error(
        "the data file is in an unknown state after a failed write; restart testbed to replay it"
    )]
    Broken,
}

/// One change recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// `key` now holds `value`.
    Put {
        /// The key.
        key: &'a str,
        /// The new value.
        value: &'a [u8],
    },
    /// `key` was removed.
    Delete {
        /// The key.
        key: &'a str,
    },
}

/// The state a data file describes, as found on start.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// The key-value pairs after applying every whole record in order.
    pub entries: HashMap<String, Bytes>,
    /// Length of the file's valid prefix (header plus whole records).
    pub valid_len: u64,
    /// Whole records applied.
    pub records: u64,
}

/// An open data file, positioned to append.
#[derive(Debug)]
pub struct Journal {
    file: File,
    /// Length of the file's valid prefix; a failed append is truncated back to it.
    len: u64,
    /// Set when a failed append could not be undone; every later append refuses.
    broken: bool,
}

impl Journal {
    /// Opens (creating if needed) the data file at `path`, replays it, and drops a torn tail.
    pub fn open(path: &Path) -> Result<(Self, Replayed), JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(open_err)?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).map_err(open_err)?;
        if buf.len() < MAGIC.len() && MAGIC.starts_with(&buf) {
            // New, or a header torn while being created: start the file afresh.
            file.set_len(0).map_err(open_err)?;
            file.write_all(MAGIC).map_err(open_err)?;
            file.sync_data().map_err(open_err)?;
            sync_parent_dir(path).map_err(open_err)?;
            buf = MAGIC.to_vec();
        }
        let replayed = replay(&buf, path)?;
        if replayed.valid_len < buf.len() as u64 {
            file.set_len(replayed.valid_len).map_err(open_err)?;
            file.sync_data().map_err(open_err)?;
        }
        let journal = Self {
            file,
            len: replayed.valid_len,
            broken: false,
        };
        Ok((journal, replayed))
    }

    /// Appends `record` and syncs it to disk. On `Ok` the record survives a crash; on `Err` it
    /// is not in the file.
    pub fn append(&mut self, record: &Record<'_>) -> Result<(), JournalError> {
        if self.broken {
            return Err(JournalError::Broken);
        }
        let bytes = encode(record)?;
        let written = self
            .file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Cut any partial record off so the next append starts on a record boundary.
                if self.file.set_len(self.len).is_err() {
                    self.broken = true;
                }
                Err(JournalError::Append(source))
            }
        }
    }
}

/// Makes a newly created file's directory entry durable.
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Serialises one record.
pub fn encode(record: &Record<'_>) -> Result<Vec<u8>, JournalError> {
    let (op, key, value): (u8, &str, &[u8]) = match record {
        Record::Put { key, value } => (OP_PUT, key, value),
        Record::Delete { key } => (OP_DELETE, key, &[]),
    };
    let key_len = u32::try_from(key.len()).map_err(|_| JournalError::TooLong(key.len()))?;
    let value_len = u32::try_from(value.len()).map_err(|_| JournalError::TooLong(value.len()))?;
    let mut out = Vec::with_capacity(RECORD_HEAD + key.len() + value.len());
    out.push(op);
    out.extend_from_slice(&key_len.to_le_bytes());
    out.extend_from_slice(&value_len.to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value);
    Ok(out)
}

/// Applies every whole record in `buf` (a data file's contents) in order. A torn final record
/// ends the replay; a whole record that makes no sense is an error.
pub fn replay(buf: &[u8], path: &Path) -> Result<Replayed, JournalError> {
    let Some(mut rest) = buf.strip_prefix(MAGIC) else {
        return Err(JournalError::NotAJournal {
            path: path.to_owned(),
        });
    };
    let mut replayed = Replayed {
        valid_len: MAGIC.len() as u64,
        ..Replayed::default()
    };
    while let Some((op, key_len, value_len)) = record_head(rest) {
        let Some(body) = rest.get(RECORD_HEAD..RECORD_HEAD + key_len + value_len) else {
            break; // torn tail
        };
        let corrupt = |reason| JournalError::Corrupt {
            path: path.to_owned(),
            offset: replayed.valid_len,
            reason,
        };
        let (key, value) = body.split_at(key_len);
        let key = std::str::from_utf8(key).map_err(|_| corrupt("a key is not UTF-8"))?;
        match op {
            OP_PUT => {
                replayed
                    .entries
                    .insert(key.to_owned(), Bytes::copy_from_slice(value));
            }
            OP_DELETE if value_len == 0 => {
                replayed.entries.remove(key);
            }
            OP_DELETE => return Err(corrupt("a delete record carries a value")),
            _ => return Err(corrupt("unknown record tag")),
        }
        let used = RECORD_HEAD + key_len + value_len;
        replayed.valid_len += used as u64;
        replayed.records += 1;
        rest = &rest[used..];
    }
    Ok(replayed)
}

/// Reads a record's tag and lengths, or `None` if fewer than [`RECORD_HEAD`] bytes remain.
fn record_head(rest: &[u8]) -> Option<(u8, usize, usize)> {
    let head = rest.get(..RECORD_HEAD)?;
    let key_len = u32::from_le_bytes(head[1..5].try_into().ok()?);
    let value_len = u32::from_le_bytes(head[5..9].try_into().ok()?);
    Some((head[0], key_len as usize, value_len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(records: &[Record<'_>]) -> Vec<u8> {
        let mut buf = MAGIC.to_vec();
        for record in records {
            buf.extend(encode(record).expect("small record"));
        }
        buf
    }

    #[test]
    fn replay_applies_puts_and_deletes_in_order() {
        let buf = file_of(&[
            Record::Put {
                key: "a",
                value: b"1",
            },
            Record::Put {
                key: "b",
                value: b"2",
            },
            Record::Delete { key: "a" },
            Record::Put {
                key: "b",
                value: b"two\n\0",
            },
        ]);
        let replayed = replay(&buf, Path::new("t")).expect("valid file");
        assert_eq!(replayed.records, 4);
        assert_eq!(replayed.valid_len, buf.len() as u64);
        assert_eq!(replayed.entries.len(), 1);
        assert_eq!(replayed.entries["b"], Bytes::from_static(b"two\n\0"));
    }

    #[test]
    fn replay_ignores_a_torn_last_record_at_every_cut() {
        let whole = file_of(&[Record::Put {
            key: "k",
            value: b"v",
        }]);
        let torn = encode(&Record::Put {
            key: "key2",
            value: b"value2",
        })
        .expect("small record");
        for cut in 0..torn.len() {
            let mut buf = whole.clone();
            buf.extend_from_slice(&torn[..cut]);
            let replayed = replay(&buf, Path::new("t")).expect("torn tail is fine");
            assert_eq!(replayed.records, 1, "cut at {cut}");
            assert_eq!(replayed.valid_len, whole.len() as u64);
            assert!(!replayed.entries.contains_key("key2"));
        }
    }

    #[test]
    fn replay_rejects_foreign_files_and_bad_records() {
        assert!(matches!(
            replay(b"hello world, not ours", Path::new("t")),
            Err(JournalError::NotAJournal { .. })
        ));
        let mut buf = MAGIC.to_vec();
        buf.extend_from_slice(&[b'X', 1, 0, 0, 0, 0, 0, 0, 0, b'k']);
        assert!(matches!(
            replay(&buf, Path::new("t")),
            Err(JournalError::Corrupt { offset: 13, .. })
        ));
    }

    #[test]
    fn journal_survives_reopen_and_truncates_a_torn_tail() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data.kv");
        {
            let (mut journal, replayed) = Journal::open(&path).expect("new file");
            assert!(replayed.entries.is_empty());
            journal
                .append(&Record::Put {
                    key: "x",
                    value: b"42",
                })
                .expect("append");
        }
        // Simulate a crash in the middle of the next append.
        let mut file = OpenOptions::new().append(true).open(&path).expect("reopen");
        file.write_all(&[OP_PUT, 9, 0]).expect("torn write");
        drop(file);

        let (mut journal, replayed) = Journal::open(&path).expect("reopen");
        assert_eq!(replayed.entries["x"], Bytes::from_static(b"42"));
        journal
            .append(&Record::Put {
                key: "y",
                value: b"7",
            })
            .expect("append after torn tail");
        drop(journal);

        let (_, replayed) = Journal::open(&path).expect("third open");
        assert_eq!(replayed.records, 2);
        assert_eq!(replayed.entries["y"], Bytes::from_static(b"7"));
    }

    #[test]
    fn a_torn_header_is_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data.kv");
        std::fs::write(&path, &MAGIC[..4]).expect("write torn header");
        let (_, replayed) = Journal::open(&path).expect("open");
        assert_eq!(replayed.records, 0);
        assert_eq!(std::fs::read(&path).expect("read"), MAGIC);
    }
}

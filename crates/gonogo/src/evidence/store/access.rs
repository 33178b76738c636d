//! How a store file is opened: for writing (`run`, and `evaluate`, which keeps the
//! judgement it makes) or read-only (every command that only reads), and what each
//! needs of the medium the file is on.
//!
//! Owns: the checks made before a store is opened for writing, the retry of an open
//! that collides with another process setting up the same file, and the rule for
//! reading a WAL database where nothing can be written:
//!
//! 1. A store is read with `SQLITE_OPEN_READ_ONLY` (`mode=ro`). SQLite then reads what
//!    the `-wal` file beside it holds (the last writes of a writer that was killed or
//!    lost its disk) and shares the `-shm` index with live writers; where the `-shm`
//!    does not exist yet it creates it, which needs the directory writable and 32 KiB
//!    free on its disk.
//! 2. Where that fails (a read-only mount, a directory the reader may not write, a full
//!    disk) and there is no `-wal` with content beside the store, it is opened again
//!    with `immutable=1`: no lock, no `-shm`, the main file alone, which then holds
//!    everything (a cleanly closed store has no `-wal`).
//! 3. A non-empty `-wal` that SQLite cannot read that way (a read-only medium without
//!    the `-shm` the writer had) is an error that names the files to copy: reading the
//!    main file alone would silently miss the writes the `-wal` holds.
//!
//! Writing needs the file and its directory writable (SQLite creates the `-wal` and
//! `-shm` files beside the store), checked before SQLite is asked, so a run on a
//! read-only store is refused before anything starts.
//!
//! Does not own: the connection settings and migrations (`schema`), nor any query.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::unistd::{AccessFlags, access};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::StoreError;
use super::schema::{BUSY_TIMEOUT, MIGRATIONS};

/// Refuse to open `path` for writing when it, or the directory that will hold its
/// `-wal` and `-shm` files, cannot be written; creates the directory when missing.
pub fn check_writable(path: &Path, shown: &str) -> Result<(), StoreError> {
    let read_only = |why: String| StoreError::ReadOnly {
        path: shown.to_string(),
        why,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Err(source) = std::fs::create_dir_all(dir) {
        if source.raw_os_error() == Some(nix::errno::Errno::EROFS as i32) {
            return Err(read_only(format!(
                "its directory {} cannot be created: {source}",
                dir.display()
            )));
        }
        return Err(StoreError::CreateDir {
            path: dir.display().to_string(),
            source,
        });
    }
    if path.exists() {
        access(path, AccessFlags::W_OK)
            .map_err(|errno| read_only(format!("the file cannot be written: {}", errno.desc())))?;
    }
    access(dir, AccessFlags::W_OK).map_err(|errno| {
        read_only(format!(
            "its directory {} cannot be written ({}), and SQLite keeps the store's -wal and -shm files beside it",
            dir.display(),
            errno.desc()
        ))
    })
}

/// Run `attempt` again while it fails because another connection holds the file
/// (two processes creating or migrating the same new store at once: SQLite answers
/// one of them `SQLITE_BUSY` at once, without waiting, when both hold a read lock and
/// want the write lock), for up to [`BUSY_TIMEOUT`].
pub fn retry_while_busy<T>(
    mut attempt: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(5);
    loop {
        match attempt() {
            Err(err) if is_busy(&err) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            result => return result,
        }
    }
}

/// Whether `err` is SQLite's "the file is locked by another connection".
fn is_busy(err: &StoreError) -> bool {
    matches!(
        sqlite_code(err),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// The SQLite error code behind `err`, if it has one.
fn sqlite_code(err: &StoreError) -> Option<ErrorCode> {
    let source = match err {
        StoreError::Open { source, .. }
        | StoreError::Migrate { source, .. }
        | StoreError::Query { source, .. } => source,
        _ => return None,
    };
    source.sqlite_error_code()
}

/// Open `path` read-only by the rule of this module, and check that it holds a gonogo
/// evidence store of the schema this build reads.
pub fn open_read_only(path: &Path, shown: &str) -> Result<Connection, StoreError> {
    let conn = connect(path, shown, false)?;
    let conn = match probe(&conn, shown) {
        Ok(()) => conn,
        Err(err) if cannot_share(&err) => {
            drop(conn);
            if wal_has_content(path) {
                return Err(StoreError::WalUnreadable {
                    path: shown.to_string(),
                });
            }
            let conn = connect(path, shown, true)?;
            probe(&conn, shown)?;
            conn
        }
        Err(err) => return Err(err),
    };
    check_schema(&conn, shown)?;
    Ok(conn)
}

/// A read-only connection to `path` (`immutable=1` when asked), with the busy timeout.
fn connect(path: &Path, shown: &str, immutable: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let open_error = |source| StoreError::OpenRead {
        path: shown.to_string(),
        source,
    };
    let conn = Connection::open_with_flags(uri(path, immutable), flags).map_err(open_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    Ok(conn)
}

/// The first read: it opens the `-wal` and `-shm` files where SQLite uses them.
fn probe(conn: &Connection, shown: &str) -> Result<(), StoreError> {
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
            [],
            |row| row.get(0),
        )
        .map_err(|source| StoreError::OpenRead {
            path: shown.to_string(),
            source,
        })?;
    if tables == 0 {
        return Err(StoreError::NotAStore {
            path: shown.to_string(),
        });
    }
    Ok(())
}

/// Whether a failed first read is SQLite unable to set up the shared `-shm` index
/// (or the `-wal`): the medium is read-only, the directory not writable, the disk full.
fn cannot_share(err: &StoreError) -> bool {
    let StoreError::OpenRead { source, .. } = err else {
        return false;
    };
    matches!(
        source.sqlite_error_code(),
        Some(
            ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
        )
    )
}

/// Whether the store's `-wal` file exists and holds anything.
fn wal_has_content(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

/// The schema version must be this build's: an older store is upgraded by a command
/// that writes, a newer one needs a newer gonogo.
fn check_schema(conn: &Connection, shown: &str) -> Result<(), StoreError> {
    let stored: i64 = conn
        .query_row(
            "SELECT COALESCE((SELECT value FROM meta WHERE key = 'schema_version'), 0)",
            [],
            |row| row.get(0),
        )
        .map_err(|source| StoreError::Query {
            path: shown.to_string(),
            what: "read the schema version".to_string(),
            source,
        })?;
    let known = MIGRATIONS.len();
    let found = usize::try_from(stored).map_err(|_| StoreError::Corrupt {
        path: shown.to_string(),
        what: "schema version".to_string(),
        source: format!("{stored} is not a version number").into(),
    })?;
    match found.cmp(&known) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(StoreError::SchemaOld {
            path: shown.to_string(),
            found,
            known,
        }),
        std::cmp::Ordering::Greater => Err(StoreError::SchemaTooNew {
            path: shown.to_string(),
            found,
            known,
        }),
    }
}

/// The SQLite URI of `path` opened read-only: every byte but unreserved characters
/// and `/` percent-encoded (so `?`, `#` and `%` in a path stay part of it); an
/// absolute path gets an empty authority (`file:///…`).
fn uri(path: &Path, immutable: bool) -> String {
    let bytes = path.as_os_str().as_bytes();
    let mut uri = String::from(if bytes.first() == Some(&b'/') {
        "file://"
    } else {
        "file:"
    });
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push_str(if immutable {
        "?mode=ro&immutable=1"
    } else {
        "?mode=ro"
    });
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_keep_every_byte_of_the_path() {
        assert_eq!(
            uri(Path::new("/a b/e?#%.db"), false),
            "file:///a%20b/e%3F%23%25.db?mode=ro"
        );
        assert_eq!(
            uri(Path::new(".gonogo/evidence.db"), true),
            "file:.gonogo/evidence.db?mode=ro&immutable=1"
        );
    }

    #[test]
    fn a_path_with_uri_characters_opens_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd ?#% name.db");
        drop(super::super::Store::open(&path).unwrap());
        let shown = path.display().to_string();
        let conn = open_read_only(&path, &shown).unwrap();
        let err = conn.execute("DELETE FROM meta", []).unwrap_err();
        assert_eq!(err.sqlite_error_code(), Some(ErrorCode::ReadOnly));
    }

    #[test]
    fn a_file_that_is_not_a_store_is_named_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER);")
            .unwrap();
        let err = open_read_only(&path, "other.db").unwrap_err();
        assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");
    }
}

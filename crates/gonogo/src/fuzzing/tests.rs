//! The fuzz entry points on stable: well-formed scripts reach every operation with
//! the outcomes a real server's answers give, and every committed corpus input (the
//! fuzzers' findings among them) runs without a panic.

use std::path::{Path, PathBuf};

/// The scripted server's format: a length byte, then the bytes, per segment.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn segments(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        for piece in part.chunks(255) {
            out.push(piece.len() as u8);
            out.extend_from_slice(piece);
        }
    }
    out
}

#[cfg(feature = "redis")]
#[test]
fn a_redis_script_reaches_every_operation() {
    let script = segments(&[
        b"+OK\r\n+OK\r\n",
        b"$3\r\nabc\r\n",
        b"+OK\r\n",
        b"$3\r\nv-1\r\n",
        b"*2\r\n$2\r\n17\r\n*1\r\n$6\r\nfuzz-1\r\n",
        b"*2\r\n$1\r\n0\r\n*1\r\n$6\r\nfuzz-2\r\n",
    ]);
    let outcomes = super::resp::resp_session(&script);
    assert_eq!(
        outcomes,
        [
            "Ok 9",
            "Acknowledged",
            "Found([118, 45, 49])",
            r#"Ok(Some(["fuzz-1", "fuzz-2"]))"#
        ]
    );
    // An error reply fails the write and keeps the connection; the read goes on.
    let script = segments(&[
        b"+OK\r\n+OK\r\n",
        b"-ERR nope\r\n",
        b"-READONLY replica\r\n",
        b"$-1\r\n",
    ]);
    let outcomes = super::resp::resp_session(&script);
    assert!(outcomes[0].starts_with("StatusMismatch "), "{outcomes:?}");
    assert_eq!(outcomes[1..3], ["Failed", "Missing"]);
    // The script ends before the listing's answer: the listing failed, not empty.
    assert!(outcomes[3].starts_with("Err("), "{outcomes:?}");
}

#[cfg(feature = "redis")]
#[test]
fn a_redis_script_that_ends_early_breaks_the_connection_without_hanging() {
    let script = segments(&[b"+OK\r\n+OK\r\n", b"$10\r\nshort"]);
    let outcomes = super::resp::resp_session(&script);
    assert_eq!(outcomes, ["IoError 0"]);
}

#[cfg(feature = "postgres")]
fn pg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_script_reaches_every_operation() {
    let ready = pg(b'Z', b"I");
    let startup = [pg(b'R', &[0; 4]), pg(b'K', &[0; 8]), ready.clone()].concat();
    let params = |n: u8| {
        let mut body = vec![0, n];
        for _ in 0..n {
            body.extend_from_slice(&25u32.to_be_bytes());
        }
        pg(b't', &body)
    };
    let column = |name: &str| {
        let mut body = vec![0, 1];
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 255, 255, 255, 255, 255, 255]);
        body.extend_from_slice(&[0, 0]);
        pg(b'T', &body)
    };
    let prepared = |n: u8, cols: Option<&str>| {
        let described = cols.map_or_else(|| pg(b'n', b""), column);
        [pg(b'1', b""), params(n), described, ready.clone()].concat()
    };
    let row = |value: &[u8]| {
        let mut body = vec![0, 1];
        body.extend_from_slice(&(value.len() as u32).to_be_bytes());
        body.extend_from_slice(value);
        pg(b'D', &body)
    };
    let done = |rows: &[Vec<u8>], tag: &str| {
        let mut tag = tag.as_bytes().to_vec();
        tag.push(0);
        [pg(b'2', b""), rows.concat(), pg(b'C', &tag), ready.clone()].concat()
    };
    let closed = [pg(b'3', b""), ready.clone()].concat();
    let script = segments(&[
        &startup,
        &prepared(1, Some("v")),
        &done(&[row(b"abc")], "SELECT 1"),
        // Each statement replaces the connection's prepared one, which is closed.
        &prepared(2, None),
        &closed,
        &done(&[], "INSERT 0 1"),
        &prepared(1, Some("v")),
        &closed,
        &done(&[row(b"v-1")], "SELECT 1"),
        &prepared(1, Some("k")),
        &closed,
        &done(&[row(b"fuzz-1"), row(b"fuzz-2")], "SELECT 2"),
    ]);
    let outcomes = super::pg::pg_outcomes(&script);
    assert_eq!(
        outcomes,
        [
            "Ok",
            "Acknowledged",
            "Found([118, 45, 49])",
            r#"Ok(Some(["fuzz-1", "fuzz-2"]))"#
        ]
    );
}

/// Found by `pg_backend` (a timeout): tokio-postgres 0.7.18 stops reading when a
/// request's answers keep coming (no `ReadyForQuery`) while its caller waits on
/// another request (here `prepare` looking up an unknown column type): the
/// connection waits for the first caller to take them, which waits for the second.
/// In a run the caller's timeout ends it; the scripted session must end too.
#[cfg(feature = "postgres")]
#[test]
fn a_postgres_client_stuck_on_itself_ends_the_session() {
    let ready = pg(b'Z', b"I");
    let startup = [pg(b'R', &[0; 4]), ready].concat();
    let mut unknown_column = vec![0, 1, b'v', 0, 0, 0, 0, 0, 0, 0];
    unknown_column.extend_from_slice(&99_999u32.to_be_bytes());
    unknown_column.extend_from_slice(&[255, 255, 255, 255, 255, 255, 0, 0]);
    let prepare = [pg(b'1', b""), pg(b't', &[0, 0]), pg(b'T', &unknown_column)].concat();
    let no_data = pg(b'n', b"");
    let script = segments(&[&startup, &prepare, &no_data, &no_data, &no_data, &no_data]);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(super::pg::pg_outcomes(&script));
    });
    let outcomes = receiver.recv_timeout(std::time::Duration::from_secs(60));
    assert_eq!(
        outcomes,
        Ok(Vec::new()),
        "the session is cut short, not hung"
    );
}

/// The committed corpus of `target`, every input of it.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    for file in corpus(target) {
        let data = std::fs::read(&file).unwrap_or_default();
        run(&data);
    }
}

#[test]
fn the_spec_corpus_replays() {
    replay("spec_check", super::spec_check);
}

#[test]
fn the_http_corpus_replays() {
    replay("http_response", super::http_response);
}

#[cfg(feature = "redis")]
#[test]
fn the_resp_corpus_replays() {
    replay("resp_reply", super::resp_reply);
}

#[cfg(feature = "postgres")]
#[test]
fn the_pg_corpus_replays() {
    replay("pg_backend", super::pg_session);
}

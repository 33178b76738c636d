//! Tests of the HTTP/1.1 client: framing, keep-alive, malformed and oversized
//! responses over real loopback sockets, and the in-memory fuzzing hook.

use super::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// A server that answers each request (read up to its blank line) with the next
/// canned reply, then closes. Replies may arrive in several writes.
async fn server(replies: Vec<Vec<&'static [u8]>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        for reply in replies {
            let mut buf = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            seen.drain(..end);
            for part in reply {
                socket.write_all(part).await.unwrap();
                socket.flush().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    });
    addr
}

#[tokio::test]
async fn keep_alive_with_content_length_serves_several_requests() {
    let ok: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let addr = server(vec![vec![ok], vec![&ok[..20], &ok[20..]]]).await;
    let mut conn = Connection::open(addr).await.unwrap();
    let first = conn.send(GET, false).await.unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.bytes_sent, GET.len() as u64);
    assert_eq!(first.bytes_received, ok.len() as u64);
    assert!(conn.is_usable());
    let second = conn.send(GET, false).await.unwrap();
    assert_eq!(
        second.bytes_received,
        ok.len() as u64,
        "head split across reads"
    );
}

#[tokio::test]
async fn chunked_body_with_trailers_is_read_to_its_end() {
    let addr = server(vec![
        vec![
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n",
            b"\r\n",
        ],
        vec![b"HTTP/1.1 204 No Content\r\n\r\n"],
    ])
    .await;
    let mut conn = Connection::open(addr).await.unwrap();
    assert_eq!(conn.send(GET, false).await.unwrap().status, 201);
    assert!(conn.is_usable());
    // The next response parses cleanly only if the first one was consumed exactly.
    assert_eq!(conn.send(GET, false).await.unwrap().status, 204);
}

#[tokio::test]
async fn connection_close_makes_the_connection_unusable() {
    let addr = server(vec![vec![
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    ]])
    .await;
    let mut conn = Connection::open(addr).await.unwrap();
    assert_eq!(conn.send(GET, false).await.unwrap().status, 200);
    assert!(!conn.is_usable());
}

#[tokio::test]
async fn a_keep_alive_connection_closed_while_idle_is_not_reused() {
    let addr = server(vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]]).await;
    let mut conn = Connection::open(addr).await.unwrap();
    assert_eq!(conn.send(GET, false).await.unwrap().status, 200);
    // The server task ends after its one reply, closing the socket.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(!conn.is_usable());
}

#[tokio::test]
async fn body_without_length_runs_to_the_close() {
    let addr = server(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nall of ", b"this"]]).await;
    let mut conn = Connection::open(addr).await.unwrap();
    let exchange = conn.send(GET, false).await.unwrap();
    assert_eq!(exchange.status, 200);
    assert_eq!(exchange.bytes_received, 30);
    assert!(!conn.is_usable());
}

#[tokio::test]
async fn head_responses_and_interim_responses_have_no_body() {
    let addr = server(vec![
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"],
        vec![b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"],
    ])
    .await;
    let mut conn = Connection::open(addr).await.unwrap();
    assert_eq!(conn.send(GET, true).await.unwrap().status, 200);
    assert!(conn.is_usable(), "the 100 bytes announced were not awaited");
    assert_eq!(conn.send(GET, false).await.unwrap().status, 404);
}

#[tokio::test]
async fn malformed_and_truncated_responses_are_errors() {
    for reply in [
        &b"HTTP/1.1 abc OK\r\n\r\n"[..],
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    ] {
        let addr = server(vec![vec![reply]]).await;
        let mut conn = Connection::open(addr).await.unwrap();
        let err = conn.send(GET, false).await.unwrap_err();
        assert!(
            matches!(err, RequestError::Malformed(_)),
            "{reply:?}: {err}"
        );
        assert_eq!(err.outcome(), RequestOutcome::IoError);
        assert!(!conn.is_usable());
    }
    let addr = server(vec![vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    ]])
    .await;
    let mut conn = Connection::open(addr).await.unwrap();
    let err = conn.send(GET, false).await.unwrap_err();
    assert!(matches!(err, RequestError::Closed), "{err}");
}

#[tokio::test]
async fn kept_bodies_are_whole_for_every_framing_and_bounded() {
    let addr = server(vec![
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", b"llo"],
        vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
            b"c\r\n2\r\nde\r\n0\r\n\r\n",
        ],
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ntoobig"],
    ])
    .await;
    let mut conn = Connection::open(addr).await.unwrap();
    let mut body = b"stale".to_vec();
    let done = conn
        .send_keeping_body(GET, false, &mut body, 64)
        .await
        .unwrap();
    assert_eq!((done.status, &body[..]), (200, &b"hello"[..]));
    conn.send_keeping_body(GET, false, &mut body, 64)
        .await
        .unwrap();
    assert_eq!(body, b"abcde", "chunk data only");
    let err = conn
        .send_keeping_body(GET, false, &mut body, 5)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::BodyTooLarge { limit: 5 }),
        "{err}"
    );
    assert_eq!(err.outcome(), RequestOutcome::IoError);
    assert!(!conn.is_usable());
    let addr = server(vec![vec![b"HTTP/1.0 200 OK\r\n\r\nall of ", b"this"]]).await;
    let mut conn = Connection::open(addr).await.unwrap();
    conn.send_keeping_body(GET, false, &mut body, 64)
        .await
        .unwrap();
    assert_eq!(body, b"all of this", "read to the close");
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = Connection::open(addr).await.unwrap_err();
    assert_eq!(err.outcome(), RequestOutcome::ConnectError);
}

#[tokio::test]
async fn endless_interim_responses_are_too_many_and_bounded() {
    let flood: &'static [u8] = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(200).leak();
    let addr = server(vec![vec![flood]]).await;
    let mut conn = Connection::open(addr).await.unwrap();
    let err = conn.send(GET, false).await.unwrap_err();
    assert!(
        matches!(err, RequestError::TooManyInterim { limit: MAX_INTERIM }),
        "{err}"
    );
    assert!(err.is_too_large() && err.to_string().starts_with("response too large"));
    assert_eq!(err.outcome(), RequestOutcome::IoError);
    let (wrote, read) = conn.moved();
    assert_eq!(wrote, GET.len() as u64);
    assert!(
        read >= 25 * MAX_INTERIM as u64,
        "bytes received are counted: {read}"
    );
    assert!(!conn.is_usable());
}

#[test]
fn interim_responses_up_to_the_limit_precede_the_answer() {
    let mut bytes = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".repeat(MAX_INTERIM);
    bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(fuzz_read_response(&bytes, false), Ok(200));
    let mut more = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INTERIM + 1);
    more.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let err = fuzz_read_response(&more, false).unwrap_err();
    assert!(err.contains("interim"), "{err}");
}

#[test]
fn a_head_longer_than_the_buffer_is_too_large() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    bytes.resize(BUFFER + 100, b'a');
    let err = fuzz_read_response(&bytes, false).unwrap_err();
    assert!(err.starts_with("response too large: its head"), "{err}");
    // A head that fits, whose body is longer than the hook keeps.
    let mut big = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        FUZZ_BODY_LIMIT + 1
    )
    .into_bytes();
    big.resize(big.len() + FUZZ_BODY_LIMIT + 1, b'b');
    let err = fuzz_read_response(&big, false).unwrap_err();
    assert!(err.contains("body is longer than"), "{err}");
}

/// The fuzzing hook answers every input with a status or an error, never a panic
/// or a hang: garbage, truncations of valid responses at every byte, and
/// responses one after another.
#[test]
fn the_fuzz_hook_returns_errors_for_garbage() {
    let valid: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    assert_eq!(
        fuzz_read_response(valid, false),
        Ok(204),
        "both responses read"
    );
    for cut in 0..valid.len() - 1 {
        let _ = fuzz_read_response(&valid[..cut], false);
        let _ = fuzz_read_response(&valid[..cut], true);
    }
    for garbage in [
        &b""[..],
        b"\0\0\0\0",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 999999 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y",
        b"HTTP/1.1 101 Switching\r\n\r\n\xff\xfe",
        b"\r\n\r\n\r\n",
    ] {
        let _ = fuzz_read_response(garbage, false);
    }
    assert!(fuzz_read_response(b"garbage\r\n\r\n", false).is_err());
    assert!(fuzz_read_response(b"", false).is_err(), "nothing sent");
    // An endless chunked body in memory ends with the input, as a truncation.
    let mut endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    endless.extend(b"1\r\nx\r\n".repeat(100_000));
    assert!(fuzz_read_response(&endless, false).is_err());
}

#[test]
fn framing_follows_the_headers() {
    let head = |bytes: &[u8]| parse_head(bytes, false).unwrap().unwrap();
    assert_eq!(
        head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n")
            .framing,
        Framing::Chunked,
        "chunked wins over content-length"
    );
    assert!(!head(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    assert!(
        head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive
    );
    assert_eq!(
        head(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n").framing,
        Framing::None
    );
    assert_eq!(
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false).unwrap(),
        None
    );
    assert_eq!(parse_head(b"", false).unwrap(), None, "nothing read yet");
}

#[test]
fn header_slots_hold_up_to_their_count_and_more_is_malformed() {
    let response = |headers: usize| {
        let mut text = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..headers - 1 {
            text.push_str(&format!("X-Filler-{i}: {i}\r\n"));
        }
        text.push_str("Content-Length: 5\r\n\r\n");
        text
    };
    let full = parse_head(response(MAX_HEADERS).as_bytes(), false).unwrap();
    assert_eq!(full.map(|h| h.framing), Some(Framing::Length(5)));
    assert!(matches!(
        parse_head(response(MAX_HEADERS + 1).as_bytes(), false),
        Err(RequestError::Malformed(_))
    ));
}

//! The fault contract, checked for every kind by one compliance test, plus the
//! direction and fraction rules. A real TCP echo server on loopback stands behind
//! the proxy; it counts the bytes it received.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::Proxy;
use crate::plan::{Direction, FaultSpec, NetFault};

/// An echo server; returns its address and the count of bytes it received.
async fn echo_server() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, received)
}

/// A proxy on a free loopback port in front of an [`echo_server`], and the count
/// of bytes the echo server received.
async fn echo_behind_proxy() -> (Proxy, Arc<AtomicU64>) {
    let (upstream, received) = echo_server().await;
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), upstream)
        .await
        .unwrap();
    (proxy, received)
}

/// What a client saw when it sent `payload` and waited up to `wait` for the echo.
#[derive(Debug)]
struct Exchange {
    /// Bytes echoed back before EOF, reset or the wait ran out.
    echoed: usize,
    elapsed: Duration,
    reset: bool,
    eof: bool,
}

async fn exchange(stream: &mut TcpStream, payload: &[u8], wait: Duration) -> Exchange {
    let start = Instant::now();
    let mut echoed = 0;
    let (mut reset, mut eof) = (false, false);
    if stream.write_all(payload).await.is_err() {
        reset = true;
    }
    let mut buf = vec![0u8; payload.len().max(1)];
    while !reset && echoed < payload.len() {
        match tokio::time::timeout_at((start + wait).into(), stream.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) => {
                eof = true;
                break;
            }
            Ok(Ok(n)) => echoed += n,
            Ok(Err(_)) => reset = true,
        }
    }
    Exchange {
        echoed,
        elapsed: start.elapsed(),
        reset,
        eof,
    }
}

async fn connect(proxy: &Proxy) -> TcpStream {
    TcpStream::connect(proxy.local_addr()).await.unwrap()
}

async fn wait_until_closed(proxy: &Proxy) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while proxy.open_connections() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} connections leaked",
            proxy.open_connections()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn everywhere(kind: NetFault) -> FaultSpec {
    toward(kind, Direction::Both)
}

/// `kind` on every connection, in `direction`.
fn toward(kind: NetFault, direction: Direction) -> FaultSpec {
    FaultSpec {
        kind,
        direction,
        fraction: 1.0,
    }
}

/// A new connection through `proxy` that gets all of `payload` echoed within 2 s
/// (else the test fails, saying `what`): the connection, left open, and what it saw.
async fn passes_through(proxy: &Proxy, payload: &[u8], what: &str) -> (TcpStream, Exchange) {
    let mut client = connect(proxy).await;
    let seen = exchange(&mut client, payload, Duration::from_secs(2)).await;
    assert_eq!(seen.echoed, payload.len(), "{what}: {seen:?}");
    (client, seen)
}

/// The contract: applied → the traffic is changed (as `affected` checks) and the
/// effect is counted; removed → a new connection passes through unchanged; closed
/// clients → no proxied connection stays open.
async fn compliance(kind: NetFault, affected: fn(&Exchange) -> bool) {
    let proxy = echo_behind_proxy().await.0;
    let payload = vec![b'x'; 4000];

    // Pass-through before any fault.
    let (before, _) =
        passes_through(&proxy, &payload, &format!("{kind:?}: pass-through first")).await;

    let handle = proxy.apply(everywhere(kind));
    let mut during = connect(&proxy).await;
    let seen = exchange(&mut during, &payload, Duration::from_millis(600)).await;
    assert!(affected(&seen), "{kind:?} did not show: {seen:?}");
    let effect = proxy.remove(&handle);
    assert!(
        effect.connections >= 1,
        "{kind:?}: no connection counted: {effect:?}"
    );
    if kind != NetFault::Reset {
        assert!(effect.bytes > 0, "{kind:?}: no bytes counted: {effect:?}");
    }

    let (after, restored) =
        passes_through(&proxy, &payload, &format!("{kind:?}: not restored")).await;
    assert!(
        restored.elapsed < Duration::from_millis(150),
        "{kind:?}: {restored:?}"
    );

    drop((before, during, after));
    wait_until_closed(&proxy).await;
}

#[tokio::test]
async fn latency_delays_each_chunk_then_passes_through_when_removed() {
    let delay = Duration::from_millis(200);
    compliance(
        NetFault::Latency {
            delay,
            jitter: Duration::ZERO,
        },
        // Both directions: at least one delay each way.
        |x| x.echoed == 4000 && x.elapsed >= Duration::from_millis(400),
    )
    .await;
}

#[tokio::test]
async fn bandwidth_throttles_then_passes_through_when_removed() {
    // 4000 bytes at 4 kB/s take about 1 s in each direction (the two directions
    // overlap): more than the 600 ms wait.
    compliance(
        NetFault::Bandwidth {
            bytes_per_second: 4_000,
        },
        |x| x.echoed < 4000,
    )
    .await;
}

#[tokio::test]
async fn reset_aborts_connections_then_passes_through_when_removed() {
    compliance(NetFault::Reset, |x| x.reset && x.echoed == 0).await;
}

#[tokio::test]
async fn blackhole_never_answers_then_passes_through_when_removed() {
    compliance(NetFault::Blackhole, |x| {
        x.echoed == 0 && !x.reset && !x.eof && x.elapsed >= Duration::from_millis(600)
    })
    .await;
}

#[tokio::test]
async fn close_after_cuts_the_connection_at_the_byte_budget() {
    compliance(NetFault::CloseAfter { bytes: 1000 }, |x| {
        x.echoed <= 1000 && (x.eof || x.reset)
    })
    .await;
}

#[tokio::test]
async fn a_reset_also_hits_connections_that_were_already_open() {
    let proxy = echo_behind_proxy().await.0;
    let mut open = connect(&proxy).await;
    assert_eq!(
        exchange(&mut open, b"ping", Duration::from_secs(1))
            .await
            .echoed,
        4
    );
    let handle = proxy.apply(everywhere(NetFault::Reset));
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(Duration::from_secs(1), open.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Err(_)) | Ok(Ok(0))),
        "an idle connection is reset at once: {read:?}"
    );
    assert_eq!(proxy.remove(&handle).connections, 1);
}

#[tokio::test]
async fn a_blackhole_to_the_client_lets_requests_reach_the_service() {
    let (proxy, received) = echo_behind_proxy().await;
    let handle = proxy.apply(toward(NetFault::Blackhole, Direction::ToClient));
    let mut client = connect(&proxy).await;
    let seen = exchange(&mut client, b"hello", Duration::from_millis(300)).await;
    assert_eq!(seen.echoed, 0, "no answer comes back");
    assert_eq!(
        received.load(Ordering::Relaxed),
        5,
        "the service got the request"
    );
    assert_eq!(
        proxy.remove(&handle).bytes,
        5,
        "the answer's bytes were dropped"
    );

    // And to the service: nothing reaches it.
    let (proxy, received) = echo_behind_proxy().await;
    let _handle = proxy.apply(toward(NetFault::Blackhole, Direction::ToService));
    let mut client = connect(&proxy).await;
    let seen = exchange(&mut client, b"hello", Duration::from_millis(300)).await;
    assert_eq!(seen.echoed, 0);
    assert_eq!(
        received.load(Ordering::Relaxed),
        0,
        "the service got nothing"
    );
}

#[tokio::test]
async fn a_fraction_selects_about_that_share_of_connections() {
    let proxy = echo_behind_proxy().await.0;
    let handle = proxy.apply(FaultSpec {
        kind: NetFault::Reset,
        direction: Direction::Both,
        fraction: 0.5,
    });
    let total = 200;
    let mut reset = 0;
    for _ in 0..total {
        let mut client = connect(&proxy).await;
        if exchange(&mut client, b"x", Duration::from_secs(1))
            .await
            .echoed
            == 0
        {
            reset += 1;
        }
    }
    let counted = proxy.remove(&handle).connections;
    assert_eq!(
        counted, reset,
        "the effect counts exactly the connections hit"
    );
    // Binomial(200, 0.5): 60..=140 is more than 5 standard deviations either side.
    assert!((60..=140).contains(&reset), "{reset} of {total} reset");
    wait_until_closed(&proxy).await;
}

//! The `resp_reply` fuzz target: a Redis server's replies read by the `redis`
//! crate's multiplexed connection (its streaming RESP parser, as the load driver's
//! connections use it) and handled by gonogo's Redis workload: a load request, an
//! integrity write, read and `SCAN` listing.
//!
//! Owns: the session script. The input is the server's side (see [`super::wire`]):
//! the first segment answers the connection's setup (`CLIENT SETINFO` twice), the
//! next ones the operations, in order.

use std::sync::OnceLock;

use ::redis::AsyncConnectionConfig;
use ::redis::RedisConnectionInfo;
use ::redis::aio::MultiplexedConnection;
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::wire::{Wire, reap, run_session, segments};
use crate::load::{KeyValue, RedisTarget, Workload};
use crate::plan::{Segment, Template};

/// Replay `data` as a Redis server's replies to one session of gonogo's.
pub fn resp_reply(data: &[u8]) {
    std::hint::black_box(resp_session(data));
}

/// What each operation of the session came to, in order, until one dropped the
/// connection (empty when the connection's setup failed).
pub(crate) fn resp_session(data: &[u8]) -> Vec<String> {
    run_session(&segments(data), session).unwrap_or_default()
}

/// The workload, built once (its address is parsed as a URL).
fn target() -> Option<&'static RedisTarget> {
    static TARGET: OnceLock<Option<RedisTarget>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let key = Template {
                segments: vec![Segment::Key],
            };
            let command = [Template::literal("GET"), key];
            let address = Template::literal("127.0.0.1:6379");
            RedisTarget::new("fuzz", &address, &command, 16, 6379).ok()
        })
        .as_ref()
}

async fn session(wire: Wire) -> Option<Vec<String>> {
    let target = target()?;
    // As `load::redis` connects: no timeouts of the crate's own.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(None)
        .set_response_timeout(None);
    let info = RedisConnectionInfo::default();
    let (mut conn, driver) = MultiplexedConnection::new_with_config(&info, wire, config)
        .await
        .ok()?;
    let driver = tokio::spawn(driver);
    let mut outcomes = Vec::new();
    operations(target, &mut conn, &mut outcomes).await;
    drop(conn);
    reap(driver).await;
    Some(outcomes)
}

/// The operations of a run on one connection, until one drops it.
async fn operations(
    target: &RedisTarget,
    conn: &mut MultiplexedConnection,
    out: &mut Vec<String>,
) -> Option<()> {
    let mut rng = SmallRng::seed_from_u64(0);
    let mut scratch = Vec::new();
    let sent = target.send(conn, &mut rng, &mut scratch).await;
    out.push(format!("{:?} {}", sent.outcome, sent.bytes_received));
    sent.keep.then_some(())?;
    let written = target.write(conn, "fuzz-1", "v-1").await;
    out.push(format!("{:?}", written.outcome));
    written.keep.then_some(())?;
    let read = target.read(conn, "fuzz-1").await;
    out.push(format!("{:?}", read.outcome));
    read.keep.then_some(())?;
    let listed = target.list(conn, "fuzz-").await;
    out.push(format!("{:?}", listed.outcome));
    Some(())
}

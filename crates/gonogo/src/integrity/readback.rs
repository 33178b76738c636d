//! The read half of an integrity phase: after the settle time, every attempted key
//! read twice (two full passes, so an unstable key shows as two different reads),
//! with bounded concurrency and a timeout per read, then the prefix listed when the
//! protocol can.
//!
//! Owns: comparing each read with the value its write carried ([`ReadCheck`]) and
//! counting listed keys that were never attempted, generic over the protocol's
//! [`KeyValue`]. Does not own: deciding what the reads mean (`evaluate::integrity`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;

use super::keys;
use super::kv::ReadOutcome;
use super::session::KvSession;
use crate::load::KeyValue;
use crate::model::{Listing, ReadCheck};

/// The most reads in flight at once.
pub const READ_CONCURRENCY: usize = 16;

/// One read of `seq`, compared with its value.
async fn check<K: KeyValue>(
    client: &mut KvSession<K>,
    token: &str,
    seq: u64,
    timeout: Duration,
) -> ReadCheck {
    let key = keys::key(token, seq);
    match tokio::time::timeout(timeout, client.read(&key)).await {
        Ok(ReadOutcome::Found(bytes)) if bytes == keys::value(token, seq).as_bytes() => {
            ReadCheck::Match
        }
        Ok(ReadOutcome::Found(_)) => ReadCheck::Wrong,
        Ok(ReadOutcome::Missing) => ReadCheck::Missing,
        Ok(ReadOutcome::Error(_)) | Err(_) => ReadCheck::Error,
    }
}

/// One pass over keys `0..attempted`; gives the clients back with the checks by seq.
async fn pass<K: KeyValue>(
    clients: Vec<KvSession<K>>,
    token: &Arc<str>,
    attempted: u64,
    timeout: Duration,
) -> (Vec<KvSession<K>>, Vec<ReadCheck>) {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for mut client in clients {
        let next = Arc::clone(&next);
        let token = Arc::clone(token);
        tasks.spawn(async move {
            let mut checks = Vec::new();
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= attempted {
                    break;
                }
                checks.push((seq, check(&mut client, &token, seq, timeout).await));
            }
            (client, checks)
        });
    }
    let mut out = vec![ReadCheck::Error; usize::try_from(attempted).unwrap_or(0)];
    let mut back = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        // A read task that panicked leaves its keys as errors (nothing known).
        let Ok((client, checks)) = joined else {
            continue;
        };
        back.push(client);
        for (seq, check) in checks {
            if let Some(slot) = usize::try_from(seq).ok().and_then(|i| out.get_mut(i)) {
                *slot = check;
            }
        }
    }
    (back, out)
}

/// Read every key of `0..attempted` twice, then list the prefix with the first
/// client. Returns the two checks of each key and the listing, if any.
pub async fn read_back<K: KeyValue>(
    clients: Vec<KvSession<K>>,
    token: &str,
    attempted: u64,
    timeout: Duration,
) -> (Vec<[ReadCheck; 2]>, Option<Listing>) {
    let token: Arc<str> = Arc::from(token);
    let (clients, first) = pass(clients, &token, attempted, timeout).await;
    let (mut clients, second) = pass(clients, &token, attempted, timeout).await;
    let reads = first.into_iter().zip(second).map(|(a, b)| [a, b]).collect();
    let prefix = keys::prefix(&token);
    let listed = match clients.first_mut() {
        Some(client) => tokio::time::timeout(timeout, client.list(&prefix)).await,
        None => Ok(Ok(None)),
    };
    let listing = match listed {
        Ok(Ok(Some(listed))) => Some(Listing {
            keys: listed.len() as u64,
            never_attempted: listed
                .iter()
                .filter(|key| keys::seq_of(&prefix, key).is_none_or(|seq| seq >= attempted))
                .count() as u64,
        }),
        // No listing, or it failed: keys never attempted are not checked.
        _ => None,
    };
    (reads, listing)
}

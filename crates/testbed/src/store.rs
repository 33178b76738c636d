//! The key-value store: an in-memory map, optionally backed by the durable [`Journal`].
//!
//! In memory mode writes live only in the map and are lost when the process dies. In durable mode
//! every put and delete is appended to the journal and synced before the map changes and before
//! the call returns, so an acknowledged write survives a crash. One writer at a time holds the
//! journal lock for the whole append-sync-apply step, so the file and the map agree on order;
//! readers take the map lock only briefly and never wait on a disk sync.
//!
//! This module does not know about HTTP or fault knobs. Durable writes block on the disk: callers
//! in async code run them with `spawn_blocking` (see [`Store::is_durable`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock};

use axum::body::Bytes;

use crate::journal::{Journal, JournalError, Record};

/// The key-value map and, in durable mode, its journal.
#[derive(Debug, Default)]
pub struct Store {
    map: RwLock<HashMap<String, Bytes>>,
    journal: Option<Mutex<Journal>>,
}

impl Store {
    /// An empty store whose writes are lost when the process exits.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A store backed by the data file at `path`, holding what the file recorded. Blocks.
    pub fn durable(path: &Path) -> Result<Self, JournalError> {
        let (journal, replayed) = Journal::open(path)?;
        Ok(Self {
            map: RwLock::new(replayed.entries),
            journal: Some(Mutex::new(journal)),
        })
    }

    /// Whether writes go to disk (and so block).
    pub fn is_durable(&self) -> bool {
        self.journal.is_some()
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Every key that starts with `prefix`, in no particular order.
    pub fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .filter(|key| key.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Stores `value` under `key`; returns whether the key is new. Blocks in durable mode; on
    /// `Err` nothing changed.
    pub fn put(&self, key: String, value: Bytes) -> Result<bool, JournalError> {
        let _journal = match &self.journal {
            Some(journal) => {
                let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
                journal.append(&Record::Put {
                    key: &key,
                    value: &value,
                })?;
                Some(journal)
            }
            None => None,
        };
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(map.insert(key, value).is_none())
    }

    /// Removes `key`; returns whether it was there. Blocks in durable mode; on `Err` nothing
    /// changed.
    pub fn delete(&self, key: &str) -> Result<bool, JournalError> {
        let _journal = match &self.journal {
            Some(journal) => {
                let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
                if self.get(key).is_none() {
                    return Ok(false); // nothing to record
                }
                journal.append(&Record::Delete { key })?;
                Some(journal)
            }
            None => None,
        };
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(map.remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_puts_gets_and_deletes() {
        let store = Store::in_memory();
        assert!(!store.is_durable());
        assert_eq!(
            store.put("a".into(), Bytes::from_static(b"1")).ok(),
            Some(true)
        );
        assert_eq!(
            store.put("a".into(), Bytes::from_static(b"2")).ok(),
            Some(false)
        );
        assert_eq!(store.get("a"), Some(Bytes::from_static(b"2")));
        assert_eq!(store.len(), 1);
        assert_eq!(store.keys_with_prefix("a"), vec!["a".to_string()]);
        assert!(store.keys_with_prefix("b").is_empty());
        assert_eq!(store.delete("a").ok(), Some(true));
        assert_eq!(store.delete("a").ok(), Some(false));
        assert_eq!(store.get("a"), None);
    }

    #[test]
    fn durable_store_keeps_writes_and_deletes_across_reopen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kv.data");
        {
            let store = Store::durable(&path).expect("open");
            assert!(store.is_durable());
            store
                .put("kept".into(), Bytes::from_static(b"yes"))
                .expect("put");
            store
                .put("gone".into(), Bytes::from_static(b"no"))
                .expect("put");
            assert_eq!(store.delete("gone").ok(), Some(true));
            assert_eq!(store.delete("never").ok(), Some(false));
        }
        let store = Store::durable(&path).expect("reopen");
        assert_eq!(store.get("kept"), Some(Bytes::from_static(b"yes")));
        assert_eq!(store.get("gone"), None);
        assert_eq!(store.len(), 1);
    }
}

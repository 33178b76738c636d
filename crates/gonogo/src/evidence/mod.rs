//! The evidence store: what a run recorded, in SQLite (the record types are in
//! `model`).

mod sink;
pub mod store;

pub use store::{Store, StoreError, StoredEvaluation};

//! The evidence store: what a run recorded, in SQLite, and the model types.

mod histogram;
pub mod model;
pub mod store;

pub use store::{Store, StoreError, StoredEvaluation};

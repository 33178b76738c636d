//! gonogo: start a service, run a readiness campaign against it, and decide
//! GO / NO-GO / INCONCLUSIVE from evidence recorded along the way.
//!
//! The modules follow the data flow (see `docs/architecture.md`):
//! `spec` → `plan` → `run` (conductor over `service`, `load`, `sample`) →
//! `evidence` (SQLite) → `evaluate` → `verdict` → `report`.

pub mod api;
pub mod badinput;
pub mod cli;
pub mod evaluate;
pub mod evidence;
pub mod exit;
pub mod fault;
#[doc(hidden)]
pub mod fuzzing;
pub mod integrity;
pub mod load;
pub mod model;
pub mod plan;
pub mod report;
pub mod run;
pub mod sample;
pub mod service;
pub mod spec;
pub mod stats;
pub mod units;
pub mod verdict;

#[cfg(test)]
mod layers;

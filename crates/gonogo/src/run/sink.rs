//! What the conductor needs from its caller: somewhere to keep the records
//! ([`EvidenceSink`]), someone to show them to ([`RunObserver`]), and the rule that
//! decides whether a ramp climbs on ([`StepJudge`]).
//!
//! Owns: these three contracts. The SQLite store implements [`EvidenceSink`]
//! (`evidence`), evaluation supplies the step rule (`api` passes
//! `evaluate::judge_step`), and the front ends implement [`RunObserver`] (the
//! command line's progress display). Defining them here keeps `run` below the
//! layers that implement them.

use crate::model::{IntervalRecord, Record, RunId, RunManifest, RunStatus};
use crate::plan::StopConditions;

/// Why the sink could not keep a record, in words (its own error type boxed).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where a run's records go, in the order the conductor receives them.
///
/// Contract: `begin_run` is called once, before any record; `write` once per
/// record, in arrival order; `finish_run` once, after the last record. After an
/// error the conductor stops the campaign, keeps draining the producers without
/// writing, and reports the first error.
pub trait EvidenceSink {
    /// Start a run with these facts; returns its id.
    fn begin_run(&mut self, manifest: &RunManifest) -> Result<RunId, SinkError>;
    /// Keep one record of run `run`.
    fn write(&mut self, run: RunId, record: &Record) -> Result<(), SinkError>;
    /// Close run `run` with its final status at `ended_ms` (Unix milliseconds).
    fn finish_run(&mut self, run: RunId, status: RunStatus, ended_ms: i64)
    -> Result<(), SinkError>;
}

/// Someone watching the run live: sees every record as the sink receives it.
pub trait RunObserver {
    /// One record, just before it is written.
    fn observe(&mut self, record: &Record);
    /// The record stream has ended.
    fn finish(&mut self) {}
}

/// An observer that watches nothing (quiet runs, tests, agents).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl RunObserver for NoObserver {
    fn observe(&mut self, _record: &Record) {}
}

/// Whether a ramp climbs on after a step: given the step's measured intervals, its
/// rate and the ramp's stop conditions, true when the step met every condition.
/// The caller passes evaluation's rule, so the decision taken live and the one a
/// report reads from the stored steps cannot differ.
pub type StepJudge = fn(&[&IntervalRecord], f64, &StopConditions) -> bool;

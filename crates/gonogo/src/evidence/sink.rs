//! The store as the conductor's [`EvidenceSink`]: each record of the stream becomes
//! its rows (a phase's start and end also become events on the timeline).
//!
//! Owns: the mapping from [`Record`] to the store's writes. Does not own: the SQL
//! (that is `store`) or the order of records (that is `run`).

use crate::model::{Event, EventKind, Record, RunId, RunManifest, RunStatus};
use crate::run::{EvidenceSink, SinkError};

use super::{Store, StoreError};

impl EvidenceSink for Store {
    fn begin_run(&mut self, manifest: &RunManifest) -> Result<RunId, SinkError> {
        Ok(Store::begin_run(self, manifest)?)
    }

    fn write(&mut self, run: RunId, record: &Record) -> Result<(), SinkError> {
        Ok(self.write_record(run, record)?)
    }

    fn finish_run(
        &mut self,
        run: RunId,
        status: RunStatus,
        ended_ms: i64,
    ) -> Result<(), SinkError> {
        Ok(Store::finish_run(self, run, status, ended_ms)?)
    }
}

impl Store {
    /// Write one record of the run's stream.
    pub fn write_record(&mut self, run_id: RunId, record: &Record) -> Result<(), StoreError> {
        match record {
            Record::Event(event) => self.record_event(run_id, event),
            Record::Interval(interval) => self.record_interval(run_id, interval),
            Record::Sample(sample) => self.record_sample(run_id, sample),
            Record::Artifact(artifact) => self.record_artifact(run_id, artifact),
            Record::Integrity(ledger) => self.record_integrity(run_id, ledger),
            Record::BadInput(ledger) => self.record_bad_input(run_id, ledger),
            Record::PhaseStarted(phase) => {
                self.phase_started(run_id, phase)?;
                let kind = EventKind::PhaseStarted {
                    phase: phase.name.clone(),
                };
                let event = Event {
                    at: phase.started,
                    kind,
                };
                self.record_event(run_id, &event)
            }
            Record::PhaseEnded {
                phase,
                at,
                abandoned,
            } => {
                self.phase_ended(run_id, phase, *at)?;
                let kind = EventKind::PhaseEnded {
                    phase: phase.clone(),
                    abandoned: *abandoned,
                };
                self.record_event(run_id, &Event { at: *at, kind })
            }
        }
    }
}

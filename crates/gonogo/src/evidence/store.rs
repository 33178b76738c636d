//! STUB — replaced by the store implementation.
use std::path::Path;
use std::time::Duration;

use super::model::*;
use crate::evaluate::Finding;
use crate::verdict::Verdict;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stub")]
    Stub,
}

#[derive(Debug)]
pub struct Store {}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvaluation {
    pub id: i64,
    pub created_at_ms: i64,
    pub spec_hash: String,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

#[allow(unused_variables, clippy::missing_errors_doc)]
impl Store {
    /// Open (creating and migrating) the store at `path`; marks runs left `running`
    /// by a process that no longer exists as `aborted`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        todo!()
    }
    pub fn open_in_memory() -> Result<Store, StoreError> {
        todo!()
    }
    /// Insert a run with status `running` and the current process id; returns its id.
    pub fn begin_run(&mut self, manifest: &RunManifest) -> Result<RunId, StoreError> {
        todo!()
    }
    pub fn phase_started(&mut self, run: RunId, phase: &PhaseRecord) -> Result<(), StoreError> {
        todo!()
    }
    pub fn phase_ended(
        &mut self,
        run: RunId,
        phase: &str,
        ended: Duration,
    ) -> Result<(), StoreError> {
        todo!()
    }
    pub fn record_interval(
        &mut self,
        run: RunId,
        interval: &IntervalRecord,
    ) -> Result<(), StoreError> {
        todo!()
    }
    pub fn record_sample(&mut self, run: RunId, sample: &ResourceSample) -> Result<(), StoreError> {
        todo!()
    }
    pub fn record_event(&mut self, run: RunId, event: &Event) -> Result<(), StoreError> {
        todo!()
    }
    pub fn record_artifact(&mut self, run: RunId, artifact: &Artifact) -> Result<(), StoreError> {
        todo!()
    }
    pub fn finish_run(
        &mut self,
        run: RunId,
        status: RunStatus,
        ended_at_ms: i64,
    ) -> Result<(), StoreError> {
        todo!()
    }
    pub fn record_evaluation(
        &mut self,
        run: RunId,
        spec_hash: &str,
        created_at_ms: i64,
        findings: &[Finding],
        verdict: &Verdict,
    ) -> Result<i64, StoreError> {
        todo!()
    }
    pub fn latest_evaluation(&self, run: RunId) -> Result<Option<StoredEvaluation>, StoreError> {
        todo!()
    }
    pub fn list_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        todo!()
    }
    pub fn latest_run_id(&self) -> Result<Option<RunId>, StoreError> {
        todo!()
    }
    pub fn load_run(&self, run: RunId) -> Result<RunEvidence, StoreError> {
        todo!()
    }
}

//! STUB (API only) — replaced by the service supervisor branch.
#![allow(missing_docs, clippy::missing_errors_doc, unused_variables)]
use std::path::PathBuf;
use crate::plan::ServicePlan;
use crate::run::events::{RecordSender, RunClock};

#[derive(Debug)]
pub struct ServiceContext { pub spec_dir: PathBuf, pub log_dir: PathBuf, pub clock: RunClock, pub records: RecordSender }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo { pub code: Option<i32>, pub signal: Option<i32> }
#[derive(Debug, thiserror::Error)]
pub enum ServiceError { #[error("stub")] Stub }
#[derive(Debug)]
pub struct RunningService {}
pub async fn start(plan: &ServicePlan, ctx: &ServiceContext) -> Result<RunningService, ServiceError> { todo!() }
impl RunningService {
    pub fn pid(&self) -> u32 { todo!() }
    pub fn port(&self) -> u16 { todo!() }
    pub fn exited(&self) -> tokio::sync::watch::Receiver<Option<ExitInfo>> { todo!() }
    pub async fn stop(&mut self) -> Result<ExitInfo, ServiceError> { todo!() }
}

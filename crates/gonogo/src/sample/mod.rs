//! STUB (API only) — replaced by the sampler branch.
#![allow(unused_variables)]
use std::time::Duration;
use crate::run::events::{RecordSender, RunClock};
pub async fn run(root: tokio::sync::watch::Receiver<Option<u32>>, interval: Duration, clock: RunClock, records: RecordSender, cancel: tokio_util::sync::CancellationToken) { todo!() }

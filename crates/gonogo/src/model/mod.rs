//! The record types that cross layers: the evidence a run leaves (phases, intervals
//! with their histograms, resource samples, events, integrity ledgers), the record
//! stream producers send to the conductor, findings, verdicts and the metric names
//! criteria and findings share.
//!
//! Owns: plain data and its byte codec, nothing that does I/O beyond the record
//! channel. Producers, the store, evaluation and reports all import from here, so
//! none of them imports another for a type. See `docs/architecture.md`.

mod bad_input;
pub mod codec;
mod criterion;
mod describe;
mod doubt;
mod evidence;
mod finding;
mod health;
mod histogram;
mod metric;
mod record;
mod scope;
mod verdict;

pub use bad_input::{
    BadInputCase, BadInputLedger, CaseFamily, CaseOutcome, Delivery, EscapedPath, PostCheck,
    PostConditions, RECEIVED_KEPT,
};
pub use criterion::{Op, Severity};
pub use describe::{describe_exit, event_detail};
pub use doubt::{Doubt, GeneratorBound};
pub use evidence::*;
pub use finding::{ConfidenceInterval, Finding, Outcome, Window};
pub use health::{GeneratorHealth, SchedEvidence, Starved};
pub use histogram::IntervalHistogram;
pub use metric::{
    BadInputMetric, CapacityMetric, IntegrityMetric, LatencyMetric, LeakFigure, LeakResource,
    LeakSlope, Metric, RecoveryMetric, ResourceMetric, ScalingFigure, ScalingQuantity,
    ServiceMetric, TrafficMetric,
};
pub use record::{Record, RecordReceiver, RecordSender, RunClock, channel};
pub use scope::Scope;
pub use verdict::{Decision, Verdict};

//! Findings: the result of judging one criterion (or one implicit rule) against evidence.
//!
//! Owns: the finding data type, which the store persists as JSON and reports render.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Metric, Op, Scope, Severity, opt_secs, secs};
use crate::units::Unit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not enough (or not trustworthy) evidence to decide.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// The stretch of evidence a finding read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Offsets from the run start.
    #[serde(with = "secs")]
    pub start: Duration,
    #[serde(with = "opt_secs")]
    pub end: Option<Duration>,
    /// Interval indices within the phase (inclusive), when the metric reads intervals.
    pub first_interval: Option<u32>,
    pub last_interval: Option<u32>,
}

/// A confidence interval around an observed value (e.g. a leak slope), in the
/// finding's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    pub lower: f64,
    pub upper: f64,
    /// Coverage, e.g. 0.95.
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The criterion as written (`baseline latency.p99 <= 50ms`), or the implicit
    /// rule's name (`service stayed up`).
    pub criterion: String,
    /// True for rules gonogo applies without a criterion (service crash, aborted run).
    pub implicit: bool,
    /// The phase, or for other scopes [`Scope::label`] (`run`, `a vs b`, …).
    pub phase: String,
    /// The evidence the criterion judged; `None` for implicit rules and in findings
    /// stored before scopes existed (both read one phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    pub workload: Option<String>,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's base unit.
    pub threshold: f64,
    pub unit: Unit,
    pub severity: Severity,
    /// `None` when nothing could be measured.
    pub observed: Option<f64>,
    /// The confidence interval of `observed`, for estimated figures (trends).
    /// Absent in findings stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<ConfidenceInterval>,
    /// Requests (load metrics) or resource samples (resource metrics) read.
    pub samples: u64,
    pub outcome: Outcome,
    pub window: Option<Window>,
    /// How the value was computed, in words.
    pub method: String,
    /// Why it passed, failed or could not be decided, in one or two sentences.
    pub explanation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding as the store holds it since before metric families and scopes.
    const STORED: &str = r#"{"criterion":"baseline latency.p99 <= 50ms","implicit":false,
        "phase":"baseline","workload":null,"metric":"LatencyP99","op":"<=","threshold":0.05,
        "unit":"seconds","severity":"blocker","observed":0.012,"samples":5000,
        "outcome":"pass","window":{"start":5.0,"end":30.0,"first_interval":5,
        "last_interval":29},"method":"99th percentile","explanation":"latency.p99 was 12 ms"}"#;

    #[test]
    fn a_finding_stored_in_todays_format_still_loads() {
        let finding: Finding = serde_json::from_str(STORED).unwrap();
        assert_eq!(
            finding.metric,
            Metric::Latency(crate::model::LatencyMetric::P99)
        );
        assert_eq!(finding.phase, "baseline");
        assert_eq!(finding.scope, None);
        assert_eq!(finding.outcome, Outcome::Pass);
        let again = serde_json::to_value(&finding).unwrap();
        assert_eq!(again["metric"], "LatencyP99");
    }
}

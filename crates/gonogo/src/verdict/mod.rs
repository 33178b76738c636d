//! The verdict: findings in, GO / NO-GO / INCONCLUSIVE out, with reasons.
//!
//! Owns: the aggregation rule (DESIGN §7). Pure: no I/O, no clock.

use serde::{Deserialize, Serialize};

use crate::evaluate::{Finding, Outcome};
use crate::plan::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "NO-GO")]
    NoGo,
    #[serde(rename = "INCONCLUSIVE")]
    Inconclusive,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::NoGo => "NO-GO",
            Decision::Inconclusive => "INCONCLUSIVE",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "GO" => Some(Decision::Go),
            "NO-GO" => Some(Decision::NoGo),
            "INCONCLUSIVE" => Some(Decision::Inconclusive),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    /// One sentence per blocking finding (failed or inconclusive blockers), in
    /// finding order; for GO, a sentence saying how many blockers passed.
    pub reasons: Vec<String>,
}

/// Aggregate findings: GO only when every blocker passed and there is at least one
/// blocker; any failed blocker gives NO-GO; otherwise INCONCLUSIVE.
pub fn decide(findings: &[Finding]) -> Verdict {
    let blockers: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocker)
        .collect();
    let failed: Vec<&&Finding> = blockers
        .iter()
        .filter(|f| f.outcome == Outcome::Fail)
        .collect();
    let undecided: Vec<&&Finding> = blockers
        .iter()
        .filter(|f| f.outcome == Outcome::Inconclusive)
        .collect();
    if !failed.is_empty() {
        return Verdict {
            decision: Decision::NoGo,
            reasons: failed.iter().map(|f| reason(f)).collect(),
        };
    }
    if blockers.is_empty() {
        return Verdict {
            decision: Decision::Inconclusive,
            reasons: vec![
                "no blocker criterion was evaluated; add a criterion with severity = \"blocker\""
                    .to_string(),
            ],
        };
    }
    if !undecided.is_empty() {
        return Verdict {
            decision: Decision::Inconclusive,
            reasons: undecided.iter().map(|f| reason(f)).collect(),
        };
    }
    Verdict {
        decision: Decision::Go,
        reasons: vec![format!("all {} blocker criteria passed", blockers.len())],
    }
}

fn reason(finding: &Finding) -> String {
    format!("{}: {}", finding.criterion, finding.explanation)
}

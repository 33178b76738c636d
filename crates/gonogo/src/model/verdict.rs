//! The verdict as a record: the decision and its reasons, as stored and rendered.
//!
//! Owns: [`Decision`] and [`Verdict`]. Does not own: the rule that turns findings
//! into a verdict (that is `verdict::decide`).

use serde::{Deserialize, Serialize};

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

//! The verdict: findings in, GO / NO-GO / INCONCLUSIVE out, with reasons.
//!
//! Owns: the aggregation rule (DESIGN §7). Pure: no I/O, no clock.

use crate::model::{Decision, Verdict};
use crate::model::{Finding, Outcome, Severity};

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
    let passed = match blockers.len() {
        1 => "the 1 blocker criterion passed".to_string(),
        n => format!("all {n} blocker criteria passed"),
    };
    Verdict {
        decision: Decision::Go,
        reasons: vec![passed],
    }
}

fn reason(finding: &Finding) -> String {
    format!("{}: {}", finding.criterion, finding.explanation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Metric, Op};
    use crate::units::Unit;

    fn finding(name: &str, severity: Severity, outcome: Outcome) -> Finding {
        Finding {
            criterion: name.to_string(),
            implicit: false,
            phase: "baseline".to_string(),
            workload: None,
            scope: None,
            metric: Metric::LatencyP99,
            op: Op::Le,
            threshold: 0.05,
            unit: Unit::Seconds,
            severity,
            observed: Some(0.01),
            interval: None,
            samples: 1000,
            outcome,
            window: None,
            method: "m".to_string(),
            explanation: format!("{name} explained"),
        }
    }

    use Outcome::{Fail, Inconclusive, Pass};
    use Severity::{Advisory, Blocker};

    /// `decide(findings)` is `decision` for exactly `reasons`.
    fn assert_decides(findings: &[Finding], decision: Decision, reasons: &[&str]) {
        let v = decide(findings);
        assert_eq!(v.decision, decision);
        assert_eq!(v.reasons, reasons);
    }

    #[test]
    fn go_when_every_blocker_passed() {
        assert_decides(
            &[finding("a", Blocker, Pass), finding("b", Blocker, Pass)],
            Decision::Go,
            &["all 2 blocker criteria passed"],
        );
    }

    #[test]
    fn no_go_on_any_failed_blocker_naming_only_the_failures() {
        assert_decides(
            &[
                finding("a", Blocker, Pass),
                finding("b", Blocker, Inconclusive),
                finding("c", Blocker, Fail),
                finding("d", Blocker, Fail),
            ],
            Decision::NoGo,
            &["c: c explained", "d: d explained"],
        );
    }

    #[test]
    fn inconclusive_when_a_blocker_is_undecided_and_none_failed() {
        assert_decides(
            &[
                finding("a", Blocker, Pass),
                finding("b", Blocker, Inconclusive),
                finding("c", Advisory, Fail),
            ],
            Decision::Inconclusive,
            &["b: b explained"],
        );
    }

    #[test]
    fn inconclusive_without_any_blocker() {
        for findings in [vec![], vec![finding("a", Advisory, Pass)]] {
            let v = decide(&findings);
            assert_eq!(v.decision, Decision::Inconclusive);
            assert!(
                v.reasons[0].contains("no blocker criterion"),
                "{:?}",
                v.reasons
            );
        }
    }

    #[test]
    fn a_failed_advisory_does_not_block_go() {
        assert_decides(
            &[
                finding("a", Blocker, Pass),
                finding("b", Advisory, Fail),
                finding("c", Advisory, Inconclusive),
            ],
            Decision::Go,
            &["the 1 blocker criterion passed"],
        );
    }

    #[test]
    fn decisions_round_trip_through_their_names() {
        for d in [Decision::Go, Decision::NoGo, Decision::Inconclusive] {
            assert_eq!(Decision::parse(d.as_str()), Some(d));
        }
        assert_eq!(Decision::parse("go"), None);
    }
}

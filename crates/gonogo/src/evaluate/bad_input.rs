//! The bad-input family: which cases of a `bad_input` phase were answered wrongly
//! and which post-conditions failed, from the stored ledger.
//!
//! Owns: the rules. A case fails on a 5xx (501 and 505 are refusals), a hang past
//! its timeout, a failed connect, an answer that is not HTTP, a 2xx to a traversal,
//! any status outside its accepted ones, a close where a close is not accepted, an
//! environment secret in the answer, or (slow-read) a failed probe beside it. A
//! post-condition fails when the service is not ready or exited, its RSS or fds
//! grew past their bounds, a file changed outside the allowed directories, or
//! `post_check` exited non-zero.

use crate::model::{
    BadInputCase, BadInputLedger, BadInputMetric, CaseFamily, CaseOutcome, Delivery, Finding,
    Metric, Op, Outcome, PhaseRecord, PostConditions, RunEvidence, Scope, Severity, Window,
};
use crate::plan::CriterionPlan;
use crate::units::format::printable;

use super::Measurement;

/// The implicit rule of every bad-input phase without a `bad_input.findings` criterion.
pub const BAD_INPUT_REFUSED: &str = "every hostile input refused, no side effect";

/// Bytes of what was sent or received shown in an explanation.
const SHOWN: usize = 120;

/// One thing that went wrong in a bad-input phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The case, or `None` for a post-condition.
    pub case: Option<String>,
    pub family: Option<CaseFamily>,
    /// What went wrong, in words.
    pub what: String,
    /// What was sent and what came back, escaped and truncated (cases only).
    pub sent: String,
    pub received: String,
}

/// `bytes` as printable text: invalid UTF-8 and control characters escaped, cut
/// after [`SHOWN`] bytes with the total length said.
pub fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN)];
    let mut text = String::new();
    for chunk in cut.utf8_chunks() {
        text.push_str(&printable(chunk.valid()));
        for b in chunk.invalid() {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > SHOWN {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    text
}

/// Why `case` is a finding, if it is.
pub fn case_problem(case: &BadInputCase) -> Option<String> {
    if !case.secrets_echoed.is_empty() {
        return Some(format!(
            "echoed the secret {}",
            case.secrets_echoed.join(", ")
        ));
    }
    if let Some(probe) = &case.probe_failed {
        return Some(format!(
            "the service stopped answering others during the slow read: {probe}"
        ));
    }
    match &case.outcome {
        CaseOutcome::Status { status, .. } => {
            let status = *status;
            if status >= 500 && status != 501 && status != 505 {
                Some(format!("server error {status}"))
            } else if (200..300).contains(&status) && case.family == CaseFamily::Traversal {
                Some(format!("answered {status} to a path traversal"))
            } else if case.reject.contains(&status) || case.delivery == Delivery::SlowRead {
                None
            } else {
                let accepted: Vec<String> = case.reject.iter().map(u16::to_string).collect();
                Some(format!(
                    "answered {status}, not a refusal (accepted: {}{})",
                    accepted.join(", "),
                    if case.closed_ok {
                        " or a closed connection"
                    } else {
                        ""
                    }
                ))
            }
        }
        CaseOutcome::Closed { .. } if case.closed_ok => None,
        CaseOutcome::Closed { detail } => Some(format!("closed without an answer ({detail})")),
        CaseOutcome::Hung { after_bytes } => Some(match case.delivery {
            Delivery::Dribble => format!(
                "no header timeout: the connection stayed open {:.1} s while {after_bytes} \
                 header bytes trickled in one at a time",
                case.elapsed.as_secs_f64()
            ),
            Delivery::Whole | Delivery::SlowRead => format!(
                "no answer and no close within {:.1} s",
                case.elapsed.as_secs_f64()
            ),
        }),
        CaseOutcome::ConnectFailed { detail } => Some(format!("could not connect: {detail}")),
        CaseOutcome::Garbage => Some("the answer is not HTTP".to_string()),
        CaseOutcome::NotSent { reason } => Some(format!("not sent: {reason}")),
    }
}

/// The failed post-conditions, in words.
pub fn post_problems(post: &PostConditions) -> Vec<String> {
    let mut out = Vec::new();
    if post.exited {
        out.push("the service exited during the phase".to_string());
    }
    if let Some(error) = &post.not_ready {
        out.push(format!(
            "the service was not ready after the phase: {}",
            printable(error)
        ));
    }
    if let (Some(before), Some(after)) = (post.rss_before, post.rss_after) {
        let bound = before as f64 * (1.0 + post.rss_growth);
        if after as f64 > bound {
            out.push(format!(
                "RSS grew from {before} to {after} bytes (bound {bound:.0})"
            ));
        }
    }
    if let (Some(before), Some(after)) = (post.fds_before, post.fds_after)
        && after > before + post.fds_growth
    {
        out.push(format!(
            "open descriptors grew from {before} to {after} (bound +{})",
            post.fds_growth
        ));
    }
    for escaped in &post.escaped {
        out.push(format!(
            "file {} outside the allowed directories: {}",
            escaped.change,
            printable(&escaped.path)
        ));
    }
    if let Some(check) = &post.post_check
        && check.status != Some(0)
    {
        let status = check
            .status
            .map_or("no status".to_string(), |s| format!("status {s}"));
        out.push(format!(
            "post_check `{}` exited with {status}: {}",
            printable(&check.command.join(" ")),
            printable(&check.detail)
        ));
    }
    out
}

/// Every problem of `ledger`: the cases in corpus order, then the post-conditions.
pub fn problems(ledger: &BadInputLedger) -> Vec<Problem> {
    let mut out: Vec<Problem> = ledger
        .cases
        .iter()
        .filter_map(|case| {
            let what = case_problem(case)?;
            let received = match &case.outcome {
                CaseOutcome::Status { line, .. } if case.received.is_empty() => printable(line),
                _ if case.received.len() >= crate::model::RECEIVED_KEPT => {
                    let text = shown(&case.received[..SHOWN.min(case.received.len())]);
                    format!("{text}… (more than {} bytes)", crate::model::RECEIVED_KEPT)
                }
                _ => shown(&case.received),
            };
            Some(Problem {
                case: Some(case.name.clone()),
                family: Some(case.family),
                what,
                sent: shown(&case.sent),
                received,
            })
        })
        .collect();
    out.extend(post_problems(&ledger.post).into_iter().map(|what| Problem {
        case: None,
        family: None,
        what,
        sent: String::new(),
        received: String::new(),
    }));
    out
}

fn count(metric: BadInputMetric, ledger: &BadInputLedger) -> usize {
    match metric {
        BadInputMetric::Findings => problems(ledger).len(),
        BadInputMetric::Post => post_problems(&ledger.post).len(),
        BadInputMetric::Escaped => ledger.post.escaped.len(),
        family => ledger
            .cases
            .iter()
            .filter(|c| Some(c.family) == family.family() && case_problem(c).is_some())
            .count(),
    }
}

/// The problems in one paragraph: each case with what was sent and what came back.
fn explain(ledger: &BadInputLedger) -> String {
    let problems = problems(ledger);
    if problems.is_empty() {
        return format!(
            "all {} cases were refused and every post-condition held",
            ledger.cases.len()
        );
    }
    let listed: Vec<String> = problems
        .iter()
        .map(|p| match &p.case {
            Some(name) => format!(
                "case {name}: {}; sent `{}`; got `{}`",
                p.what, p.sent, p.received
            ),
            None => format!("post-condition: {}", p.what),
        })
        .collect();
    format!(
        "{} finding(s) over {} cases — {}",
        problems.len(),
        ledger.cases.len(),
        listed.join(" | ")
    )
}

/// Measure a `bad_input.*` criterion on `phase`.
pub(super) fn measure(
    metric: BadInputMetric,
    phase: &PhaseRecord,
    evidence: &RunEvidence,
) -> Measurement {
    let ledger = evidence.bad_input.iter().find(|l| l.phase == phase.name);
    let window = Some(Window {
        start: phase.started,
        end: phase.ended,
        first_interval: None,
        last_interval: None,
    });
    let method = "each case's answer against its accepted refusals, then the post-conditions \
                  (ready probe, RSS and fds against their pre-phase values, files under the \
                  watched roots, post_check)"
        .to_string();
    let Some(ledger) = ledger else {
        return Measurement {
            window,
            ..Measurement::none(
                method,
                format!("in phase {}", phase.name),
                crate::model::Doubt::NoData {
                    basis: format!(
                        "in phase {}: no bad_input evidence was recorded",
                        phase.name
                    ),
                },
            )
        };
    };
    Measurement {
        observed: Some(count(metric, ledger) as f64),
        interval: None,
        samples: ledger.cases.len() as u64,
        window,
        method,
        basis: explain(ledger),
        doubt: None,
    }
}

/// The implicit `bad_input.findings == 0` of every bad-input phase without a
/// `bad_input.findings` criterion.
pub(super) fn implicit(criteria: &[CriterionPlan], evidence: &RunEvidence) -> Vec<Finding> {
    let metric = Metric::BadInput(BadInputMetric::Findings);
    evidence
        .phases
        .iter()
        .filter(|p| p.kind == "bad_input")
        .filter(|p| {
            !criteria
                .iter()
                .any(|c| c.phase == p.name && c.metric == metric)
        })
        .map(|phase| {
            let criterion = CriterionPlan {
                label: BAD_INPUT_REFUSED.to_string(),
                scope: Scope::Phase {
                    name: phase.name.clone(),
                },
                phase: phase.name.clone(),
                workload: None,
                metric,
                op: Op::Eq,
                threshold: 0.0,
                severity: Severity::Blocker,
                min_samples: 1,
            };
            let measurement = measure(BadInputMetric::Findings, phase, evidence);
            let mut finding = super::conclude(&criterion, measurement);
            finding.implicit = true;
            if finding.outcome != Outcome::Inconclusive
                && let Some(ledger) = evidence.bad_input.iter().find(|l| l.phase == phase.name)
            {
                finding.explanation = explain(ledger);
            }
            finding
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::EscapedPath;

    fn case(family: CaseFamily, outcome: CaseOutcome) -> BadInputCase {
        BadInputCase {
            name: "c".into(),
            family,
            delivery: Delivery::Whole,
            sent: b"GET /\x1b[2J\xff HTTP/1.1\r\n\r\n".to_vec(),
            reject: vec![400, 404],
            closed_ok: true,
            outcome,
            received: Vec::new(),
            elapsed: Duration::from_secs(1),
            secrets_echoed: Vec::new(),
            probe_failed: None,
        }
    }

    fn status(status: u16) -> CaseOutcome {
        CaseOutcome::Status {
            status,
            line: format!("HTTP/1.1 {status} x"),
        }
    }

    #[test]
    fn each_outcome_is_judged_by_the_rules() {
        let t = CaseFamily::Traversal;
        assert_eq!(case_problem(&case(t, status(404))), None);
        assert_eq!(
            case_problem(&case(t, CaseOutcome::Closed { detail: "x".into() })),
            None
        );
        assert_eq!(
            case_problem(&case(CaseFamily::Framing, status(501))).unwrap(),
            "answered 501, not a refusal (accepted: 400, 404 or a closed connection)"
        );
        assert!(
            case_problem(&case(t, status(500)))
                .unwrap()
                .contains("server error 500")
        );
        assert!(
            case_problem(&case(t, status(200)))
                .unwrap()
                .contains("path traversal")
        );
        assert!(
            case_problem(&case(CaseFamily::Method, status(200)))
                .unwrap()
                .contains("not a refusal")
        );
        assert!(case_problem(&case(t, CaseOutcome::Garbage)).is_some());
        let mut hung = case(CaseFamily::Slow, CaseOutcome::Hung { after_bytes: 4 });
        hung.delivery = Delivery::Dribble;
        assert!(case_problem(&hung).unwrap().contains("no header timeout"));
        let mut echoed = case(t, status(404));
        echoed.secrets_echoed = vec!["API_KEY".into()];
        assert!(case_problem(&echoed).unwrap().contains("API_KEY"));
    }

    #[test]
    fn problems_show_escaped_bytes_and_post_conditions() {
        let ledger = BadInputLedger {
            phase: "p".into(),
            cases: vec![case(CaseFamily::Traversal, status(200))],
            post: PostConditions {
                rss_before: Some(100),
                rss_after: Some(200),
                rss_growth: 0.5,
                escaped: vec![EscapedPath {
                    path: "/d/evil\u{1b}".into(),
                    change: "created".into(),
                }],
                ..PostConditions::default()
            },
            peak_sockets: 1,
            connections: 1,
        };
        let found = problems(&ledger);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].sent, "GET /\\u{1b}[2J\\xff HTTP/1.1\\r\\n\\r\\n");
        assert!(found[1].what.starts_with("RSS grew from 100 to 200"));
        assert!(found[2].what.contains("/d/evil\\u{1b}"));
        assert_eq!(count(BadInputMetric::Traversal, &ledger), 1);
        assert_eq!(count(BadInputMetric::Escaped, &ledger), 1);
        assert_eq!(count(BadInputMetric::Findings, &ledger), 3);
    }
}

//! The bad-input section of every report: per bad-input phase, how many cases were
//! sent and refused, and each failing case (its name, what was sent, what came
//! back) and failed post-condition, read through the same
//! [`evaluate::bad_input_problems`] the findings use.
//!
//! Owns: [`BadInputSummary`] (part of the JSON report) and its rendering: service
//! text is already printable (control bytes and invalid UTF-8 escaped, cut); it is
//! escaped again for Markdown (`markdown_text`) and HTML (`html::escape`).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use super::html::escape;
use super::markdown_text::{cell, code};
use crate::evaluate;
use crate::model::RunEvidence;
use crate::units::format::printable;

/// What a bad-input phase found.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BadInputSummary {
    pub phase: String,
    /// Cases sent (built-in and from the cases file).
    pub cases: u64,
    /// Cases answered wrongly plus failed post-conditions.
    pub findings: u64,
    /// Each failing case, then each failed post-condition, in order.
    pub failures: Vec<BadInputFailure>,
    /// Files created, changed or removed outside the allowed directories.
    pub escaped: Vec<String>,
    /// The most sockets gonogo held open at once, and the phase's cap.
    pub peak_sockets: u32,
    pub connections: u32,
}

/// One failing case or post-condition.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BadInputFailure {
    /// The case's name; null for a post-condition.
    pub case: Option<String>,
    /// The case's family (`traversal`, `oversize`, …); null for a post-condition.
    pub family: Option<String>,
    /// What went wrong.
    pub what: String,
    /// The bytes sent, printable and cut (empty for a post-condition).
    pub sent: String,
    /// The first bytes of the answer, printable and cut.
    pub received: String,
}

/// One summary per stored bad-input ledger, in phase order.
pub(super) fn summaries(evidence: &RunEvidence) -> Vec<BadInputSummary> {
    evidence
        .bad_input
        .iter()
        .map(|ledger| {
            let failures: Vec<BadInputFailure> = evaluate::bad_input_problems(ledger)
                .into_iter()
                .map(|p| BadInputFailure {
                    case: p.case,
                    family: p.family.map(|f| f.as_str().to_string()),
                    what: p.what,
                    sent: p.sent,
                    received: p.received,
                })
                .collect();
            BadInputSummary {
                phase: ledger.phase.clone(),
                cases: ledger.cases.len() as u64,
                findings: failures.len() as u64,
                failures,
                escaped: ledger
                    .post
                    .escaped
                    .iter()
                    .map(|e| format!("{} ({})", e.path, e.change))
                    .collect(),
                peak_sockets: ledger.peak_sockets,
                connections: ledger.connections,
            }
        })
        .collect()
}

/// The counts on one line.
pub(super) fn line(s: &BadInputSummary) -> String {
    format!(
        "{} cases · {} findings · {} files escaped · at most {} of {} sockets",
        s.cases,
        s.findings,
        s.escaped.len(),
        s.peak_sockets,
        s.connections
    )
}

/// The terminal lines: the counts, then each failure.
pub(super) fn terminal(s: &BadInputSummary, out: &mut String) {
    let _ = writeln!(out, "  bad input  {}", printable(&line(s)));
    for f in &s.failures {
        match &f.case {
            Some(case) => {
                let _ = writeln!(out, "    ✗ {}: {}", printable(case), printable(&f.what));
                let _ = writeln!(out, "      sent     {}", printable(&f.sent));
                let _ = writeln!(out, "      received {}", printable(&f.received));
            }
            None => {
                let _ = writeln!(out, "    ✗ post-condition: {}", printable(&f.what));
            }
        }
    }
}

/// The Markdown section: one table per phase.
pub(super) fn markdown(summaries: &[BadInputSummary], out: &mut String) {
    if summaries.is_empty() {
        return;
    }
    out.push_str("\n### Bad input\n");
    for s in summaries {
        let _ = writeln!(out, "\n{}: {}\n", code(&s.phase), cell(&line(s)));
        if s.failures.is_empty() {
            continue;
        }
        out.push_str("| case | what went wrong | sent | received |\n|---|---|---|---|\n");
        for f in &s.failures {
            let case = f.case.as_deref().unwrap_or("post-condition");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(case),
                cell(&f.what),
                cell(&f.sent),
                cell(&f.received)
            );
        }
    }
}

/// The HTML section: one table per phase.
pub(super) fn html(summaries: &[BadInputSummary], out: &mut String) {
    if summaries.is_empty() {
        return;
    }
    out.push_str(
        "<section><h2>Bad input</h2><p class=\"note\">Each hostile case as sent and as \
         answered (control bytes and invalid UTF-8 escaped, cut), then the post-conditions.</p>\n",
    );
    for s in summaries {
        let _ = write!(
            out,
            "<h3>{}</h3><p>{}</p>",
            escape(&s.phase),
            escape(&line(s))
        );
        if s.failures.is_empty() {
            continue;
        }
        out.push_str(
            "<table class=\"bad-input\"><thead><tr><th>case</th><th>what went wrong</th>\
             <th>sent</th><th>received</th></tr></thead><tbody>",
        );
        for f in &s.failures {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(f.case.as_deref().unwrap_or("post-condition")),
                escape(&f.what),
                escape(&f.sent),
                escape(&f.received)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

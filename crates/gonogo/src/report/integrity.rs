//! The integrity section of every report: per integrity phase, the counts read from
//! its stored ledger (the same [`evaluate::integrity_counts`] the findings use, so a
//! report never disagrees with its verdict), as one line of text or an HTML table
//! with bars.
//!
//! Owns: [`IntegritySummary`] (part of the JSON report) and its rendering. Does not
//! own: what the counts mean (`evaluate::integrity`).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use super::html::escape;
use crate::evaluate;
use crate::model::RunEvidence;
use crate::units::format;

/// What an integrity phase's read-back found.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct IntegritySummary {
    pub phase: String,
    /// The phase run's token: every key was `gng-<token>-<seq>`.
    pub token: String,
    /// Writes sent; equals acknowledged + failed + indeterminate.
    pub attempted: u64,
    /// Writes the service confirmed.
    pub acknowledged: u64,
    /// Writes that certainly did not happen (refused, error answer).
    pub failed: u64,
    /// Writes sent with no answer (timeout, connection lost).
    pub indeterminate: u64,
    /// Whether a read-back was made and answered; without it the counts below are null.
    pub read_back: bool,
    /// Acknowledged writes missing or wrong on the read-back.
    pub lost: Option<u64>,
    /// Indeterminate writes found on the read-back.
    pub recovered: Option<u64>,
    /// Keys listed but never attempted plus failed writes found present; null when
    /// not checked (no listing).
    pub unexpected: Option<u64>,
    /// Keys whose two reads both answered and differ.
    pub unstable: Option<u64>,
    /// Keys neither read of which answered.
    pub unread: Option<u64>,
    /// Time span of the lost acknowledged writes, seconds (0 when none was lost).
    pub rpo_seconds: Option<f64>,
    /// How the RPO was measured, in words.
    pub rpo_method: String,
}

/// One summary per stored integrity ledger, in phase order.
pub(super) fn summaries(evidence: &RunEvidence) -> Vec<IntegritySummary> {
    evidence
        .integrity
        .iter()
        .filter_map(|ledger| {
            let c = evaluate::integrity_counts(evidence, &ledger.phase)?;
            let read = |n: u64| c.read_back.then_some(n);
            let rpo_method = match (c.rpo, c.rpo_to_fault) {
                (None, _) => "not measured: no read-back",
                (Some(_), true) => "from the earliest lost acknowledgement to the start of the first fault at or after it",
                (Some(_), false) if c.lost > 0 => "the time span of the lost acknowledged writes (no fault after them)",
                (Some(_), false) => "no acknowledged write was lost",
            };
            Some(IntegritySummary {
                phase: ledger.phase.clone(),
                token: ledger.token.clone(),
                attempted: c.attempted,
                acknowledged: c.acknowledged,
                failed: c.failed,
                indeterminate: c.indeterminate,
                read_back: c.read_back,
                lost: read(c.lost),
                recovered: read(c.recovered),
                unexpected: c.unexpected,
                unstable: read(c.unstable),
                unread: read(c.unread),
                rpo_seconds: c.rpo.map(|d| d.as_secs_f64()),
                rpo_method: rpo_method.to_string(),
            })
        })
        .collect()
}

fn count(n: Option<u64>, missing: &str) -> String {
    n.map_or_else(|| missing.to_string(), format::count)
}

/// The counts on one line, for the terminal and Markdown.
pub(super) fn line(s: &IntegritySummary) -> String {
    let mut out = format!(
        "{} attempted · {} acknowledged · {} failed · {} indeterminate",
        format::count(s.attempted),
        format::count(s.acknowledged),
        format::count(s.failed),
        format::count(s.indeterminate)
    );
    if !s.read_back {
        out.push_str(" · no read-back: lost writes cannot be ruled out");
        return out;
    }
    let _ = write!(
        out,
        " · lost {} · recovered {} · unexpected {} · unstable {} · RPO {}",
        count(s.lost, "—"),
        count(s.recovered, "—"),
        count(s.unexpected, "not checked"),
        count(s.unstable, "—"),
        s.rpo_seconds
            .map_or_else(|| "—".to_string(), format::seconds)
    );
    if s.unread.is_some_and(|n| n > 0) {
        let _ = write!(out, " · unread {}", count(s.unread, "—"));
    }
    out
}

/// The HTML section: a table of the counts with a bar each, scaled to `attempted`.
pub(super) fn html(summaries: &[IntegritySummary], out: &mut String) {
    if summaries.is_empty() {
        return;
    }
    out.push_str(
        "<section><h2>Integrity</h2><p class=\"note\">Every attempted key was read back twice \
         after the settle time. Lost = acknowledged but missing or wrong; recovered = \
         indeterminate but present; unexpected = present but never attempted (or failed).</p>\n",
    );
    for s in summaries {
        let _ = write!(
            out,
            "<h3>{} <span class=\"note\">(keys gng-{}-…)</span></h3><table class=\"integrity\"><tbody>",
            escape(&s.phase),
            escape(&s.token)
        );
        let rows: [(&str, Option<u64>, &str); 7] = [
            ("attempted", Some(s.attempted), ""),
            ("acknowledged", Some(s.acknowledged), "pass"),
            ("failed", Some(s.failed), ""),
            ("indeterminate", Some(s.indeterminate), ""),
            ("lost", s.lost, "fail"),
            ("recovered", s.recovered, ""),
            ("unexpected", s.unexpected, "fail"),
        ];
        for (label, value, class) in rows {
            let width = value.map_or(0.0, |v| 100.0 * v as f64 / s.attempted.max(1) as f64);
            let text = match (label, value) {
                ("unexpected", None) if s.read_back => "not checked (no listing)".to_string(),
                (_, None) => "— (no read-back)".to_string(),
                (_, Some(v)) => format::count(v),
            };
            let _ = write!(
                out,
                "<tr><th>{label}</th><td class=\"num\">{}</td><td class=\"bar\">\
                 <span class=\"bar {class}\" style=\"width:{width:.1}%\"></span></td></tr>",
                escape(&text)
            );
        }
        let rpo = s
            .rpo_seconds
            .map_or_else(|| "—".to_string(), format::seconds);
        let _ = writeln!(
            out,
            "<tr><th>RPO</th><td class=\"num\">{}</td><td class=\"note\">{}</td></tr></tbody></table>",
            escape(&rpo),
            escape(&s.rpo_method)
        );
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(read_back: bool) -> IntegritySummary {
        let read = |n| read_back.then_some(n);
        IntegritySummary {
            phase: "writes".into(),
            token: "0badcafe".into(),
            attempted: 400,
            acknowledged: 396,
            failed: 2,
            indeterminate: 2,
            read_back,
            lost: read(198),
            recovered: read(0),
            unexpected: None,
            unstable: read(0),
            unread: read(0),
            rpo_seconds: read_back.then_some(1.98),
            rpo_method: "the method".into(),
        }
    }

    #[test]
    fn the_line_names_every_count_and_says_what_was_not_checked() {
        assert_eq!(
            line(&summary(true)),
            "400 attempted · 396 acknowledged · 2 failed · 2 indeterminate · lost 198 · \
             recovered 0 · unexpected not checked · unstable 0 · RPO 1.98 s"
        );
        assert!(line(&summary(false)).ends_with("no read-back: lost writes cannot be ruled out"));
    }

    #[test]
    fn the_html_section_has_a_bar_per_count_scaled_to_the_attempts() {
        let mut out = String::new();
        html(&[summary(true)], &mut out);
        assert!(out.contains("<h2>Integrity</h2>"));
        assert!(
            out.contains("<th>lost</th><td class=\"num\">198</td>"),
            "{out}"
        );
        assert!(out.contains("style=\"width:49.5%\""), "198 of 400: {out}");
        assert!(out.contains("not checked (no listing)"));
        let mut empty = String::new();
        html(&[], &mut empty);
        assert!(empty.is_empty());
    }
}

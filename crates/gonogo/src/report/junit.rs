//! The JUnit XML renderer, for CI systems that show test results: one test suite per
//! phase, one test case per criterion. A failed criterion is a `<failure>` whose
//! message is the explanation; an inconclusive one is `<skipped>` with the reason.
//! Implicit findings outside any phase go into a suite named `run`.
//!
//! Owns: the XML layout and XML escaping.

use std::fmt::Write;

use super::model::{FindingRow, OutcomeLabel, ReportModel, SeverityLabel};
use super::text;

/// Escape text for XML content and double-quoted attributes: the HTML escape (one
/// place for the special characters), with `&apos;` and line breaks and tabs as
/// character references; drops characters XML 1.0 cannot carry (control characters
/// other than tab, newline and carriage return).
fn escape(text: &str) -> String {
    let carried: String = text
        .chars()
        .filter(|&c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
        .filter(|&c| c != '\u{FFFE}' && c != '\u{FFFF}')
        .collect();
    super::html::escape(&carried)
        .replace("&#39;", "&apos;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// A run that stopped early is one errored test case, `run status`, in a suite of
/// its own, so CI shows what stopped it; nothing for a run that finished.
fn stopped_suite(model: &ReportModel, out: &mut String) {
    let Some(stop) = &model.stopped else { return };
    let _ = writeln!(
        out,
        "  <testsuite name=\"run status\" tests=\"1\" failures=\"0\" skipped=\"0\" errors=\"1\">\n    \
         <testcase name=\"run status\" classname=\"gonogo.run\"><error message=\"{}\">{}</error></testcase>\n  \
         </testsuite>",
        escape(&stop.headline),
        escape(&stop.detail)
    );
}

/// The suite a finding belongs to.
fn suite_name(finding: &FindingRow) -> &str {
    if finding.phase.is_empty() {
        "run"
    } else {
        &finding.phase
    }
}

/// Render the findings as JUnit XML.
pub(super) fn render(model: &ReportModel) -> String {
    let mut suites: Vec<(&str, Vec<&FindingRow>)> = Vec::new();
    for finding in &model.findings {
        let name = suite_name(finding);
        match suites.iter_mut().find(|(n, _)| *n == name) {
            Some((_, members)) => members.push(finding),
            None => suites.push((name, vec![finding])),
        }
    }
    let count = |members: &[&FindingRow], outcome: OutcomeLabel| {
        members.iter().filter(|f| f.outcome == outcome).count()
    };
    let all: Vec<&FindingRow> = model.findings.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let errors = usize::from(model.stopped.is_some());
    let status = model.stopped.as_ref().map_or_else(
        || text::decision(model.verdict.decision).to_string(),
        |stop| stop.headline.clone(),
    );
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{errors}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&format!(
            "gonogo {} (run {}): {status}",
            model.run.name, model.run.id
        )),
        all.len() + errors,
        count(&all, OutcomeLabel::Fail),
        count(&all, OutcomeLabel::Inconclusive),
        model.run.duration_seconds.unwrap_or(0.0),
        escape(&model.run.started_at)
    );
    stopped_suite(model, &mut out);
    for (name, members) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
            escape(name),
            members.len(),
            count(members, OutcomeLabel::Fail),
            count(members, OutcomeLabel::Inconclusive)
        );
        for finding in members {
            test_case(&mut out, name, finding);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn test_case(out: &mut String, suite: &str, finding: &FindingRow) {
    let severity = match finding.severity {
        SeverityLabel::Blocker => "blocker",
        SeverityLabel::Advisory => "advisory",
    };
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"gonogo.{}\">",
        escape(&text::criterion(finding)),
        escape(suite)
    );
    let detail = format!(
        "observed {} (threshold {}), {} samples, {severity}. Method: {}.",
        finding.observed_text,
        text::threshold(finding),
        finding.samples,
        finding.method
    );
    match finding.outcome {
        OutcomeLabel::Pass => {}
        OutcomeLabel::Fail => {
            let _ = write!(
                out,
                "\n      <failure message=\"{}\" type=\"{severity}\">{}</failure>\n    ",
                escape(&finding.explanation),
                escape(&detail)
            );
        }
        OutcomeLabel::Inconclusive => {
            let _ = write!(
                out,
                "\n      <skipped message=\"{}\"/>\n    ",
                escape(&finding.explanation)
            );
        }
    }
    let _ = writeln!(
        out,
        "<system-out>{}</system-out></testcase>",
        escape(&detail)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_keeps_what_xml_carries_and_drops_the_rest() {
        assert_eq!(
            super::escape("a<b & 'c' \"d\"\n\t\r\u{1b}\u{FFFF}é"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&#10;&#9;&#13;é"
        );
        assert_eq!(super::escape("&#39;"), "&amp;#39;");
    }
}

//! Short texts the terminal and Markdown renderers share: outcome labels, the
//! criterion and threshold cells, error and resource summaries, the run line.
//!
//! Owns: wording of cells only; layout stays with each renderer.

use super::model::{
    DecisionLabel, FindingRow, OutcomeLabel, PhaseSummary, ReportModel, ResourceSummary,
    RunStatusLabel, SeverityLabel,
};
use super::stop::StopKind;
use crate::units::format;

pub(super) fn decision(label: DecisionLabel) -> &'static str {
    match label {
        DecisionLabel::Go => "GO",
        DecisionLabel::NoGo => "NO-GO",
        DecisionLabel::Inconclusive => "INCONCLUSIVE",
    }
}

pub(super) fn outcome(label: OutcomeLabel) -> &'static str {
    match label {
        OutcomeLabel::Pass => "PASS",
        OutcomeLabel::Fail => "FAIL",
        OutcomeLabel::Inconclusive => "INCONCLUSIVE",
    }
}

pub(super) fn severity(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Blocker => "blocker",
        SeverityLabel::Advisory => "advisory",
    }
}

fn status(label: RunStatusLabel) -> &'static str {
    match label {
        RunStatusLabel::Running => "running",
        RunStatusLabel::Completed => "completed",
        RunStatusLabel::Aborted => "aborted",
    }
}

/// `NO-GO  demo (run 3)`; for a run that stopped early, what stopped it instead:
/// `COULD NOT RUN: service exited with exit code 1 before it was ready`.
pub(super) fn headline(model: &ReportModel) -> String {
    match &model.stopped {
        Some(stop) => stop.headline.clone(),
        None => format!(
            "{}  {} (run {})",
            decision(model.verdict.decision),
            model.run.name,
            model.run.id
        ),
    }
}

/// For a run that stopped early, the line under its headline: the run and what the
/// decision on its partial evidence is worth. `None` for a run that finished.
pub(super) fn stopped_line(model: &ReportModel) -> Option<String> {
    let stop = model.stopped.as_ref()?;
    let judged = match stop.kind {
        StopKind::CouldNotRun => "nothing was measured".to_string(),
        StopKind::Aborted => format!(
            "judged on partial evidence: {}",
            decision(model.verdict.decision)
        ),
    };
    Some(format!(
        "{} (run {}); {judged}",
        model.run.name, model.run.id
    ))
}

/// The criterion as written; implicit rules are marked.
pub(super) fn criterion(finding: &FindingRow) -> String {
    if finding.implicit {
        let place = if finding.phase.is_empty() {
            String::new()
        } else {
            format!(" in {}", finding.phase)
        };
        format!("{}{place} (implicit)", finding.criterion)
    } else {
        finding.criterion.clone()
    }
}

/// The observed value, with its confidence interval when it has one:
/// `1.20 MiB/h, 95% CI [1.00 MiB/h, 1.40 MiB/h]`.
pub(super) fn observed(finding: &FindingRow) -> String {
    match &finding.interval {
        Some(interval) => format!(
            "{}, {}% CI {}",
            finding.observed_text,
            format::sig3(interval.confidence * 100.0).trim_end_matches(".0"),
            interval.text
        ),
        None => finding.observed_text.clone(),
    }
}

/// `<= 50.0 ms`.
pub(super) fn threshold(finding: &FindingRow) -> String {
    format!("{} {}", finding.op, finding.threshold_text)
}

/// `0` or `12 (0.600%)`.
pub(super) fn errors(summary: &PhaseSummary) -> String {
    let total = summary.errors.total();
    match summary.error_rate {
        Some(rate) if total > 0 => {
            format!("{} ({})", format::count(total), format::percent(rate))
        }
        _ => format::count(total),
    }
}

/// `status mismatch 10, timeout 2`, or `None` when nothing failed.
pub(super) fn error_kinds(summary: &PhaseSummary) -> Option<String> {
    let e = &summary.errors;
    let kinds: Vec<String> = [
        ("status mismatch", e.status_mismatch),
        ("connect error", e.connect_error),
        ("timeout", e.timeout),
        ("I/O error", e.io_error),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| format!("{name} {}", format::count(n)))
    .collect();
    (!kinds.is_empty()).then(|| kinds.join(", "))
}

/// The planned requests not sent over the whole phase (`134`), `-` without a plan
/// (closed model).
pub(super) fn not_sent(summary: &PhaseSummary) -> String {
    summary.plan.map_or_else(
        || "-".to_string(),
        |plan| format::count(plan.not_sent.total),
    )
}

/// Where every planned request went: `150 planned, 16 sent, 134 not sent (every
/// connection busy until the phase's deadline: 134)`; `None` without a plan.
pub(super) fn plan(summary: &PhaseSummary) -> Option<String> {
    let plan = summary.plan?;
    let n = plan.not_sent;
    let mut text = format!(
        "{} planned, {} sent, {} not sent",
        format::count(plan.planned),
        format::count(plan.sent),
        format::count(n.total)
    );
    let why: Vec<String> = [
        ("every connection busy until the phase's deadline", n.busy),
        ("the run was stopped", n.stopped),
    ]
    .into_iter()
    .filter(|(_, count)| *count > 0)
    .map(|(why, count)| format!("{why}: {}", format::count(count)))
    .collect();
    if !why.is_empty() {
        text.push_str(&format!(" ({})", why.join("; ")));
    }
    Some(text)
}

/// A phase summary's figures in the column order of the phase tables: requests,
/// measured time, planned and achieved rate, errors, response p50/p99/max, service
/// p50/p99, lag p99, generator-bound intervals.
pub(super) fn phase_cells(p: &PhaseSummary) -> Vec<String> {
    vec![
        format::count(p.requests),
        format::seconds(p.measured_seconds),
        rate(p.planned_rate),
        rate(p.achieved_rate),
        errors(p),
        secs(p.response.p50),
        secs(p.response.p99),
        secs(p.response.max),
        secs(p.service.p50),
        secs(p.service.p99),
        secs(p.lag_p99),
        generator(p),
    ]
}

pub(super) fn generator(summary: &PhaseSummary) -> String {
    format!(
        "{} of {}",
        summary.generator_bound_intervals, summary.intervals
    )
}

pub(super) fn rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_string(), format::per_second)
}

pub(super) fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), format::seconds)
}

/// `rss max 40.6 MiB · cpu mean 0.0500 cores · fds max 12 · threads max 5 · 10 samples`.
pub(super) fn resources(summary: &ResourceSummary) -> String {
    let opt = |v: Option<u64>| v.map_or_else(|| "-".to_string(), format::count);
    format!(
        "rss max {} · cpu mean {} · fds max {} · threads max {} · {} samples",
        summary
            .rss_max_bytes
            .map_or_else(|| "-".to_string(), |b| format::bytes(b as f64)),
        summary
            .cpu_mean_cores
            .map_or_else(|| "-".to_string(), format::cores),
        opt(summary.fds_max),
        opt(summary.threads_max),
        format::count(summary.samples)
    )
}

/// `completed · started 2023-11-14T22:13:20.000Z · 15.0 s · gonogo 0.1.0 · spec demo.toml`.
pub(super) fn run_line(model: &ReportModel, code: fn(&str) -> String) -> String {
    run_line_with(model, code, str::to_string)
}

/// [`run_line`] with the recorded strings outside `code` (start time, version, host)
/// passed through `plain`, for a renderer that must escape them.
pub(super) fn run_line_with(
    model: &ReportModel,
    code: fn(&str) -> String,
    plain: fn(&str) -> String,
) -> String {
    let run = &model.run;
    let mut parts = vec![
        status(run.status).to_string(),
        format!("started {}", plain(&run.started_at)),
    ];
    if let Some(duration) = run.duration_seconds {
        parts.push(format!("took {}", format::seconds(duration)));
    }
    parts.push(format!("gonogo {}", plain(&run.tool_version)));
    let short_hash: String = run.spec_hash.chars().take(12).collect();
    parts.push(format!(
        "spec {} ({})",
        code(&run.spec_path),
        code(&short_hash)
    ));
    if let Some(commit) = &run.git_commit {
        let short: String = commit.chars().take(12).collect();
        parts.push(format!("commit {}", code(&short)));
    }
    parts.push(format!(
        "host {} ({} cores, {})",
        plain(&run.host.hostname),
        run.host.cores,
        format::bytes(run.host.memory_bytes as f64)
    ));
    parts.join(" · ")
}

/// Event time on the run's timeline: `12.345 s`.
pub(super) fn at(seconds: f64) -> String {
    format!("{seconds:.3} s")
}

/// `text` (made printable) in lines of at most `width` characters, broken at spaces
/// (kept as they are where no line breaks); a word longer than a line is cut. The
/// first line starts with `first`, the others with `rest`; each ends with a newline.
pub(super) fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let len = |s: &str| s.chars().count();
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for (gap, word) in words(&format::printable(text)) {
        let gap = if empty { "" } else { gap.as_str() };
        if !empty && len(&line) + len(gap) + len(&word) > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        let gap = if empty { "" } else { gap };
        line.push_str(gap);
        let mut word = word.as_str();
        while len(&line) + len(word) > width {
            let room = width.saturating_sub(len(&line)).max(1);
            let cut = word.char_indices().nth(room).map_or(word.len(), |(i, _)| i);
            line.push_str(&word[..cut]);
            word = &word[cut..];
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// The words of `text`, each with the run of spaces before it.
fn words(text: &str) -> Vec<(String, String)> {
    let mut words: Vec<(String, String)> = Vec::new();
    let mut gap = String::new();
    let mut word = String::new();
    for c in text.chars() {
        if c == ' ' {
            if !word.is_empty() {
                words.push((std::mem::take(&mut gap), std::mem::take(&mut word)));
            }
            gap.push(c);
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push((gap, word));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::super::ReportModel;
    use super::{not_sent, plan, wrap};
    use crate::model::NotSent;

    /// The GO fixture with every interval given an account of its plan: each
    /// interval's planned requests all sent, but the last gives up `busy`.
    fn accounted(busy: u64) -> ReportModel {
        let (mut evidence, _) = crate::evaluate::fixtures::go_run();
        for interval in &mut evidence.intervals {
            interval.stats.sent = interval.stats.planned;
            interval.stats.not_sent = Some(NotSent::default());
        }
        if let Some(last) = evidence.intervals.last_mut() {
            last.stats.sent -= busy;
            last.stats.not_sent = Some(NotSent {
                busy,
                ..NotSent::default()
            });
        }
        let verdict = crate::verdict::decide(&[]);
        ReportModel::build(&evidence, &[], &verdict)
    }

    #[test]
    fn the_plan_line_says_where_every_planned_request_went() {
        let model = accounted(7);
        let summary = model.phases.last().unwrap();
        let account = summary.plan.unwrap();
        assert_eq!(account.planned, account.sent + account.not_sent.total);
        assert_eq!((account.not_sent.busy, account.not_sent.stopped), (7, 0));
        assert_eq!(not_sent(summary), "7");
        let line = plan(summary).unwrap();
        assert!(
            line.ends_with(
                " sent, 7 not sent (every connection busy until the phase's deadline: 7)"
            ),
            "{line}"
        );
        let all_sent = accounted(0);
        let line = plan(&all_sent.phases[0]).unwrap();
        assert!(
            line.ends_with(", 0 not sent"),
            "no reasons for nothing: {line}"
        );
        // Without an account (runs stored before it, the closed model): no plan.
        let (evidence, _) = crate::evaluate::fixtures::go_run();
        let old = ReportModel::build(&evidence, &[], &crate::verdict::decide(&[]));
        assert_eq!(old.phases[0].plan, None);
        assert_eq!(
            (plan(&old.phases[0]), not_sent(&old.phases[0])),
            (None, "-".into())
        );
    }

    #[test]
    fn wrap_breaks_at_spaces_keeps_double_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("GO  demo (run 7)", "", "  ", 100),
            "GO  demo (run 7)\n"
        );
        assert_eq!(wrap("aaa bbb ccc", "- ", "  ", 9), "- aaa bbb\n  ccc\n");
        assert_eq!(wrap("abcdefghij", "", "", 4), "abcd\nefgh\nij\n");
        assert_eq!(wrap("a\u{1b}b", "", "", 40), "a\\u{1b}b\n");
    }
}

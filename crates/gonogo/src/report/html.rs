//! The HTML renderer: one self-contained page — verdict banner, run facts, findings
//! linked to the charts and windows they read, the timeline charts as inline SVG, key
//! figures per phase, resources, events.
//!
//! Owns: the page layout, its stylesheet, and HTML escaping. The page has no script
//! and makes no network request (no fonts, no CDN): a Content-Security-Policy of
//! `default-src 'none'` says so to the browser too, so even a string that slipped
//! through escaping could neither run nor fetch anything. Every string that came from
//! the spec, the service or the store goes through [`escape`].

use std::fmt::Write;

use super::RESPONSE_VS_SERVICE;
use super::model::{
    ChartData, DecisionLabel, FindingRow, OutcomeLabel, ReportModel, RunStatusLabel, SeriesData,
    SeverityLabel,
};
use super::stop::StopKind;
use super::svg::{self, Overlay, PALETTE};
use super::text;
use crate::units::format;

/// Escape text for HTML element content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = include_str!("html.css");

/// Render the report as one self-contained HTML page.
pub(super) fn render(model: &ReportModel) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = match &model.stopped {
        Some(stop) => format!(
            "{} — {} (run {})",
            stop.headline, model.run.name, model.run.id
        ),
        None => format!(
            "{} — {} (run {})",
            text::decision(model.verdict.decision),
            model.run.name,
            model.run.id
        ),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"gonogo {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&model.run.tool_version),
        escape(&title)
    );
    banner(model, &mut out);
    out.push_str("<main>\n");
    facts(model, &mut out);
    findings(model, &mut out);
    charts(model, &mut out);
    super::capacity_chart::render(&model.capacity, &mut out);
    super::soak_chart::render(&model.soak, model.timeline.point_cap, &mut out);
    super::recovery_chart::render(&model.recovery, &mut out);
    out.push_str(&super::scaling_chart::section(model));
    phases(model, &mut out);
    super::integrity::html(&model.integrity, &mut out);
    super::bad_input::html(&model.bad_input, &mut out);
    events(model, &mut out);
    let _ = write!(
        out,
        "</main>\n<footer>Rendered by gonogo {} from the evidence store (format {}). \
         This page has no scripts and loads nothing from the network.</footer>\n</body>\n</html>\n",
        escape(&model.run.tool_version),
        escape(&model.format_version)
    );
    out
}

fn decision_class(label: DecisionLabel) -> &'static str {
    match label {
        DecisionLabel::Go => "go",
        DecisionLabel::NoGo => "nogo",
        DecisionLabel::Inconclusive => "inconclusive",
    }
}

fn banner(model: &ReportModel, out: &mut String) {
    let decision = model.verdict.decision;
    let (class, label, sub) = match &model.stopped {
        Some(stop) => {
            let label = match stop.kind {
                StopKind::CouldNotRun => "COULD NOT RUN",
                StopKind::Aborted => "ABORTED",
            };
            let line = text::stopped_line(model).unwrap_or_default();
            ("stopped", label, format!("{} · {}", stop.headline, line))
        }
        None => (
            decision_class(decision),
            text::decision(decision),
            format!("run {} · {}", model.run.id, status(model.run.status)),
        ),
    };
    let _ = write!(
        out,
        "<header class=\"banner {class}\">\n<div class=\"decision\">{label}</div>\n<div class=\"what\"><h1>{}</h1><div class=\"sub\">{}</div></div>\n",
        escape(&model.run.name),
        escape(&sub)
    );
    if let Some(stop) = model.stopped.as_ref().filter(|s| !s.detail.is_empty()) {
        let _ = writeln!(
            out,
            "<pre class=\"stop-detail\">{}</pre>",
            escape(&stop.detail)
        );
    }
    out.push_str("<ul class=\"reasons\">");
    for reason in &model.verdict.reasons {
        let _ = write!(out, "<li>{}</li>", escape(reason));
    }
    out.push_str("</ul>\n</header>\n");
}

fn status(label: RunStatusLabel) -> &'static str {
    match label {
        RunStatusLabel::Running => "running (not finished)",
        RunStatusLabel::Completed => "completed",
        RunStatusLabel::Aborted => "aborted (evidence is partial)",
    }
}

fn facts(model: &ReportModel, out: &mut String) {
    let run = &model.run;
    let mut rows: Vec<(&str, String)> = vec![
        ("status", status(run.status).to_string()),
        ("spec", format!("<code>{}</code>", escape(&run.spec_path))),
        (
            "spec SHA-256",
            format!("<code>{}</code>", escape(&run.spec_hash)),
        ),
        ("gonogo", escape(&run.tool_version)),
        (
            "git commit",
            run.git_commit.as_ref().map_or_else(
                || "none (not in a repository)".to_string(),
                |c| format!("<code>{}</code>", escape(c)),
            ),
        ),
        (
            "host",
            format!(
                "{} · {} cores · {} · {}",
                escape(&run.host.hostname),
                run.host.cores,
                format::bytes(run.host.memory_bytes as f64),
                escape(&run.host.kernel)
            ),
        ),
        ("started", escape(&run.started_at)),
    ];
    rows.push((
        "ended",
        run.ended_at
            .as_ref()
            .map_or_else(|| "not recorded".to_string(), |e| escape(e)),
    ));
    rows.push(("took", text::secs(run.duration_seconds)));
    out.push_str("<section class=\"facts\"><dl>");
    for (name, value) in rows {
        let _ = write!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>");
    }
    out.push_str("</dl></section>\n");
}

fn outcome_badge(outcome: OutcomeLabel) -> String {
    let class = match outcome {
        OutcomeLabel::Pass => "pass",
        OutcomeLabel::Fail => "fail",
        OutcomeLabel::Inconclusive => "inconclusive",
    };
    format!(
        "<span class=\"badge {class}\">{}</span>",
        text::outcome(outcome)
    )
}

/// `5.00 s – 15.0 s`, the window's stretch of the run.
fn window_text(finding: &FindingRow) -> Option<String> {
    let window = finding.window.as_ref()?;
    let end = window
        .end_seconds
        .map_or_else(|| "end".to_string(), format::seconds);
    let mut text = format!("{} – {end}", format::seconds(window.start_seconds));
    if let (Some(first), Some(last)) = (window.first_interval, window.last_interval) {
        let _ = write!(text, " (intervals {first}–{last})");
    }
    Some(text)
}

fn findings(model: &ReportModel, out: &mut String) {
    out.push_str("<section><h2>Findings</h2>\n");
    if model.findings.is_empty() {
        out.push_str("<p>No findings.</p></section>\n");
        return;
    }
    out.push_str(
        "<table class=\"findings\"><thead><tr><th>#</th><th>result</th><th>criterion</th>\
         <th>phase</th><th class=\"num\">observed</th><th>threshold</th><th class=\"num\">samples</th>\
         <th>evidence</th></tr></thead><tbody>\n",
    );
    for (i, f) in model.findings.iter().enumerate() {
        let n = i + 1;
        let severity = match f.severity {
            SeverityLabel::Blocker => "blocker",
            SeverityLabel::Advisory => "advisory",
        };
        let phase = match &f.workload {
            Some(workload) => format!("{} / {}", escape(&f.phase), escape(workload)),
            None => escape(&f.phase),
        };
        let window = window_text(f).unwrap_or_else(|| "whole run".to_string());
        let evidence = match &f.chart {
            Some(chart) => format!(
                "<a href=\"#chart-{}\">{} chart</a><br><span class=\"muted\">{}</span>",
                escape(chart),
                escape(chart),
                escape(&window)
            ),
            None => format!("<span class=\"muted\">{}</span>", escape(&window)),
        };
        let _ = write!(
            out,
            "<tr id=\"finding-{n}\" class=\"{severity}\"><td class=\"num\">F{n}</td><td>{} <span class=\"sev\">{severity}</span></td>\
             <td><div class=\"crit\">{}</div><div class=\"why\">{}</div><div class=\"method\">method: {}</div></td>\
             <td>{phase}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{evidence}</td></tr>",
            outcome_badge(f.outcome),
            escape(&text::criterion(f)),
            escape(&f.explanation),
            escape(&f.method),
            escape(&f.observed_text),
            escape(&text::threshold(f)),
            format::count(f.samples),
        );
        out.push('\n');
    }
    out.push_str("</tbody></table></section>\n");
}

/// The right end of the time axis: the run's length, or the last thing drawn.
fn x_max(model: &ReportModel) -> f64 {
    let timeline = &model.timeline;
    let ends = timeline
        .phases
        .iter()
        .flat_map(|p| [Some(p.start_seconds), p.end_seconds])
        .flatten();
    let points = timeline
        .charts
        .iter()
        .flat_map(|c| &c.series)
        .filter_map(|s| s.points.last().map(|p| p[0]));
    ends.chain(points)
        .chain(model.run.duration_seconds)
        .fold(1.0, f64::max)
}

fn overlays(model: &ReportModel, chart: &ChartData, x_max: f64) -> Vec<Overlay> {
    model
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.chart.as_deref() == Some(chart.id.as_str()))
        .filter_map(|(i, f)| {
            let window = f.window.as_ref()?;
            Some(Overlay {
                label: format!("F{}", i + 1),
                start: window.start_seconds,
                end: window.end_seconds.unwrap_or(x_max),
                failed: f.outcome == OutcomeLabel::Fail,
            })
        })
        .collect()
}

fn charts(model: &ReportModel, out: &mut String) {
    let timeline = &model.timeline;
    let x_max = x_max(model);
    out.push_str("<section><h2>Timeline</h2>\n<p class=\"note\">All charts share the run's time axis. \
         Shaded bands are phases; the darker part of a band is its warm-up, drawn but excluded from \
         every statistic. Outlined windows (F1, F2, …) are the stretches the findings read; red-tinted \
         windows marked fault are faults in force.</p>\n");
    for chart in &timeline.charts {
        let _ = write!(
            out,
            "<figure id=\"chart-{}\"><h3>{}</h3>",
            escape(&chart.id),
            escape(&chart.title)
        );
        out.push_str(&svg::time_chart(
            chart,
            &timeline.phases,
            &timeline.faults,
            x_max,
            &overlays(model, chart, x_max),
        ));
        out.push_str("<ul class=\"legend\">");
        for (i, series) in chart.series.iter().enumerate() {
            let _ = write!(
                out,
                "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
                PALETTE[i % PALETTE.len()],
                escape(&series.name)
            );
        }
        out.push_str("</ul>");
        let _ = writeln!(
            out,
            "<figcaption>{}. {}</figcaption></figure>",
            escape(&chart.method),
            escape(&sampling_caption(chart, timeline.point_cap))
        );
    }
    out.push_str("</section>\n");
}

/// What the chart shows of its evidence: every point, or a downsampled line.
fn sampling_caption(chart: &ChartData, cap: u32) -> String {
    downsampling_note(
        &chart.series.iter().collect::<Vec<_>>(),
        cap,
        "Every recorded point is drawn.",
        "Figures in the tables use the full evidence.",
    )
}

/// `every` when no line of `series` was downsampled, else which were, from how many
/// points to how many, followed by `full` (what still reads every point).
pub(super) fn downsampling_note(
    series: &[&SeriesData],
    cap: u32,
    every: &str,
    full: &str,
) -> String {
    let reduced: Vec<String> = series
        .iter()
        .filter(|s| s.downsampled())
        .map(|s| {
            format!(
                "{} from {} to {} points",
                s.name,
                format::count(u64::from(s.source_points)),
                format::count(s.points.len() as u64)
            )
        })
        .collect();
    if reduced.is_empty() {
        every.to_string()
    } else {
        format!(
            "Downsampled for display with largest-triangle-three-buckets (at most {cap} points a \
             line): {}. {full}",
            reduced.join("; ")
        )
    }
}

fn phases(model: &ReportModel, out: &mut String) {
    if model.phases.is_empty() {
        return;
    }
    out.push_str(
        "<section><h2>Key figures per phase</h2><p class=\"note\">Warm-up excluded.</p>\
         <table><thead><tr><th>phase</th><th>workload</th><th class=\"num\">requests</th>\
         <th class=\"num\">measured</th><th class=\"num\">planned</th><th class=\"num\">achieved</th>\
         <th class=\"num\">errors</th><th class=\"num\">response p50</th><th class=\"num\">p99</th>\
         <th class=\"num\">max</th><th class=\"num\">service p50</th><th class=\"num\">p99</th>\
         <th class=\"num\">lag p99</th><th class=\"num\">generator-bound</th></tr></thead><tbody>\n",
    );
    for p in &model.phases {
        let cells = text::phase_cells(p);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>",
            escape(&p.phase),
            escape(&p.workload)
        );
        for cell in cells {
            let _ = write!(out, "<td class=\"num\">{}</td>", escape(&cell));
        }
        out.push_str("</tr>\n");
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"note\">Note: {}.</p>",
        escape(RESPONSE_VS_SERVICE)
    );
    for p in &model.phases {
        if let Some(kinds) = text::error_kinds(p) {
            let _ = write!(
                out,
                "<p class=\"note\">Errors in {} / {}: {}.</p>",
                escape(&p.phase),
                escape(&p.workload),
                escape(&kinds)
            );
        }
    }
    out.push_str("<h3>Resources of the service</h3><table><tbody>");
    for r in &model.resources {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&r.phase),
            escape(&text::resources(r))
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn events(model: &ReportModel, out: &mut String) {
    if !model.events.is_empty() {
        out.push_str("<section><h2>Events</h2><table class=\"events\"><tbody>");
        for event in &model.events {
            let _ = write!(
                out,
                "<tr><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
                text::at(event.at_seconds),
                escape(&event.kind),
                escape(&event.detail)
            );
        }
        out.push_str("</tbody></table></section>\n");
    }
    if !model.artifacts.is_empty() {
        out.push_str("<section><h2>Artifacts</h2><ul>");
        for artifact in &model.artifacts {
            let _ = write!(
                out,
                "<li>{}: <code>{}</code></li>",
                escape(&artifact.name),
                escape(&artifact.path)
            );
        }
        out.push_str("</ul></section>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_in_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain µs"), "plain µs");
    }
}

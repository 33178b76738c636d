//! Faults in the report: their windows on the shared time axis, and a chart and table
//! of the recovery time after each, "not recovered" shown as such.
//!
//! Owns: the fault bands (from the `fault_applied` / `fault_removed` events) and the
//! recovery rows (from `evaluate::fault_recoveries`, exactly what `recovery.time`
//! reads), and their SVG and table. Does not own: judging recovery (`evaluate`).
//! Pure: no I/O, no clock.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::evaluate;
use crate::model::{EventKind, RunEvidence};
use crate::plan::Plan;

use super::html::escape;
use super::plot::Frame;
use super::svg::{PALETTE, Scale};
use crate::units::format;

/// A fault's window on the run's time axis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FaultBand {
    /// The fault as written (`chaos: kill at 12 s`).
    pub fault: String,
    /// Its phase.
    pub phase: String,
    /// When it was applied, seconds since the run started.
    pub start_seconds: f64,
    /// When it ended; null when the run stopped while it was in force.
    pub end_seconds: Option<f64>,
}

/// The recovery after one fault.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecoveryRow {
    /// The fault as written.
    pub fault: String,
    /// Its phase.
    pub phase: String,
    /// When the fault ended, seconds since the run started.
    pub ended_seconds: f64,
    /// Whether the service met the fault's `recovered_when` conditions before the
    /// phase's last interval.
    pub recovered: bool,
    /// Seconds from the fault's end to recovery; when not recovered, the time that was
    /// left in the phase (the recovery took at least that long).
    pub seconds: f64,
}

/// The fault windows of a run, in time order.
pub(super) fn bands(evidence: &RunEvidence) -> Vec<FaultBand> {
    let mut bands: Vec<FaultBand> = Vec::new();
    for event in &evidence.events {
        match &event.kind {
            EventKind::FaultApplied { fault, phase } => bands.push(FaultBand {
                fault: fault.clone(),
                phase: phase.clone(),
                start_seconds: event.at.as_secs_f64(),
                end_seconds: None,
            }),
            EventKind::FaultRemoved { fault, phase, .. } => {
                if let Some(band) = bands
                    .iter_mut()
                    .rev()
                    .find(|b| &b.fault == fault && &b.phase == phase && b.end_seconds.is_none())
                {
                    band.end_seconds = Some(event.at.as_secs_f64());
                }
            }
            _ => {}
        }
    }
    bands
}

/// One row per fault that ended, for phases with faults in the plan.
pub(super) fn rows(evidence: &RunEvidence, plan: Option<&Plan>) -> Vec<RecoveryRow> {
    let Some(plan) = plan.filter(|p| !p.faults.is_empty()) else {
        return Vec::new();
    };
    evidence
        .phases
        .iter()
        .filter(|phase| plan.faults.iter().any(|f| f.phase == phase.name))
        .flat_map(|phase| {
            let (recoveries, _) = evaluate::fault_recoveries(evidence, phase, &plan.faults);
            recoveries.into_iter().map(|r| {
                let (recovered, time) = match r.recovery {
                    Ok(t) => (true, t),
                    Err(t) => (false, t),
                };
                RecoveryRow {
                    fault: r.label,
                    phase: phase.name.clone(),
                    ended_seconds: r.ended.as_secs_f64(),
                    recovered,
                    seconds: time.as_secs_f64(),
                }
            })
        })
        .collect()
}

/// The recovery chart's headline in words: each fault's recovery; `None` without
/// faults that ended.
pub(super) fn headline(rows: &[RecoveryRow]) -> Option<String> {
    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            if r.recovered {
                format!("{} recovered in {}", r.fault, format::seconds(r.seconds))
            } else {
                format!(
                    "{} not recovered (≥ {})",
                    r.fault,
                    format::seconds(r.seconds)
                )
            }
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Recovery after faults: {}", parts.join("; ")))
}

/// The recovery section of the HTML page; nothing without faults that ended.
pub(super) fn render(rows: &[RecoveryRow], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<section class=\"recovery\"><h2>Recovery after faults</h2>\n\
         <figure id=\"chart-recovery\" class=\"recovery-chart\"><h3>Recovery time per fault</h3>",
    );
    chart(rows, out);
    out.push_str(
        "<table class=\"recovery-table\"><thead><tr><th>fault</th><th>phase</th>\
         <th class=\"num\">ended at</th><th class=\"num\">recovery</th></tr></thead><tbody>",
    );
    for row in rows {
        let recovery = if row.recovered {
            format::seconds(row.seconds)
        } else {
            format!("not recovered (≥ {})", format::seconds(row.seconds))
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if row.recovered {
                "recovered"
            } else {
                "not-recovered"
            },
            escape(&row.fault),
            escape(&row.phase),
            escape(&format::seconds(row.ended_seconds)),
            escape(&recovery)
        );
    }
    out.push_str(
        "</tbody></table><figcaption>From each fault's end (lifted, resumed, or the service \
         ready again) to the end of the first interval after it that meets the fault's \
         recovered_when conditions; resolution one interval. A fault the service had not \
         recovered from by the end of its phase is drawn hatched up to the time that was left: \
         its recovery took at least that long. Every fault is drawn.</figcaption></figure></section>\n",
    );
}

fn chart(rows: &[RecoveryRow], out: &mut String) {
    let row_height = 26.0;
    let max = rows.iter().map(|r| r.seconds).fold(0.0, f64::max);
    // A horizontal bar chart: the frame's value axis is turned into the bars' length.
    let height = 60.0 + row_height * rows.len() as f64;
    let frame = Frame::new(height, "seconds", 0.0, max);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart recovery-bars" viewBox="0 0 960 {height}" role="img" aria-label="recovery time per fault">"#
    );
    let (x0, x1) = frame.x_range();
    let (label_w, x0) = (200.0, x0 + 140.0);
    // The bars end by 70% of the width so the longest one's label fits after it.
    let x = Scale::new((0.0, nice_top(max)), (x0, x0 + (x1 - x0) * 0.7));
    let ticks = super::svg::nice_step(nice_top(max), 6);
    let mut t = 0.0;
    while t <= nice_top(max) + 1e-9 {
        let px = x.map(t);
        let label = if t == 0.0 {
            "0 s".to_string()
        } else {
            format::seconds(t)
        };
        let _ = write!(
            out,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="14" y2="{:.1}" class="grid"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
            height - 34.0,
            height - 20.0,
            escape(&label)
        );
        t += ticks;
    }
    for (i, row) in rows.iter().enumerate() {
        let y = 18.0 + row_height * i as f64;
        let width = (x.map(row.seconds) - x0).max(2.0);
        let (class, fill, note) = if row.recovered {
            ("bar", PALETTE[4], format::seconds(row.seconds))
        } else {
            (
                "bar not-recovered",
                "url(#hatch)",
                format!("not recovered (≥ {})", format::seconds(row.seconds)),
            )
        };
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text><rect x="{x0:.1}" y="{y:.1}" width="{width:.1}" height="{:.1}" class="{class}" fill="{fill}"><title>{}</title></rect><text x="{:.1}" y="{:.1}" class="wlabel">{}</text>"#,
            x0 - 6.0,
            y + 14.0,
            escape(&shorten(&row.fault, label_w)),
            row_height - 8.0,
            escape(&format!("{}: {note}", row.fault)),
            x0 + width + 4.0,
            y + 14.0,
            escape(&note)
        );
    }
    let _ = write!(
        out,
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f5d5d2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b42318" stroke-width="2"/></pattern></defs><text x="{x1}" y="{}" text-anchor="end" class="axis">seconds from the fault's end to recovery</text></svg>"##,
        height - 4.0
    );
}

/// The axis end: the largest value rounded up, at least one second.
fn nice_top(max: f64) -> f64 {
    let step = super::svg::nice_step(max.max(1.0), 6);
    ((max.max(1.0) / step).ceil() * step).max(step)
}

/// A label cut to about `width` pixels of 11 px text.
fn shorten(text: &str, width: f64) -> String {
    let keep = (width / 6.5) as usize;
    if text.chars().count() <= keep {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(keep.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_not_recovered_from_is_shown_as_such() {
        let rows = [
            RecoveryRow {
                fault: "chaos: latency 200ms".into(),
                phase: "chaos".into(),
                ended_seconds: 12.0,
                recovered: true,
                seconds: 2.0,
            },
            RecoveryRow {
                fault: "chaos: kill <at> 60%".into(),
                phase: "chaos".into(),
                ended_seconds: 20.0,
                recovered: false,
                seconds: 5.0,
            },
        ];
        let mut html = String::new();
        render(&rows, &mut html);
        assert!(html.contains("id=\"chart-recovery\""));
        assert!(html.contains("not recovered (≥ 5.00 s)"), "{html}");
        assert!(html.contains("class=\"bar not-recovered\""));
        assert!(!html.contains("<at>"), "labels are escaped");
        assert_eq!(shorten("abcdefghij", 26.0), "abc…");
    }
}

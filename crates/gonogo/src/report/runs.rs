//! The list of stored runs (`gonogo runs`), as an aligned plain-text table.
//!
//! Owns: its columns. Names and paths from specs are shown printable (control
//! characters escaped), like every string that did not come from gonogo itself. A run
//! whose writer is gone shows as `aborted (writer gone)`.

use crate::model::RunSummary;
use crate::units::format;

use super::table::{Align, Table};

/// One line per run, oldest first, columns aligned to their widest cell.
pub fn runs_table(runs: &[RunSummary]) -> String {
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("STATUS", Align::Left),
        ("VERDICT", Align::Left),
        ("JUDGED", Align::Right),
        ("STARTED", Align::Left),
        ("NAME", Align::Left),
        ("SPEC", Align::Left),
    ]);
    for run in runs {
        table.row(vec![
            run.id.to_string(),
            status(run),
            run.decision.map_or("-", |d| d.as_str()).to_string(),
            judged(run.judgements),
            format::iso8601_utc(run.started_at_ms),
            format::printable(&run.name),
            format::printable(&run.spec_path),
        ]);
    }
    table.render("")
}

/// The run's status; `aborted (writer gone)` for a run whose gonogo stopped recording
/// without saying why (killed, crashed, its store could not be written).
fn status(run: &RunSummary) -> String {
    if run.writer_gone {
        format!("{} (writer gone)", run.status.as_str())
    } else {
        run.status.as_str().to_string()
    }
}

/// `1×`, `3×` (the latest of which the verdict shows), or `-` when never judged.
fn judged(count: u32) -> String {
    if count == 0 {
        "-".to_string()
    } else {
        format!("{count}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decision, RunStatus};

    fn run(id: i64, name: &str) -> RunSummary {
        RunSummary {
            id,
            name: name.to_string(),
            status: RunStatus::Completed,
            writer_gone: false,
            decision: Some(Decision::NoGo),
            started_at_ms: 1_700_000_000_000,
            ended_at_ms: None,
            judgements: 2,
            spec_path: "examples/demo.toml".into(),
        }
    }

    #[test]
    fn columns_line_up_whatever_the_widths_and_names_cannot_inject_escapes() {
        let text = runs_table(&[run(1, "demo"), run(12, "a much longer name\u{1b}[2J")]);
        let lines: Vec<&str> = text.lines().collect();
        let spec_at = |line: &str| line.find("examples/").unwrap_or(0);
        assert_eq!(spec_at(lines[1]), spec_at(lines[2]), "{text}");
        assert!(lines[0].starts_with("ID  STATUS"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn a_run_whose_writer_is_gone_says_so_in_its_status() {
        let gone = RunSummary {
            status: RunStatus::Aborted,
            writer_gone: true,
            decision: None,
            judgements: 0,
            ..run(3, "killed")
        };
        let text = runs_table(&[gone, run(2, "ok")]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("3   aborted (writer gone)  -") && lines[1].contains(" - "),
            "{text}"
        );
        assert!(lines[2].starts_with("2   completed "), "{text}");
    }
}

//! The live progress display, this front end's [`RunObserver`]: phase,
//! elapsed/planned, the last interval's rate, the p99 of the phase's measured
//! intervals so far, and errors so far.
//!
//! On a terminal it is an indicatif bar on stderr, redrawn once per interval (not per
//! workload record, which made it flicker). Without a terminal (CI logs, pipes) it
//! prints plain lines on stderr, no escape codes: one when a phase starts, one every
//! [`LINE_EVERY`] of measured load, one when it ends. Warm-up intervals are shown as
//! warm-up and kept out of the p99, as they are kept out of the statistics.
//! Names from the spec are shown with control characters escaped.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{IntervalRecord, IntervalStats, Plan, Record, RunObserver, format};

/// How often a plain progress line is printed without a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(10);

/// One phase's figures so far, from the records it sent.
#[derive(Debug, Default)]
struct Tally {
    phase: String,
    planned: Duration,
    /// The interval being summed over workloads (or the last one, once closed).
    current: Option<Current>,
    /// Measured (non-warm-up) intervals merged.
    measured: IntervalStats,
    /// Offset of the last closed interval's end from the phase's start.
    done: Duration,
}

/// One interval summed over its workloads.
#[derive(Debug)]
struct Current {
    index: u32,
    length: Duration,
    warmup: bool,
    stats: IntervalStats,
    /// Already folded into the phase's totals.
    closed: bool,
}

impl Tally {
    fn new(phase: &str, planned: Duration) -> Self {
        Tally {
            phase: phase.to_string(),
            planned,
            ..Tally::default()
        }
    }

    /// Take one interval record of a workload. Returns true when it began a new
    /// interval, i.e. the previous one is now complete over every workload.
    fn add(&mut self, interval: &IntervalRecord) -> bool {
        let same = matches!(&self.current, Some(c) if c.index == interval.index && !c.closed);
        let closed = !same && self.current.as_ref().is_some_and(|c| !c.closed);
        if !same {
            self.close();
            self.current = Some(Current {
                index: interval.index,
                length: interval.length,
                warmup: interval.warmup,
                stats: IntervalStats::default(),
                closed: false,
            });
        }
        if let Some(current) = &mut self.current {
            current.stats.merge(&interval.stats);
        }
        closed
    }

    /// Fold the interval being summed into the phase's totals (once).
    fn close(&mut self) {
        if let Some(current) = &mut self.current
            && !current.closed
        {
            if !current.warmup {
                self.measured.merge(&current.stats);
            }
            self.done = current.length * (current.index + 1);
            current.closed = true;
        }
    }

    /// `12/23 s  480 req/s  p99 12.3 ms  errors 0` (or `warm-up` in place of the p99).
    fn summary(&self) -> String {
        let (rate, warmup) = match &self.current {
            Some(c) => (
                c.stats.outcomes.total() as f64 / c.length.as_secs_f64().max(1e-9),
                c.warmup,
            ),
            None => (0.0, false),
        };
        let p99 = if self.measured.outcomes.total() == 0 {
            if warmup { "warm-up" } else { "p99 -" }.to_string()
        } else {
            let micros = self.measured.response.value_at_quantile(0.99);
            format!("p99 {}", format::seconds(micros as f64 / 1e6))
        };
        let open = self.current.as_ref().filter(|c| !c.closed && !c.warmup);
        let errors =
            self.measured.outcomes.failed() + open.map_or(0, |c| c.stats.outcomes.failed());
        format!(
            "{:.0}/{:.0} s  {rate:.0} req/s  {p99}  errors {errors}",
            self.done.as_secs_f64(),
            self.planned.as_secs_f64(),
        )
    }
}

/// Where progress goes.
#[derive(Debug)]
enum Display {
    Bar(Option<ProgressBar>),
    /// Plain lines; the measured offset of the last line printed.
    Lines(Duration),
}

/// The live progress of a run.
#[derive(Debug)]
pub struct Progress {
    display: Display,
    planned: Vec<(String, Duration)>,
    tally: Option<Tally>,
}

impl Progress {
    /// A bar when `terminal`, else plain lines.
    pub fn new(plan: &Plan, terminal: bool) -> Self {
        Progress {
            display: if terminal {
                Display::Bar(None)
            } else {
                Display::Lines(Duration::ZERO)
            },
            planned: plan
                .phases
                .iter()
                .map(|p| (p.name.clone(), p.total()))
                .collect(),
            tally: None,
        }
    }

    fn started(&mut self, name: &str, parent: Option<&str>) {
        // A ramp step lasts as long as its ramp phase's plan says one step does.
        let planned_name = parent.unwrap_or(name);
        let total = self
            .planned
            .iter()
            .find(|(phase, _)| phase == planned_name)
            .map_or(Duration::ZERO, |(_, total)| *total);
        self.ended();
        let shown = format::printable(name);
        match &mut self.display {
            Display::Bar(bar) => *bar = Some(new_bar(&shown, total)),
            Display::Lines(last) => {
                *last = Duration::ZERO;
                line(&format!(
                    "phase {shown} started ({} planned)",
                    format::duration(total)
                ));
            }
        }
        self.tally = Some(Tally::new(&shown, total));
    }

    fn interval(&mut self, interval: &IntervalRecord) {
        let Some(tally) = &mut self.tally else {
            return;
        };
        if !tally.add(interval) {
            return;
        }
        match &mut self.display {
            Display::Bar(Some(bar)) => {
                bar.set_position(millis(tally.done));
                bar.set_message(tally.summary());
            }
            Display::Bar(None) => {}
            Display::Lines(last) => {
                if tally.done >= *last + LINE_EVERY {
                    *last = tally.done;
                    line(&format!("phase {}  {}", tally.phase, tally.summary()));
                }
            }
        }
    }

    fn ended(&mut self) {
        let Some(mut tally) = self.tally.take() else {
            return;
        };
        tally.close();
        match &mut self.display {
            Display::Bar(bar) => {
                if let Some(bar) = bar.take() {
                    bar.set_message(tally.summary());
                    bar.finish();
                }
            }
            Display::Lines(_) => {
                line(&format!("phase {} ended  {}", tally.phase, tally.summary()));
            }
        }
    }
}

impl RunObserver for Progress {
    fn observe(&mut self, record: &Record) {
        match record {
            Record::PhaseStarted(phase) => self.started(&phase.name, phase.parent.as_deref()),
            Record::Interval(interval) => self.interval(interval),
            Record::PhaseEnded { .. } => self.ended(),
            _ => {}
        }
    }

    fn finish(&mut self) {
        self.ended();
    }
}

fn new_bar(name: &str, total: Duration) -> ProgressBar {
    let bar =
        ProgressBar::with_draw_target(Some(millis(total).max(1)), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(index: u32, warmup: bool, ok: u64, micros: u64) -> IntervalRecord {
        let mut stats = IntervalStats::default();
        stats.outcomes.ok = ok;
        for _ in 0..ok {
            let _ = stats.response.record(micros);
        }
        IntervalRecord {
            phase: "p".into(),
            workload: "w".into(),
            index,
            start: Duration::from_secs(u64::from(index)),
            length: Duration::from_secs(1),
            warmup,
            generator_cpu_seconds: 0.0,
            health: None,
            stats,
        }
    }

    #[test]
    fn warm_up_is_kept_out_of_the_p99_and_an_interval_counts_once_complete() {
        let mut tally = Tally::new("p", Duration::from_secs(3));
        assert!(!tally.add(&interval(0, true, 10, 900_000)));
        assert_eq!(tally.summary(), "0/3 s  10 req/s  warm-up  errors 0");
        assert!(tally.add(&interval(1, false, 5, 2_000)));
        // A second workload's record of the same interval adds to it.
        assert!(!tally.add(&interval(1, false, 5, 2_000)));
        tally.close();
        let text = tally.summary();
        assert!(text.starts_with("2/3 s  10 req/s  p99 2"), "{text}");
        assert!(!text.contains("900"), "warm-up leaked into the p99: {text}");
    }
}

//! The live progress display: phase, elapsed/planned, current rate, p99, errors.
//!
//! Drawn on stderr only when it is a terminal (indicatif hides it otherwise), so
//! CI logs and pipes stay quiet. Reads the same records the store receives.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::{IntervalStats, Plan, Record, RunObserver};

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Index of the interval being summed, and its sum over workloads.
    current: Option<(String, u32, IntervalStats, Duration)>,
    planned: Vec<(String, Duration)>,
}

impl Progress {
    pub fn new(plan: &Plan) -> Self {
        Progress {
            bar: None,
            current: None,
            planned: plan
                .phases
                .iter()
                .map(|p| (p.name.clone(), p.total()))
                .collect(),
        }
    }

    fn observe_record(&mut self, record: &Record) {
        match record {
            Record::PhaseStarted(phase) => {
                // A ramp step lasts as long as its ramp phase's plan says one step does.
                let planned_name = phase.parent.as_ref().unwrap_or(&phase.name);
                let total = self
                    .planned
                    .iter()
                    .find(|(name, _)| name == planned_name)
                    .map_or(Duration::ZERO, |(_, total)| *total);
                let bar = ProgressBar::with_draw_target(
                    Some(millis(total).max(1)),
                    ProgressDrawTarget::stderr(),
                );
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(phase.name.clone());
                if let Some(old) = self.bar.replace(bar) {
                    old.finish();
                }
                self.current = None;
            }
            Record::Interval(interval) => {
                let same = matches!(&self.current, Some((phase, index, _, _))
                    if *phase == interval.phase && *index == interval.index);
                if !same {
                    self.current = Some((
                        interval.phase.clone(),
                        interval.index,
                        IntervalStats::default(),
                        interval.length,
                    ));
                }
                if let Some((_, _, stats, length)) = &mut self.current {
                    stats.merge(&interval.stats);
                    if let Some(bar) = &self.bar {
                        let done = millis(*length) * u64::from(interval.index + 1);
                        bar.set_position(done);
                        let planned = bar.length().unwrap_or(done);
                        bar.set_message(format!(
                            "{:.0}/{:.0} s  {}",
                            done as f64 / 1000.0,
                            planned as f64 / 1000.0,
                            summary(stats, *length)
                        ));
                    }
                }
            }
            Record::PhaseEnded { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish();
                }
            }
            _ => {}
        }
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn summary(stats: &IntervalStats, length: Duration) -> String {
    let done = stats.outcomes.total();
    let rate = done as f64 / length.as_secs_f64().max(1e-9);
    let p99_ms = stats.response.value_at_quantile(0.99) as f64 / 1000.0;
    format!(
        "{rate:.0} req/s  p99 {p99_ms:.2} ms  errors {}",
        stats.outcomes.failed()
    )
}

impl RunObserver for Progress {
    fn observe(&mut self, record: &Record) {
        self.observe_record(record);
    }

    fn finish(&mut self) {
        self.finish_bar();
    }
}

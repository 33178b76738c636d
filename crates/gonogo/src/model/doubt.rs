//! Reasons for doubt: why a finding could not be decided (or why a figure is not
//! given), as data, rendered to words in one place ([`Doubt`]'s `Display`).
//!
//! Owns: the closed list of reasons and their sentences. Does not own: deciding
//! when evidence is doubtful (that is `evaluate`, family by family).

use std::fmt;
use std::time::Duration;

use super::{LeakResource, LeakSlope, Starved};
use crate::units::format;

/// Why the evidence cannot decide a criterion. Each variant carries what its
/// sentence names (the place measured, the counts seen and needed).
#[derive(Debug, Clone, PartialEq)]
pub enum Doubt {
    /// The criterion's phase has no record in the run; `comparison` is the
    /// criterion's `metric op threshold`.
    PhaseNotRun { phase: String, comparison: String },
    /// Nothing was measured; `basis` completes "nothing could be measured …".
    NoData { basis: String },
    /// The load generator fell behind in `intervals` of the `of` measured intervals.
    GeneratorBound(GeneratorBound),
    /// Fewer requests than `min_samples` completed.
    TooFewRequests { have: u64, need: u64, place: String },
    /// Requests completed but the metric's histogram is empty.
    NoValues { metric: &'static str, place: String },
    /// Fewer resource samples than `min_samples`.
    TooFewSamples { have: u64, need: u64, phase: String },
    /// A rate of resource use needs two samples at different times.
    TooFewSampleTimes {
        metric: &'static str,
        have: u64,
        phase: String,
    },
    /// A trend rests on too few points of its rolling minimum.
    TooFewTrendPoints {
        resource: &'static str,
        phase: String,
        points: u64,
        window: Duration,
        samples: u64,
        need: u64,
    },
    /// A resource's growth slowed over a soak phase but had not stopped by its end:
    /// `early` and `late` are the slopes of the first and the last third of the
    /// trend (see `evaluate::soak`).
    StillWarmingUp {
        resource: LeakResource,
        phase: String,
        early: LeakSlope,
        late: LeakSlope,
    },
    /// A ramp step was generator-bound before the service broke a stop condition.
    StepGeneratorBound {
        step: String,
        intervals: u32,
        offered: f64,
        /// The generator's starvation in the step, when that is what held it back.
        starved: Option<Starved>,
    },
    /// No ramp step broke a stop condition, up to `up_to` requests/s.
    NoFirstBadRate { ramp: String, up_to: Option<f64> },
    /// Headroom without `service.expected_rate`.
    NoExpectedRate,
    /// A ramp with no judged step.
    NoJudgedStep { ramp: String },
    /// No fault of the phase ended during the run.
    NoFaultEnded { phase: String },
    /// A recovery time is only a lower bound, which does not settle `criterion`.
    NotRecovered {
        phase: String,
        unrecovered: Vec<String>,
        criterion: String,
    },
    /// A network fault touched no connection while it was in force.
    FaultNeverApplied { fault: String, phase: String },
    /// An integrity phase left no ledger.
    NoLedger { phase: String },
    /// None of the `keys` could be read back after the phase.
    NoFinalRead { keys: u64 },
    /// Fewer acknowledged writes than `min_samples`.
    TooFewAcknowledged { have: u64, need: u64 },
    /// Acknowledged keys that could not be read back make `metric` a lower bound.
    UnreadAcknowledged { keys: u64, metric: &'static str },
    /// `integrity.unexpected` without a listing.
    UnexpectedNotChecked { failed_present: u64 },
    /// Scaling steps in which the generator fell behind (`step (n items)`).
    ScalingGeneratorBound { phase: String, steps: Vec<String> },
    /// A scaling phase measured fewer steps than an exponent needs.
    TooFewSteps {
        phase: String,
        measured: usize,
        need: usize,
        /// `(step, message)` of a loader that failed.
        failed_load: Option<(String, String)>,
    },
    /// A quantity has fewer positive per-step values than a fit needs.
    NotFitted {
        quantity: &'static str,
        phase: String,
        need: usize,
        rss: bool,
    },
    /// The criterion's scope is one gonogo resolves but does not judge yet
    /// (`what`: "comparisons").
    NotJudgedYet { what: &'static str },
    /// No external evidence of that name was ingested.
    NoExternalEvidence { name: String },
}

/// The generator self-check's findings over a window of intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorBound {
    pub place: String,
    /// Intervals generator-bound for any reason, of `of` read.
    pub intervals: usize,
    pub of: usize,
    /// Intervals whose generator delay p90 exceeded `limit`, and the worst delay.
    pub delayed: usize,
    pub worst_delay: Duration,
    pub limit: Duration,
    /// Intervals short of their planned sends, and the lowest share sent.
    pub short: usize,
    pub worst_share: f64,
    /// The generator's own starvation (hiccup meter, scheduling evidence), if any.
    pub starved: Option<Starved>,
}

fn intervals(n: usize) -> String {
    if n == 1 {
        "1 interval".to_string()
    } else {
        format!("{n} intervals")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for GeneratorBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut causes = Vec::new();
        if self.delayed > 0 {
            causes.push(format!(
                "in {} its own send delay p90 reached up to {} (limit {})",
                intervals(self.delayed),
                format::seconds(self.worst_delay.as_secs_f64()),
                format::seconds(self.limit.as_secs_f64())
            ));
        }
        if self.short > 0 {
            causes.push(format!(
                "{} sent as little as {} of the planned requests without ever waiting for a \
                 free connection",
                intervals(self.short),
                format::percent(self.worst_share)
            ));
        }
        if let Some(starved) = &self.starved {
            return write!(
                f,
                "in {}, {}; these numbers describe gonogo rather than the service{}.",
                self.place,
                starved,
                if causes.is_empty() {
                    String::new()
                } else {
                    format!(" (also: {})", causes.join("; "))
                }
            );
        }
        write!(
            f,
            "the load generator fell behind in {} of {} measured intervals of {} ({}), so \
             these numbers describe gonogo rather than the service; lower the rate or give the \
             generator its own cores.",
            self.intervals,
            self.of,
            self.place,
            causes.join("; ")
        )
    }
}

mod words;

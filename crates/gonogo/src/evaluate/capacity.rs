//! Capacity metrics of ramp phases: each step judged against the stop conditions,
//! the last good and first bad rates, and headroom.
//!
//! Owns: [`judge_step`], the one rule that says whether a step met every stop
//! condition (the conductor calls it after each step to decide whether to climb on,
//! and evaluation calls it again on the stored steps, so both always agree), and the
//! walk over a ramp's steps. Does not own: running steps (`run::ramp`) or the
//! comparison with a criterion's threshold (`evaluate::conclude`).

use std::fmt::Write as _;

use super::Measurement;
use super::load::{generator_bound, measured_time, merge};
use super::starvation;
use crate::model::{
    CapacityMetric, Doubt, IntervalRecord, PhaseRecord, RunEvidence, Starved, Window,
};
use crate::plan::StopConditions;
use crate::stats;
use crate::units::{Unit, format};

/// A stop condition a step broke, with what was seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Broken {
    /// p99 response time above the bound (seconds).
    Latency { observed: f64, bound: f64 },
    /// Error rate above the bound.
    Errors { observed: f64, bound: f64 },
    /// Achieved rate below planned × (1 − shortfall).
    Shortfall {
        achieved: f64,
        planned: f64,
        shortfall: f64,
    },
    /// p99 schedule lag above the bound (seconds).
    Lag { observed: f64, bound: f64 },
}

impl Broken {
    /// `latency p99 62.0 ms > 50.0 ms`.
    pub fn describe(&self) -> String {
        match *self {
            Broken::Latency { observed, bound } => format!(
                "latency p99 {} > {}",
                format::seconds(observed),
                format::seconds(bound)
            ),
            Broken::Errors { observed, bound } => format!(
                "error rate {} > {}",
                format::percent(observed),
                format::percent(bound)
            ),
            Broken::Shortfall {
                achieved,
                planned,
                shortfall,
            } => format!(
                "achieved {} of the {} offered, short by more than {}",
                format::per_second(achieved),
                format::per_second(planned),
                format::percent(shortfall)
            ),
            Broken::Lag { observed, bound } => format!(
                "schedule lag p99 {} > {}",
                format::seconds(observed),
                format::seconds(bound)
            ),
        }
    }
}

/// How one ramp step went.
#[derive(Debug, Clone, PartialEq)]
pub enum StepVerdict {
    /// Every stop condition held.
    Good,
    /// At least one stop condition broke (the service's limit).
    Broken(Vec<Broken>),
    /// The load generator fell behind in this many measured intervals: the step says
    /// nothing about the service.
    GeneratorBound(u32),
    /// No measured request completed (the step was cut short).
    NoData,
}

/// One step's figures and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct StepJudgement {
    pub planned_rate: f64,
    pub achieved_rate: Option<f64>,
    pub latency_p99: Option<f64>,
    pub error_rate: Option<f64>,
    pub lag_p99: Option<f64>,
    pub requests: u64,
    pub verdict: StepVerdict,
    /// The generator's starvation in the step (see `evaluate::starvation`), if any.
    pub starved: Option<Starved>,
}

/// Judge one step from its measured intervals (warm-up excluded) against `stop`.
///
/// Generator-bound intervals (see [`generator_bound`]) take precedence: when the
/// generator fell behind, the step is not evidence about the service either way.
pub fn judge_step(
    records: &[&IntervalRecord],
    planned_rate: f64,
    stop: &StopConditions,
) -> StepJudgement {
    let merged = merge(records);
    let requests = merged.outcomes.total();
    let achieved_rate = stats::rate(requests, measured_time(records));
    let latency_p99 = stats::quantile_seconds(&merged.response, 0.99);
    let lag_p99 = stats::quantile_seconds(&merged.lag, 0.99);
    let error_rate = stats::ratio(merged.outcomes.failed(), requests);
    // A starved generator's step is generator-bound: never a capacity figure there.
    let hiccup_bound = stop.latency_p99.map_or(starvation::HICCUP_LIMIT, |b| {
        starvation::latency_bound(b.as_secs_f64())
    });
    let starved = starvation::window(records, hiccup_bound);
    let bound_intervals = records
        .iter()
        .filter(|r| generator_bound(&r.stats) || starvation::starved(r, hiccup_bound))
        .count();
    let verdict = if bound_intervals > 0 {
        StepVerdict::GeneratorBound(u32::try_from(bound_intervals).unwrap_or(u32::MAX))
    } else if requests == 0 {
        StepVerdict::NoData
    } else {
        let mut broken = Vec::new();
        if let (Some(bound), Some(observed)) = (stop.latency_p99, latency_p99)
            && observed > bound.as_secs_f64()
        {
            broken.push(Broken::Latency {
                observed,
                bound: bound.as_secs_f64(),
            });
        }
        if let (Some(bound), Some(observed)) = (stop.error_rate, error_rate)
            && observed > bound
        {
            broken.push(Broken::Errors { observed, bound });
        }
        if let Some(achieved) = achieved_rate
            && achieved < planned_rate * (1.0 - stop.shortfall)
        {
            broken.push(Broken::Shortfall {
                achieved,
                planned: planned_rate,
                shortfall: stop.shortfall,
            });
        }
        if let (Some(bound), Some(observed)) = (stop.lag_p99, lag_p99)
            && observed > bound.as_secs_f64()
        {
            broken.push(Broken::Lag {
                observed,
                bound: bound.as_secs_f64(),
            });
        }
        if broken.is_empty() {
            StepVerdict::Good
        } else {
            StepVerdict::Broken(broken)
        }
    };
    StepJudgement {
        planned_rate,
        achieved_rate,
        latency_p99,
        error_rate,
        lag_p99,
        requests,
        verdict,
        starved,
    }
}

/// Whether a ramp should climb to its next step after a step judged `verdict`.
pub fn climb_on(verdict: &StepVerdict) -> bool {
    matches!(verdict, StepVerdict::Good)
}

/// A ramp's stored steps, judged in order up to the first step that was not good.
#[derive(Debug)]
pub struct Capacity<'a> {
    /// Each judged step with its record, in order.
    pub steps: Vec<(&'a PhaseRecord, StepJudgement)>,
    /// Index in `steps` of the highest good step before the first non-good one.
    pub last_good: Option<usize>,
    /// Index of the step that ended the climb when it was not good.
    pub stopped_at: Option<usize>,
}

/// Judge the stored steps of ramp phase `ramp`.
pub fn capacity<'a>(evidence: &'a RunEvidence, ramp: &str, stop: &StopConditions) -> Capacity<'a> {
    let mut steps = Vec::new();
    let mut last_good = None;
    let mut stopped_at = None;
    for step in evidence
        .phases
        .iter()
        .filter(|p| p.parent.as_deref() == Some(ramp))
    {
        let records: Vec<&IntervalRecord> = evidence
            .intervals
            .iter()
            .filter(|r| r.phase == step.name && !r.warmup)
            .collect();
        let judgement = judge_step(&records, step.planned_rate.unwrap_or(0.0), stop);
        let good = climb_on(&judgement.verdict);
        steps.push((step, judgement));
        if good {
            last_good = Some(steps.len() - 1);
        } else {
            stopped_at = Some(steps.len() - 1);
            break;
        }
    }
    Capacity {
        steps,
        last_good,
        stopped_at,
    }
}

fn step_window(step: &PhaseRecord) -> Window {
    Window {
        start: step.started + step.warmup,
        end: step.ended,
        first_interval: None,
        last_interval: None,
    }
}

/// `ramp#3 at 300/s (p99 12.0 ms, errors 0%, achieved 299/s)`.
fn step_text(step: &PhaseRecord, j: &StepJudgement) -> String {
    let mut text = format!("{} at {}", step.name, format::per_second(j.planned_rate));
    let _ = write!(
        text,
        " (p99 {}, errors {}, achieved {})",
        format::value_or_dash(Unit::Seconds, j.latency_p99),
        format::value_or_dash(Unit::Ratio, j.error_rate),
        format::value_or_dash(Unit::PerSecond, j.achieved_rate)
    );
    text
}

/// Measure a capacity criterion over ramp phase `phase`.
pub(super) fn measure(
    metric: CapacityMetric,
    phase: &PhaseRecord,
    stop: &StopConditions,
    expected_rate: Option<f64>,
    evidence: &RunEvidence,
) -> Measurement {
    let cap = capacity(evidence, &phase.name, stop);
    let last_good = cap.last_good.map(|i| &cap.steps[i]);
    let stopped = cap.stopped_at.map(|i| &cap.steps[i]);
    let mut basis = format!(
        "over {} steps of ramp {}",
        format::count(cap.steps.len() as u64),
        phase.name
    );
    if let Some((step, j)) = last_good {
        let _ = write!(basis, "; last good step {}", step_text(step, j));
    }
    let mut doubt = None;
    match stopped {
        Some((step, j)) => match &j.verdict {
            StepVerdict::Broken(broken) => {
                let what: Vec<String> = broken.iter().map(Broken::describe).collect();
                let _ = write!(
                    basis,
                    "; first bad step {} broke {}",
                    step_text(step, j),
                    what.join(" and ")
                );
            }
            StepVerdict::GeneratorBound(intervals) => {
                doubt = Some(Doubt::StepGeneratorBound {
                    step: step.name.clone(),
                    intervals: *intervals,
                    offered: j.planned_rate,
                    starved: j.starved.clone(),
                });
            }
            StepVerdict::NoData | StepVerdict::Good => {
                let _ = write!(
                    basis,
                    "; step {} completed no measured request (the ramp was cut short)",
                    step.name
                );
            }
        },
        None => {
            let _ = write!(basis, "; no step broke a stop condition");
        }
    }
    let first_bad = stopped.filter(|(_, j)| matches!(j.verdict, StepVerdict::Broken(_)));
    let last_good_rate = match (last_good, first_bad) {
        (Some((_, j)), _) => Some(j.planned_rate),
        // The first step broke: no step met the conditions.
        (None, Some(_)) => Some(0.0),
        (None, None) => None,
    };
    let last_good_window = last_good.map(|(s, _)| step_window(s));
    let (observed, window) = if doubt.is_some() {
        // Never a capacity figure when the generator, not the service, was the limit.
        (None, None)
    } else {
        match metric {
            CapacityMetric::LastGoodRate => (last_good_rate, last_good_window),
            CapacityMetric::FirstBadRate => (
                first_bad.map(|(_, j)| j.planned_rate),
                first_bad.map(|(s, _)| step_window(s)),
            ),
            CapacityMetric::Headroom => (
                last_good_rate.zip(expected_rate).map(|(r, e)| r / e),
                last_good_window,
            ),
        }
    };
    if doubt.is_none() && observed.is_none() {
        let why = match metric {
            CapacityMetric::FirstBadRate => {
                (!cap.steps.is_empty()).then(|| Doubt::NoFirstBadRate {
                    ramp: phase.name.clone(),
                    up_to: last_good_rate,
                })
            }
            CapacityMetric::Headroom => expected_rate.is_none().then_some(Doubt::NoExpectedRate),
            CapacityMetric::LastGoodRate => None,
        };
        doubt = Some(why.unwrap_or_else(|| Doubt::NoJudgedStep {
            ramp: phase.name.clone(),
        }));
    }
    Measurement {
        observed,
        interval: None,
        samples: cap.steps.len() as u64,
        window: window.or(Some(Window {
            start: phase.started,
            end: phase.ended,
            first_interval: None,
            last_interval: None,
        })),
        method: method(metric, stop, expected_rate),
        basis,
        doubt,
    }
}

/// The stop conditions in words (`latency p99 > 50 ms`, …), in the order they are checked.
pub fn stop_conditions(stop: &StopConditions) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(bound) = stop.latency_p99 {
        conditions.push(format!("latency p99 > {}", format::duration(bound)));
    }
    if let Some(bound) = stop.error_rate {
        conditions.push(format!("error rate > {}", format::percent(bound)));
    }
    conditions.push(format!(
        "achieved rate < offered × (1 − {})",
        format::percent(stop.shortfall)
    ));
    if let Some(bound) = stop.lag_p99 {
        conditions.push(format!("schedule lag p99 > {}", format::duration(bound)));
    }
    conditions
}

fn method(metric: CapacityMetric, stop: &StopConditions, expected_rate: Option<f64>) -> String {
    let conditions = stop_conditions(stop);
    let steps = format!(
        "each step's measured intervals are merged and the step breaks when {}; a step with \
         generator-bound intervals makes the result inconclusive",
        conditions.join(" or ")
    );
    match metric {
        CapacityMetric::FirstBadRate => {
            format!("offered rate of the first step that broke; {steps}")
        }
        CapacityMetric::Headroom => format!(
            "offered rate of the last step before the first bad one that met every condition, \
             divided by service.expected_rate ({}); {steps}",
            format::value_or_dash(Unit::PerSecond, expected_rate)
        ),
        CapacityMetric::LastGoodRate => format!(
            "offered rate of the last step before the first bad one that met every condition \
             (0 when the first step broke); {steps}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::evaluate::evaluate;
    use crate::evaluate::fixtures::{
        assert_explains, criterion, intervals, manifest, phase, ramp_step, stats,
    };
    use crate::model::Metric;
    use crate::model::{IntervalStats, Op, Outcome, OutcomeCounts, RunStatus};
    use crate::plan::CriterionPlan;

    fn stop() -> StopConditions {
        StopConditions {
            latency_p99: Some(Duration::from_millis(50)),
            error_rate: Some(0.01),
            shortfall: 0.05,
            lag_p99: None,
        }
    }

    /// A step at `rate` whose measured seconds complete `done` requests with a p99 of
    /// `p99_us`, `failed` of them failed, and `cap_waits` cap waits.
    fn step_stats(rate: u64, done: u64, p99_us: u64, failed: u64, cap_waits: u64) -> IntervalStats {
        let outcomes = OutcomeCounts {
            ok: done - failed,
            status_mismatch: failed,
            ..OutcomeCounts::default()
        };
        let mut s = stats(
            outcomes,
            rate,
            &[(1_000, done - done / 50), (p99_us, done / 50)],
            &[(900, done)],
        );
        s.cap_waits = cap_waits;
        s
    }

    /// A ramp of steps of 100/s from 100/s, 1 s warm-up and 2 s measured each;
    /// `make(rate)` gives each measured second's statistics.
    fn ramp_run(rates: &[u64], make: impl Fn(u64) -> IntervalStats) -> RunEvidence {
        let mut phases = vec![phase(
            "ramp",
            0.0,
            1.0,
            2.0,
            Some(3.0 * rates.len() as f64),
            100.0,
        )];
        let mut records = Vec::new();
        for (i, &rate) in rates.iter().enumerate() {
            let step = ramp_step(i + 1, rate);
            records.extend(intervals(&step, "get", |_| make(rate)));
            phases.push(step);
        }
        RunEvidence {
            id: 1,
            manifest: manifest(),
            status: RunStatus::Completed,
            ended_at_ms: Some(1),
            phases,
            intervals: records,
            samples: Vec::new(),
            events: Vec::new(),
            artifacts: Vec::new(),
            integrity: Vec::new(),
            bad_input: Vec::new(),
        }
    }

    /// `criterion` over phase `ramp`, with one sample enough.
    fn ramp_criterion(metric: Metric, op: Op, text: &str, threshold: f64) -> CriterionPlan {
        CriterionPlan {
            min_samples: 1,
            ..criterion("ramp", metric, op, text, threshold)
        }
    }

    fn refs<'a>(evidence: &'a RunEvidence, step: &str) -> Vec<&'a IntervalRecord> {
        evidence
            .intervals
            .iter()
            .filter(|r| r.phase == step && !r.warmup)
            .collect()
    }

    #[test]
    fn a_step_breaks_on_each_condition_and_names_it() {
        let healthy = ramp_run(&[100], |r| step_stats(r, r, 9_000, 0, 0));
        let j = judge_step(&refs(&healthy, "ramp#1"), 100.0, &stop());
        assert_eq!(j.verdict, StepVerdict::Good, "{j:?}");
        assert_eq!(j.requests, 200);

        let slow = ramp_run(&[100], |r| step_stats(r, r, 80_000, 0, 0));
        let j = judge_step(&refs(&slow, "ramp#1"), 100.0, &stop());
        assert!(
            matches!(&j.verdict, StepVerdict::Broken(b) if matches!(b[..], [Broken::Latency { .. }])),
            "{j:?}"
        );

        let failing = ramp_run(&[100], |r| step_stats(r, r, 9_000, 5, 0));
        let j = judge_step(&refs(&failing, "ramp#1"), 100.0, &stop());
        assert!(
            matches!(&j.verdict, StepVerdict::Broken(b) if matches!(b[..], [Broken::Errors { .. }])),
            "{j:?}"
        );

        // 90 of 100 planned per second while waiting on the in-flight cap: the service
        // held the connections, so the shortfall is the service's.
        let saturated = ramp_run(&[100], |r| step_stats(r, 90, 9_000, 0, 40));
        let j = judge_step(&refs(&saturated, "ramp#1"), 100.0, &stop());
        let StepVerdict::Broken(broken) = &j.verdict else {
            panic!("{j:?}");
        };
        assert!(
            broken[0]
                .describe()
                .starts_with("achieved 90.0/s of the 100/s offered"),
            "{broken:?}"
        );
    }

    #[test]
    fn a_generator_that_falls_behind_is_not_a_service_limit() {
        // 80 of 100 planned and never a cap wait: gonogo did not send, the service
        // was not the limit.
        let behind = ramp_run(&[100], |_| step_stats(100, 80, 9_000, 0, 0));
        let j = judge_step(&refs(&behind, "ramp#1"), 100.0, &stop());
        assert_eq!(j.verdict, StepVerdict::GeneratorBound(2));
        assert!(!climb_on(&j.verdict));
    }

    #[test]
    fn capacity_is_the_last_good_step_before_the_first_bad_one() {
        let evidence = ramp_run(&[100, 200, 300, 400], |r| {
            // Bare criteria judge with the default stop conditions (error rate > 1%).
            if r >= 300 {
                step_stats(r, r, 120_000, r / 10, 10)
            } else {
                step_stats(r, r, 9_000, 0, 0)
            }
        });
        let cap = capacity(&evidence, "ramp", &stop());
        assert_eq!(cap.steps.len(), 3, "judging stops at the first bad step");
        assert_eq!(cap.last_good, Some(1));
        assert_eq!(cap.stopped_at, Some(2));

        let criteria = [
            ramp_criterion(Metric::CapacityLastGoodRate, Op::Ge, "150", 150.0),
            ramp_criterion(Metric::CapacityFirstBadRate, Op::Le, "300", 300.0),
            ramp_criterion(Metric::Headroom, Op::Ge, "3", 3.0),
        ];
        let findings = evaluate(&criteria, &evidence);
        assert_eq!(findings[0].observed, Some(200.0));
        assert_eq!(findings[0].outcome, Outcome::Pass);
        let window = findings[0]
            .window
            .as_ref()
            .expect("the last good step's window");
        assert_eq!(
            (window.start, window.end),
            (Duration::from_secs(4), Some(Duration::from_secs(6)))
        );
        assert_eq!(findings[1].observed, Some(300.0));
        assert_explains(&findings[1], "broke error rate 10% > 1%");
        // Without an expected rate (bare criteria) headroom cannot be decided.
        assert_eq!(findings[2].outcome, Outcome::Inconclusive);
    }

    #[test]
    fn a_ramp_that_never_breaks_has_no_first_bad_rate_and_a_generator_limit_has_no_capacity() {
        let unbroken = ramp_run(&[100, 200], |r| step_stats(r, r, 9_000, 0, 0));
        let c = ramp_criterion(Metric::CapacityFirstBadRate, Op::Le, "300", 300.0);
        let f = &evaluate(&[c], &unbroken)[0];
        assert_eq!(f.outcome, Outcome::Inconclusive);
        assert_explains(f, "raise max_rate");

        let behind = ramp_run(&[100, 200], |r| {
            if r == 200 {
                step_stats(r, 150, 9_000, 0, 0)
            } else {
                step_stats(r, r, 9_000, 0, 0)
            }
        });
        let c = ramp_criterion(Metric::CapacityLastGoodRate, Op::Ge, "50", 50.0);
        let f = &evaluate(&[c], &behind)[0];
        assert_eq!(f.outcome, Outcome::Inconclusive, "{f:#?}");
        assert_explains(f, "load generator fell behind");
        assert_eq!(
            f.observed, None,
            "never a capacity figure when the generator was the limit"
        );
    }

    #[test]
    fn a_first_step_that_breaks_gives_zero_capacity() {
        let evidence = ramp_run(&[100, 200], |r| step_stats(r, r, 9_000, 50, 0));
        let c = ramp_criterion(Metric::CapacityLastGoodRate, Op::Ge, "50", 50.0);
        let f = &evaluate(&[c], &evidence)[0];
        assert_eq!((f.observed, f.outcome), (Some(0.0), Outcome::Fail));
    }
}

//! Running a ramp phase: one open-model step after another, each stored as a phase
//! of its own (`<ramp>#<n>`, kind `ramp_step`, parent the ramp), climbing while the
//! last step met every stop condition.
//!
//! Owns: the step plans, their phase records, and the decision to climb on, which
//! is the caller's [`super::StepJudge`] (evaluation's `judge_step`) applied to the step's measured intervals as they pass
//! through on their way to the store (the same rule evaluation applies later to the
//! stored steps). Does not own: offering load (`load::run_phase`) or the store.

use crate::load::{self, LoadContext, LoadError};
use crate::model::{IntervalRecord, PhaseRecord, Record};
use crate::plan::{LoadModel, PhasePlan, Plan, RampPlan};

/// The kind stored for each step of a ramp.
pub const STEP_KIND: &str = "ramp_step";

/// The name of step `index` (0-based) of ramp `ramp`: `ramp#1`, `ramp#2`, …
pub fn step_name(ramp: &str, index: usize) -> String {
    format!("{ramp}#{}", index + 1)
}

/// The plan of one step: the ramp's phase at `rate`.
fn step_plan(phase: &PhasePlan, index: usize, rate: f64) -> PhasePlan {
    let max_connections = match phase.model {
        LoadModel::Open {
            max_connections, ..
        } => max_connections,
        LoadModel::Closed { connections } => connections,
    };
    PhasePlan {
        name: step_name(&phase.name, index),
        model: LoadModel::Open {
            rate,
            max_connections,
        },
        ramp: None,
        integrity: None,
        ..phase.clone()
    }
}

/// Run the steps of `ramp` (the plan of `phase`) until one is not good, the last
/// step is done, the run is cancelled, or `service_gone` says the service exited.
/// Returns the requests abandoned at the drain deadlines, summed over the steps.
pub(super) async fn run_ramp(
    plan: &Plan,
    phase: &PhasePlan,
    ramp: &RampPlan,
    port: u16,
    ctx: &LoadContext,
    judge: super::StepJudge,
    service_gone: impl Fn() -> bool,
) -> Result<u64, LoadError> {
    let mut abandoned = 0;
    for (index, rate) in ramp.rates().into_iter().enumerate() {
        if ctx.cancel.is_cancelled() || service_gone() {
            break;
        }
        let step = step_plan(phase, index, rate);
        let record = PhaseRecord {
            kind: STEP_KIND.to_string(),
            parent: Some(phase.name.clone()),
            ..super::phase_record(&step, &ctx.clock)
        };
        let (summary, step_abandoned, measured) =
            as_phase(ctx, record, run_step(plan, &step, port, ctx)).await;
        abandoned += step_abandoned;
        if summary?.cancelled {
            break;
        }
        let refs: Vec<&IntervalRecord> = measured.iter().collect();
        if !judge(&refs, rate, &ramp.stop) {
            break;
        }
    }
    Ok(abandoned)
}

/// Run a step of a phase (a ramp or scaling step) as a phase of its own: record its
/// start, run it, and record its end with the requests abandoned at its drain
/// deadline. Returns the step's load summary, those requests, and what else `run` gave.
pub(super) async fn as_phase<T>(
    ctx: &LoadContext,
    record: PhaseRecord,
    run: impl Future<Output = (Result<load::PhaseLoadSummary, LoadError>, T)>,
) -> (Result<load::PhaseLoadSummary, LoadError>, u64, T) {
    let name = record.name.clone();
    let _ = ctx.records.send(Record::PhaseStarted(record));
    let (summary, extra) = run.await;
    let abandoned = summary.as_ref().map_or(0, |s| s.abandoned);
    let _ = ctx.records.send(Record::PhaseEnded {
        phase: name,
        at: ctx.clock.elapsed(),
        abandoned,
    });
    (summary, abandoned, extra)
}

/// Run one step, passing its records on to the store and keeping a copy of its
/// measured (non-warm-up) intervals for the decision to climb on.
async fn run_step(
    plan: &Plan,
    step: &PhasePlan,
    port: u16,
    ctx: &LoadContext,
) -> (
    Result<load::PhaseLoadSummary, LoadError>,
    Vec<IntervalRecord>,
) {
    let (sender, mut receiver) = crate::model::channel();
    let forward = ctx.records.clone();
    let collector = tokio::spawn(async move {
        let mut measured = Vec::new();
        while let Some(record) = receiver.recv().await {
            if let Record::Interval(interval) = &record
                && !interval.warmup
            {
                measured.push(interval.as_ref().clone());
            }
            // A closed channel means the conductor is gone; nothing left to record to.
            let _ = forward.send(record);
        }
        measured
    });
    let step_ctx = LoadContext {
        records: sender,
        ..ctx.clone()
    };
    let summary = load::run_phase(plan, step, port, &step_ctx).await;
    // Dropping the step's only sender ends the collector.
    drop(step_ctx);
    let measured = collector.await.unwrap_or_default();
    (summary, measured)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::PhaseKind;

    #[test]
    fn steps_are_the_ramp_phase_at_each_rate() {
        let phase = PhasePlan {
            name: "ramp".into(),
            kind: PhaseKind::Ramp,
            workloads: vec![0],
            model: LoadModel::Open {
                rate: 100.0,
                max_connections: 16,
            },
            duration: Duration::from_secs(3),
            warmup: Duration::from_secs(1),
            drain: Duration::from_secs(1),
            leak: None,
            ramp: None,
            integrity: None,
            scaling: None,
            bad_input: None,
        };
        let step = step_plan(&phase, 2, 300.0);
        assert_eq!(step.name, "ramp#3");
        assert_eq!(
            step.model,
            LoadModel::Open {
                rate: 300.0,
                max_connections: 16
            }
        );
        assert_eq!((step.duration, step.warmup), (phase.duration, phase.warmup));
    }
}

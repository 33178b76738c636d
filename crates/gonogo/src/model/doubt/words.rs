//! The one place a [`Doubt`] becomes words.

use std::fmt;

use super::{Doubt, plural};
use crate::units::{Unit, format};

impl fmt::Display for Doubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doubt::PhaseNotRun { phase, comparison } => write!(
                f,
                "phase {phase} did not run, so {comparison} could not be judged; check the \
                 run's events for why it stopped early."
            ),
            Doubt::NoData { basis } => write!(f, "nothing could be measured {basis}."),
            Doubt::GeneratorBound(bound) => bound.fmt(f),
            Doubt::TooFewRequests { have, need, place } => write!(
                f,
                "only {} requests completed in the measured window of {place}, fewer than the \
                 {} required (min_samples); lengthen the phase or raise the rate.",
                format::count(*have),
                format::count(*need)
            ),
            Doubt::NoValues { metric, place } => write!(
                f,
                "no {metric} values were recorded in the measured window of {place}; lengthen \
                 the phase or raise the rate."
            ),
            Doubt::TooFewSamples { have, need, phase } => write!(
                f,
                "only {} resource samples of the running service were taken after the warm-up \
                 of phase {phase}, fewer than the {} required (min_samples); lengthen the phase \
                 or sample more often (settings.sample_interval).",
                format::count(*have),
                format::count(*need)
            ),
            Doubt::TooFewSampleTimes {
                metric,
                have,
                phase,
            } => write!(
                f,
                "{metric} needs at least two resource samples at different times after the \
                 warm-up of phase {phase}, and {} were taken; lengthen the phase or sample more \
                 often.",
                format::count(*have)
            ),
            Doubt::TooFewTrendPoints {
                resource,
                phase,
                points,
                window,
                samples,
                need,
            } => write!(
                f,
                "the {resource} trend of phase {phase} rests on {} points of its {} rolling \
                 minimum ({} resource samples after the warm-up), fewer than the {} required \
                 (min_samples); lengthen the phase, sample more often \
                 (settings.sample_interval) or shorten leak.window.",
                format::count(*points),
                format::duration(*window),
                format::count(*samples),
                format::count(*need),
            ),
            Doubt::StillWarmingUp {
                resource,
                phase,
                early,
                late,
            } => write!(
                f,
                "the {} of phase {phase} was still warming up: it grew by {} over the first \
                 third of its trend and by {} over the last, slowing but not yet flat, so it \
                 cannot be told from a leak; lengthen the phase or its warm-up so that the \
                 growth has stopped before the window ends.",
                resource.name(),
                early.words(*resource),
                late.words(*resource),
            ),
            Doubt::StepGeneratorBound {
                step,
                offered,
                starved: Some(starved),
                ..
            } => write!(
                f,
                "in step {step} ({} offered), {starved}; so no capacity figure is given: it \
                 would describe gonogo, not the service.",
                format::per_second(*offered)
            ),
            Doubt::StepGeneratorBound {
                step,
                intervals,
                offered,
                starved: None,
            } => write!(
                f,
                "the load generator fell behind in {intervals} measured intervals of step \
                 {step} ({} offered) before the service broke any stop condition, so no \
                 capacity figure is given: it would describe gonogo, not the service; give the \
                 generator its own cores, raise max_connections, or lower max_rate.",
                format::per_second(*offered)
            ),
            Doubt::NoFirstBadRate { ramp, up_to } => write!(
                f,
                "no step of ramp {ramp} broke a stop condition (up to {}), so there is no \
                 first bad rate; raise max_rate to find the breaking point.",
                format::value_or_dash(Unit::PerSecond, *up_to)
            ),
            Doubt::NoExpectedRate => {
                f.write_str("headroom needs service.expected_rate in the spec.")
            }
            Doubt::NoJudgedStep { ramp } => write!(
                f,
                "ramp {ramp} has no judged step; check the run's events for why it stopped."
            ),
            Doubt::NoFaultEnded { .. }
            | Doubt::NotRecovered { .. }
            | Doubt::FaultNeverApplied { .. }
            | Doubt::NoLedger { .. }
            | Doubt::NoFinalRead { .. }
            | Doubt::TooFewAcknowledged { .. }
            | Doubt::UnreadAcknowledged { .. }
            | Doubt::UnexpectedNotChecked { .. }
            | Doubt::ScalingGeneratorBound { .. }
            | Doubt::TooFewSteps { .. }
            | Doubt::NotFitted { .. }
            | Doubt::NotJudgedYet { .. }
            | Doubt::NoExternalEvidence { .. } => self.fmt_more(f),
        }
    }
}

impl Doubt {
    /// The sentences of the faults, integrity, scaling and scope doubts.
    fn fmt_more(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doubt::NoFaultEnded { phase } => write!(
                f,
                "no fault of phase {phase} ended during the run, so no recovery could be \
                 measured."
            ),
            Doubt::NotRecovered {
                phase,
                unrecovered,
                criterion,
            } => write!(
                f,
                "the service had not recovered by the end of phase {phase} after {}; the \
                 recovery time is at least the time that was left, which does not decide \
                 {criterion}.",
                unrecovered.join(", ")
            ),
            Doubt::FaultNeverApplied { fault, phase } => write!(
                f,
                "fault {fault} touched no connection while it was in force, so phase {phase} \
                 shows nothing about it; make sure the workloads send traffic during the \
                 fault's window (and, with a fraction below 1, over enough connections)."
            ),
            Doubt::NoLedger { phase } => write!(
                f,
                "phase {phase} left no integrity ledger (it stopped before its writes ended), \
                 so nothing can be decided."
            ),
            Doubt::NoFinalRead { keys } => write!(
                f,
                "no final read: none of the {keys} keys could be read back after the phase (is \
                 the service up after the faults?), so lost writes cannot be ruled out."
            ),
            Doubt::TooFewAcknowledged { have, need } => write!(
                f,
                "only {have} acknowledged writes (at least {need} needed); raise the rate or \
                 the duration, or lower min_samples."
            ),
            Doubt::UnreadAcknowledged { keys, metric } => write!(
                f,
                "{keys} acknowledged keys could not be read back (both reads failed), so they \
                 may be lost as well; {metric} is a lower bound."
            ),
            Doubt::UnexpectedNotChecked { failed_present } => write!(
                f,
                "not checked: the phase has no listing of its keys, so keys never attempted \
                 cannot be seen ({failed_present} failed writes were found present); add list \
                 = \"<workload>\"."
            ),
            Doubt::ScalingGeneratorBound { phase, steps } => write!(
                f,
                "the load generator fell behind in step{} {} of scaling phase {phase}, so those \
                 steps describe gonogo rather than the service and no exponent is given; lower \
                 the rate or give the generator its own cores.",
                plural(steps.len()),
                steps.join(", ")
            ),
            Doubt::TooFewSteps {
                phase,
                measured,
                need,
                failed_load,
            } => {
                let failed = failed_load
                    .as_ref()
                    .map(|(step, message)| format!(" (step {step}: {message})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "scaling phase {phase} measured {measured} step{} and an exponent with an \
                     interval needs at least {need}{failed}; check the run's events for why it \
                     stopped early.",
                    plural(*measured)
                )
            }
            Doubt::NotFitted {
                quantity,
                phase,
                need,
                rss,
            } => write!(
                f,
                "{quantity} could not be fitted: fewer than {need} steps of scaling phase \
                 {phase} have a positive value{}.",
                if *rss {
                    " (no resource samples during the steps; sample more often with \
                     settings.sample_interval or lengthen the steps)"
                } else {
                    ""
                }
            ),
            Doubt::NotJudgedYet { what } => write!(
                f,
                "{what} are not judged yet: gonogo resolved and stored this criterion, but \
                 cannot decide it."
            ),
            Doubt::NoExternalEvidence { name } => write!(
                f,
                "no external evidence of that name ({name}) was ingested for this run, so \
                 nothing could be judged."
            ),
            Doubt::PhaseNotRun { .. }
            | Doubt::NoData { .. }
            | Doubt::GeneratorBound(_)
            | Doubt::TooFewRequests { .. }
            | Doubt::NoValues { .. }
            | Doubt::TooFewSamples { .. }
            | Doubt::TooFewSampleTimes { .. }
            | Doubt::TooFewTrendPoints { .. }
            | Doubt::StillWarmingUp { .. }
            | Doubt::StepGeneratorBound { .. }
            | Doubt::NoFirstBadRate { .. }
            | Doubt::NoExpectedRate
            | Doubt::NoJudgedStep { .. } => unreachable!("worded by Display::fmt"),
        }
    }
}

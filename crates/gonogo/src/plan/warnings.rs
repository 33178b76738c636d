//! What `gonogo check` can tell before anything runs: criteria that can only end
//! INCONCLUSIVE because their phase cannot collect the samples they ask for, with the
//! arithmetic. Pure: reads the plan alone.
//!
//! Owns: [`certain_inconclusive`]. Does not own: the rules that decide at run time
//! (those are `evaluate`'s; these are their floor, so a warning here is never wrong
//! for a run that goes as planned).

use std::time::Duration;

use super::{CriterionPlan, LoadModel, PhaseKind, PhasePlan, Plan};
use crate::model::Metric;
use crate::units::format;

/// One sentence per criterion that the plan leaves no way to decide, then one per
/// soak too short to tell growth that stops from a leak.
pub fn certain_inconclusive(plan: &Plan) -> Vec<String> {
    let over_phase = |criterion: &CriterionPlan| {
        let phase = criterion.scope.phase()?;
        plan.phases.iter().find(|p| p.name == phase)
    };
    let mut out: Vec<String> = plan
        .criteria
        .iter()
        .filter_map(|criterion| shortfall(plan, over_phase(criterion)?, criterion))
        .collect();
    let mut soaks: Vec<&PhasePlan> = plan
        .criteria
        .iter()
        .filter(|c| matches!(c.metric, Metric::Leak(..)))
        .filter_map(over_phase)
        .filter(|phase| phase.kind == PhaseKind::Soak)
        .collect();
    soaks.dedup_by(|a, b| a.name == b.name);
    out.extend(
        soaks
            .into_iter()
            .filter_map(|phase| too_short_for_thirds(plan, phase)),
    );
    out
}

/// The trend points a soak needs for the leak rule to tell growth that stops (a
/// plateau, or still warming up) from a leak: 3 in each of the first and last thirds
/// of the window (`evaluate::soak`).
const THIRDS_POINTS: u64 = 9;

/// The warning for a soak whose window is too short for the thirds: its growth can
/// be judged on the whole window only, where start-up growth reads as a leak.
fn too_short_for_thirds(plan: &Plan, phase: &PhasePlan) -> Option<String> {
    let (most, _, arithmetic) = samples(plan, phase.duration, "trend points")?;
    (most < THIRDS_POINTS).then(|| {
        format!(
            "soak {} gives at most {arithmetic} = {} trend points, fewer than the {THIRDS_POINTS} (3 in each of the first and last thirds) that tell growth that stops from a leak: start-up growth in it will read as a leak; lengthen the soak or sample more often",
            format::printable(&phase.name),
            format::count(most),
        )
    })
}

/// The warning for `criterion` over `phase`, when the most samples the phase can
/// give fall short of what the criterion needs.
fn shortfall(plan: &Plan, phase: &PhasePlan, criterion: &CriterionPlan) -> Option<String> {
    let measured = phase.duration;
    let (most, what, arithmetic) = match criterion.metric {
        Metric::Latency(_) | Metric::Traffic(_) => {
            let rate = steady_rate(phase)? * share(plan, phase, criterion);
            let most = (rate * measured.as_secs_f64()).floor() as u64;
            let arithmetic = format!(
                "{} × {} measured",
                format::per_second(rate),
                format::duration(measured)
            );
            (most, "requests", arithmetic)
        }
        Metric::Resource(_) => samples(plan, measured, "resource samples")?,
        Metric::Leak(..) if phase.kind == PhaseKind::Soak => {
            samples(plan, measured, "trend points")?
        }
        _ => return None,
    };
    // The leak trend needs three points whatever min_samples says (evaluate::soak).
    let need = match criterion.metric {
        Metric::Leak(..) => criterion.min_samples.max(3),
        _ => criterion.min_samples,
    };
    (most < need).then(|| {
        format!(
            "criterion `{}` can only be INCONCLUSIVE: phase {} gives at most {arithmetic} = {} {what}, fewer than the {} it needs (min_samples); lengthen the phase{}",
            format::printable(&criterion.label),
            format::printable(&phase.name),
            format::count(most),
            format::count(need),
            match criterion.metric {
                Metric::Latency(_) | Metric::Traffic(_) => ", raise its rate or lower min_samples",
                _ => " or lower min_samples",
            }
        )
    })
}

/// The rate of an open-model phase whose rate is fixed (not a ramp, scaling or
/// integrity phase, whose requests are counted per step or by their own rules).
fn steady_rate(phase: &PhasePlan) -> Option<f64> {
    match (phase.kind, phase.model) {
        (PhaseKind::Steady | PhaseKind::Soak, LoadModel::Open { rate, .. }) => Some(rate),
        _ => None,
    }
}

/// The share of the phase's requests that goes to the criterion's workload (all of
/// them when it names none).
fn share(plan: &Plan, phase: &PhasePlan, criterion: &CriterionPlan) -> f64 {
    let Some(name) = &criterion.workload else {
        return 1.0;
    };
    let weights: Vec<(&str, u32)> = phase
        .workloads
        .iter()
        .filter_map(|&index| plan.workloads.get(index))
        .map(|w| (w.name.as_str(), w.weight))
        .collect();
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let own: u32 = weights
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, w)| w)
        .sum();
    if total == 0 {
        1.0
    } else {
        f64::from(own) / f64::from(total)
    }
}

/// The most samples taken every `settings.sample_interval` over `measured`.
fn samples(
    plan: &Plan,
    measured: Duration,
    what: &'static str,
) -> Option<(u64, &'static str, String)> {
    let every = plan.settings.sample_interval;
    if every.is_zero() {
        return None;
    }
    let most = (measured.as_secs_f64() / every.as_secs_f64()).floor() as u64 + 1;
    let arithmetic = format!(
        "{} measured / one sample every {} + 1",
        format::duration(measured),
        format::duration(every)
    );
    Some((most, what, arithmetic))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::test_spec::{BASELINE_P99_CRITERION, steady_phase, testbed_get_spec};

    /// A `put` workload beside `get`.
    const PUT_WORKLOAD: &str = r#"
[[workload]]
name = "put"
http = { method = "PUT", url = "http://127.0.0.1:{port}/kv/{key}" }
"#;

    /// Warnings for 5 s of `baseline` at 100/s over both workloads, judged on its p99
    /// with `min_samples` of `min`, with `extra` at the end of the spec; `get` weighs 3
    /// to `put`'s 1.
    fn warnings(min: &str, extra: &str) -> Vec<String> {
        let text = testbed_get_spec(&format!(
            "weight = 3\n{PUT_WORKLOAD}{}workload = [\"get\", \"put\"]\n{BASELINE_P99_CRITERION}min_samples = {min}\n{extra}",
            steady_phase("baseline", 100, "5s")
        ));
        certain_inconclusive(&super::super::from_str(Path::new("t.toml"), &text).unwrap())
    }

    #[test]
    fn a_phase_too_short_for_min_samples_is_predicted_with_the_arithmetic() {
        let found = warnings("1000", "");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("phase baseline gives at most 100/s × 5.00 s measured = 500 requests, fewer than the 1,000 it needs"),
            "{}",
            found[0]
        );
        assert!(warnings("500", "").is_empty(), "500 requests can meet 500");
    }

    #[test]
    fn a_workload_criterion_counts_only_its_share_of_the_rate() {
        let put = "[[criterion]]\nphase = \"baseline\"\nworkload = \"put\"\nmetric = \"error_rate\"\nop = \"<=\"\nvalue = \"1%\"\nmin_samples = 200\n";
        let found = warnings("10", put);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("25.0/s × 5.00 s measured = 125 requests"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_soak_too_short_for_the_thirds_is_warned() {
        let soak = |duration: &str| {
            let text = testbed_get_spec(&format!(
                "\n[settings]\nsample_interval = \"250ms\"\n\n[[phase]]\nname = \"idle\"\nkind = \"soak\"\nrate = 10\nduration = \"{duration}\"\n\n[[criterion]]\nphase = \"idle\"\nmetric = \"leak.rss.detected\"\nop = \"==\"\nvalue = false\nmin_samples = 3\n"
            ));
            certain_inconclusive(&super::super::from_str(Path::new("t.toml"), &text).unwrap())
        };
        let short = soak("1s");
        assert_eq!(short.len(), 1, "{short:?}");
        assert!(
            short[0].contains("soak idle gives at most 1.00 s measured / one sample every 250 ms + 1 = 5 trend points, fewer than the 9"),
            "{}",
            short[0]
        );
        assert!(
            soak("10s").is_empty(),
            "41 points are enough: {:?}",
            soak("10s")
        );
    }
}

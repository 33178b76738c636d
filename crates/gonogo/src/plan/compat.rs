//! Whether another spec can judge a stored run: its phases and workloads must be the
//! run's own (same names, kinds and protocols). Criteria, thresholds and severities
//! may differ — re-judging with other criteria is the point — but a criterion over a
//! phase the run never had, or a workload of another protocol, would judge evidence
//! that does not exist or means something else.
//!
//! Owns: [`differences`], pure.

use super::Plan;

/// What differs between the phases and workloads of `run` (the plan the run was
/// made with) and `other`, one sentence each; empty when `other` can judge the run.
pub fn differences(run: &Plan, other: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let phases = |plan: &Plan| -> Vec<(String, &'static str)> {
        plan.phases
            .iter()
            .map(|p| (p.name.clone(), p.kind.as_str()))
            .collect()
    };
    let workloads = |plan: &Plan| -> Vec<(String, &'static str)> {
        plan.workloads
            .iter()
            .map(|w| (w.name.clone(), w.protocol.as_str()))
            .collect()
    };
    compare("phase", &phases(run), &phases(other), &mut out);
    compare("workload", &workloads(run), &workloads(other), &mut out);
    out
}

/// Items of `what` only in one list, or named alike with another kind.
fn compare(
    what: &str,
    run: &[(String, &'static str)],
    other: &[(String, &'static str)],
    out: &mut Vec<String>,
) {
    for (name, kind) in other {
        match run.iter().find(|(n, _)| n == name) {
            None => out.push(format!("{what} {name:?} is not in the run")),
            Some((_, stored)) if stored != kind => out.push(format!(
                "{what} {name:?} is {kind} in the spec but was {stored} in the run"
            )),
            Some(_) => {}
        }
    }
    for (name, _) in run {
        if !other.iter().any(|(n, _)| n == name) {
            out.push(format!("the run's {what} {name:?} is not in the spec"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::test_spec::{BASELINE_P99_CRITERION, steady_phase, testbed_get_spec};

    /// The spec these tests vary: a `baseline` phase judged on its p99 latency.
    fn base() -> String {
        testbed_get_spec(&format!(
            "{}{BASELINE_P99_CRITERION}",
            steady_phase("baseline", 100, "10s")
        ))
    }

    fn plan(text: &str) -> Plan {
        super::super::from_str(Path::new("t.toml"), text).unwrap()
    }

    #[test]
    fn other_criteria_over_the_same_phases_and_workloads_may_judge_the_run() {
        let stricter = base().replace("\"50ms\"", "\"5ms\"");
        assert!(differences(&plan(&base()), &plan(&stricter)).is_empty());
    }

    #[test]
    fn another_campaign_is_refused_naming_what_differs() {
        let other = base()
            .replace("name = \"baseline\"", "name = \"peak\"")
            .replace("phase = \"baseline\"", "phase = \"peak\"")
            .replace("kind = \"steady\"", "kind = \"soak\"");
        let found = differences(&plan(&base()), &plan(&other));
        assert_eq!(
            found,
            [
                "phase \"peak\" is not in the run",
                "the run's phase \"baseline\" is not in the spec",
            ]
        );
        let renamed = base().replace("name = \"get\"", "name = \"read\"");
        let renamed = renamed.replace("[[phase]]", "[[phase]]\nworkload = \"read\"");
        let found = differences(&plan(&base()), &plan(&renamed));
        assert!(found.contains(&"workload \"read\" is not in the run".to_string()));
    }
}

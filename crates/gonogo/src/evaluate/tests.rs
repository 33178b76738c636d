//! Tests of the evaluation rules on the synthetic runs of `fixtures`.

use std::time::Duration;

use super::fixtures::*;
use super::*;
use crate::model::{EventKind, Op, RunStatus, Scope, Severity};
use crate::units::Unit;

/// The one finding of a single criterion (no implicit findings on a clean run).
fn judge_one(evidence: &RunEvidence, criterion: CriterionPlan) -> Finding {
    evaluate(&[criterion], evidence).remove(0)
}

/// The finding of `criterion` on the clean synthetic run.
fn judge_on_go_run(criterion: CriterionPlan) -> Finding {
    let (evidence, _) = go_run();
    judge_one(&evidence, criterion)
}

/// Interval 4 of workload `get`, one measured after the warm-up.
fn get_interval_4(evidence: &mut RunEvidence) -> &mut crate::model::IntervalRecord {
    evidence
        .intervals
        .iter_mut()
        .find(|r| r.workload == "get" && r.index == 4)
        .expect("fixture interval")
}

fn close(actual: Option<f64>, expected: f64) -> bool {
    // HDR histograms at 3 significant digits: within one part in a thousand.
    actual.is_some_and(|a| (a - expected).abs() <= expected.abs() * 1e-3 + 1e-12)
}

#[test]
fn a_criterion_that_holds_passes_with_its_window_and_method() {
    let f = judge_on_go_run(criterion(
        "baseline",
        Metric::LatencyP99,
        Op::Le,
        "50ms",
        0.05,
    ));
    assert_eq!(f.outcome, Outcome::Pass, "{}", f.explanation);
    // All workloads: 2,000 requests; the 1,980th value is 8 ms.
    assert_eq!(f.samples, 2000);
    assert!(close(f.observed, 0.008), "observed {:?}", f.observed);
    assert_eq!(f.unit, Unit::Seconds);
    let window = f.window.expect("load findings have a window");
    assert_eq!(window.start, secs(3.0));
    assert_eq!(window.end, Some(secs(13.0)));
    assert_eq!(
        (window.first_interval, window.last_interval),
        (Some(2), Some(11))
    );
    assert!(
        f.method
            .contains("99th percentile of the merged per-interval HDR histograms")
    );
    assert!(f.method.contains("warm-up excluded"));
    assert_eq!(
        f.explanation,
        "latency.p99 was 8.00 ms over 2,000 requests in phase baseline, which meets the \
         threshold latency.p99 <= 50.0 ms."
    );
}

#[test]
fn a_criterion_that_breaks_fails() {
    let f = judge_on_go_run(criterion(
        "baseline",
        Metric::LatencyP99,
        Op::Le,
        "5ms",
        0.005,
    ));
    assert_eq!(f.outcome, Outcome::Fail);
    assert_explains(&f, "which breaks the threshold latency.p99 <= 5.00 ms");
}

#[test]
fn too_few_requests_is_inconclusive_with_advice() {
    let mut c = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    c.min_samples = 5000;
    let f = judge_on_go_run(c);
    assert_inconclusive(&f, "only 2,000 requests");
    assert_eq!(f.samples, 2000);
    assert_explains(&f, "fewer than the 5,000 required");
    assert_explains(&f, "lengthen the phase or raise the rate");
}

#[test]
fn warm_up_intervals_are_excluded() {
    // The warm-up holds 250 ms responses; the measured window's largest is 9 ms.
    let f = judge_on_go_run(criterion(
        "baseline",
        Metric::LatencyMax,
        Op::Le,
        "100ms",
        0.1,
    ));
    assert_eq!(f.outcome, Outcome::Pass, "{}", f.explanation);
    assert!(close(f.observed, 0.009), "observed {:?}", f.observed);
}

#[test]
fn a_workload_filter_reads_only_that_workload() {
    let (evidence, _) = go_run();
    let mut get = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    get.workload = Some("get".to_string());
    let mut put = get.clone();
    put.workload = Some("put".to_string());
    let get = judge_one(&evidence, get);
    let put = judge_one(&evidence, put);
    assert_eq!((get.samples, put.samples), (1500, 500));
    assert!(close(get.observed, 0.009), "get {:?}", get.observed);
    assert!(close(put.observed, 0.008), "put {:?}", put.observed);
    assert!(get.method.contains("workload get only"));
    assert_explains(&get, "phase baseline (workload get)");
}

#[test]
fn throughput_error_rate_service_time_and_lag() {
    let (evidence, _) = go_run();
    let value = |metric, threshold| {
        let f = judge_one(
            &evidence,
            criterion("baseline", metric, Op::Ge, "0", threshold),
        );
        (f.outcome, f.observed)
    };
    // 2,000 requests over 10 one-second intervals (two workloads share each second).
    let (outcome, throughput) = value(Metric::Throughput, 190.0);
    assert_eq!(outcome, Outcome::Pass);
    assert_eq!(throughput, Some(200.0));
    // One status mismatch in 2,000.
    assert_eq!(value(Metric::ErrorRate, 0.0).1, Some(0.0005));
    // Service p99 over 2,000: the 1,980th value is 3 ms (put's slowest).
    assert!(close(value(Metric::ServiceTimeP99, 0.0).1, 0.003));
    assert!(close(value(Metric::LagP99, 0.0).1, 0.000_05));
    assert!(close(value(Metric::LatencyP50, 0.0).1, 0.0009));
}

#[test]
fn a_generator_that_falls_behind_makes_load_criteria_inconclusive() {
    let (mut evidence, _) = go_run();
    let record = get_interval_4(&mut evidence);
    record.stats.gen_delay = hist(&[(20, 100), (12_000, 50)]).into();
    let load = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    let mut rss = criterion("baseline", Metric::RssMax, Op::Le, "1GiB", 1e9);
    rss.min_samples = 5;
    let findings = evaluate(&[load, rss], &evidence);
    let f = &findings[0];
    assert_inconclusive(f, "fell behind in 1 of 20 measured intervals");
    assert!(f.observed.is_some(), "the value is still shown");
    assert_explains(f, "up to 12.0 ms (limit 5.00 ms)");
    assert_explains(f, "lower the rate or give the generator its own cores");
    // Resource criteria do not depend on the generator.
    assert_eq!(findings[1].outcome, Outcome::Pass);
    // The same delay in a warm-up interval does not count.
    let (mut evidence, _) = go_run();
    evidence.intervals[0].stats.gen_delay = hist(&[(12_000, 150)]).into();
    let c = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    assert_eq!(judge_one(&evidence, c).outcome, Outcome::Pass);
}

#[test]
fn scheduling_hiccups_in_the_tail_alone_are_not_generator_bound() {
    let (mut evidence, _) = go_run();
    let record = get_interval_4(&mut evidence);
    // 3% of sends left 8 ms late (a p99 over the limit), the rest on time.
    record.stats.gen_delay = hist(&[(20, 97), (8_000, 3)]).into();
    assert!(!generator_bound(&record.stats));
    let c = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    assert_eq!(judge_one(&evidence, c).outcome, Outcome::Pass);
    // 15% late is a generator that cannot keep up.
    let record = &mut evidence.intervals[4];
    record.stats.gen_delay = hist(&[(20, 85), (8_000, 15)]).into();
    assert!(generator_bound(&record.stats));
}

#[test]
fn requests_still_in_flight_are_not_a_generator_shortfall() {
    // A fault makes requests slow: half of them complete in a later interval, but
    // every planned request was sent on time.
    let mut s = stats(ok(75), 150, &[(400_000, 75)], &[(400_000, 75)]);
    s.sent = 150;
    assert!(!generator_bound(&s), "sent on plan; completions lag");
    s.sent = 100;
    assert!(generator_bound(&s), "sent two thirds of the plan");
}

#[test]
fn a_stalled_service_holding_every_connection_is_not_a_generator_shortfall() {
    // The service stops answering: all 64 connections wait on it, so almost nothing
    // is sent, and the requests that waited complete (and count) only later.
    let mut s = stats(ok(10), 1000, &[(900_000, 10)], &[(900_000, 10)]);
    s.sent = 64;
    s.connections = 64;
    s.peak_in_flight = 64;
    assert!(!generator_bound(&s), "the service held every connection");
    s.peak_in_flight = 3;
    assert!(
        generator_bound(&s),
        "connections were free and still nothing was sent"
    );
}

#[test]
fn a_shortfall_without_cap_waits_is_generator_bound() {
    let mut s = stats(ok(100), 150, &[(900, 100)], &[(800, 100)]);
    assert!(
        generator_bound(&s),
        "sent 100 of 150 without waiting on the service"
    );
    s.cap_waits = 3;
    assert!(
        !generator_bound(&s),
        "held back by the in-flight cap: the service's doing"
    );
    let enough = stats(ok(140), 150, &[(900, 140)], &[(800, 140)]);
    assert!(!generator_bound(&enough), "93% of plan is within tolerance");
    let closed = stats(ok(10), 0, &[(900, 10)], &[(800, 10)]);
    assert!(!generator_bound(&closed), "closed model plans nothing");

    let (mut evidence, _) = go_run();
    for record in evidence.intervals.iter_mut().filter(|r| r.index >= 10) {
        record.stats.outcomes = ok(40);
        record.stats.sent = 40;
    }
    let f = judge_one(
        &evidence,
        criterion("baseline", Metric::Throughput, Op::Ge, "100", 100.0),
    );
    assert_inconclusive(&f, "as little as 26.7% of the planned requests");
    assert_explains(&f, "4 of 20");
}

#[test]
fn resource_metrics_read_samples_after_the_warm_up_while_running() {
    let (evidence, _) = go_run();
    let judge = |metric, min_samples| {
        let mut c = criterion("baseline", metric, Op::Le, "x", 1e12);
        c.min_samples = min_samples;
        judge_one(&evidence, c)
    };
    // Window [3.0 s, 13.2 s]: samples at 3.5 … 12.5 (k = 3 … 12).
    let rss = judge(Metric::RssMax, 5);
    assert_eq!(rss.samples, 10);
    assert_eq!(rss.observed, Some((40 * MIB + 12 * 64 * KIB) as f64));
    assert_eq!(rss.outcome, Outcome::Pass);
    let window = rss.window.expect("resource findings have a window");
    assert_eq!((window.start, window.end), (secs(3.0), Some(secs(13.2))));
    let cpu = judge(Metric::CpuMean, 5).observed.expect("cpu mean");
    assert!((cpu - 0.05).abs() < 1e-9, "cpu {cpu}");
    assert_eq!(judge(Metric::FdsMax, 5).observed, Some(14.0));
    assert_eq!(judge(Metric::ThreadsMax, 5).observed, Some(5.0));
    let few = judge(Metric::RssMax, 11);
    assert_inconclusive(&few, "only 10 resource samples");
}

#[test]
fn resource_samples_after_a_crash_are_not_read() {
    let (evidence, _) = nogo_run();
    let mut c = rss_at_most_256mib("stress");
    c.min_samples = 3;
    let f = judge_one(&evidence, c);
    // Stress measured from 16 s; the service ran until 20.5 s: samples 16.5 … 19.5.
    assert_eq!(f.samples, 4);
    assert_eq!(f.observed, Some((64 + 5 * 48) as f64 * MIB as f64));
    assert_eq!(f.outcome, Outcome::Fail);
}

#[test]
fn a_phase_that_did_not_run_is_inconclusive() {
    let f = judge_on_go_run(criterion("soak", Metric::LatencyP99, Op::Le, "50ms", 0.05));
    assert_eq!(f.outcome, Outcome::Inconclusive);
    assert_eq!(f.observed, None);
    assert_explanation_starts(&f, "phase soak did not run");
}

#[test]
fn an_unexpected_exit_fails_service_crashed_and_adds_an_implicit_blocker() {
    let (evidence, criteria) = nogo_run();
    let findings = evaluate(&criteria, &evidence);
    assert_eq!(findings.len(), criteria.len() + 1);
    let crashed = &findings[3];
    assert_eq!(crashed.metric, Metric::ServiceCrashed);
    assert_eq!(
        (crashed.outcome, crashed.observed),
        (Outcome::Fail, Some(1.0))
    );
    let baseline_crash = judge_one(
        &evidence,
        criterion("baseline", Metric::ServiceCrashed, Op::Eq, "false", 0.0),
    );
    assert_eq!(baseline_crash.observed, Some(0.0));
    let implicit = findings.last().expect("implicit finding");
    assert!(implicit.implicit);
    assert_eq!(implicit.criterion, SERVICE_STAYED_UP);
    assert_eq!(implicit.phase, "stress");
    assert_eq!(implicit.severity, Severity::Blocker);
    assert_eq!(implicit.outcome, Outcome::Fail);
    assert_explains(implicit, "at 20.5 s into the run");
    assert_explains(implicit, "signal 11 (SIGSEGV)");
    assert_eq!(metric_label(implicit), "service.crashed");
}

#[test]
fn an_expected_exit_is_not_a_crash() {
    let (evidence, criteria) = go_run();
    let findings = evaluate(&criteria, &evidence);
    assert_eq!(
        findings.len(),
        criteria.len(),
        "no implicit findings on a clean run"
    );
}

#[test]
fn an_aborted_run_adds_an_inconclusive_blocker() {
    let (mut evidence, criteria) = nogo_run();
    evidence.status = RunStatus::Aborted;
    evidence.phases[1].ended = None;
    evidence.events.retain(|e| e.at < Duration::from_secs(20));
    evidence.events.push(event(
        19.0,
        EventKind::Interrupted {
            signal: "SIGINT".to_string(),
        },
    ));
    let findings = evaluate(&criteria, &evidence);
    let last = findings.last().expect("implicit finding");
    assert_eq!(last.criterion, RUN_COMPLETED);
    assert_eq!(metric_label(last), "run.completed");
    assert_eq!(
        (last.outcome, last.severity),
        (Outcome::Inconclusive, Severity::Blocker)
    );
    assert_explanation_starts(last, "the run was aborted");
    assert_explains(last, "interrupted by SIGINT");
    assert_explains(last, "phase stress did not finish");
    assert_eq!(last.phase, "stress");

    evidence.status = RunStatus::Running;
    let last = evaluate(&[], &evidence).pop().expect("implicit finding");
    assert_explains(&last, "still marked running");
}

#[test]
fn the_same_evidence_always_gives_the_same_findings() {
    let (evidence, criteria) = nogo_run();
    assert_eq!(
        evaluate(&criteria, &evidence),
        evaluate(&criteria, &evidence)
    );
}

/// `criterion` over `scope` instead of its phase.
fn scoped(scope: Scope, criterion: CriterionPlan) -> CriterionPlan {
    CriterionPlan {
        phase: scope.label(),
        scope,
        ..criterion
    }
}

#[test]
fn a_whole_run_crash_criterion_reads_every_exit() {
    let (evidence, _) = nogo_run();
    let c = criterion("baseline", Metric::ServiceCrashed, Op::Eq, "false", 0.0);
    let f = judge_one(&evidence, scoped(Scope::Run, c));
    assert_eq!((f.outcome, f.observed), (Outcome::Fail, Some(1.0)));
    assert_eq!(f.scope, Some(Scope::Run));
    assert_explains(&f, "during the run");

    let (evidence, _) = go_run();
    let c = criterion("baseline", Metric::ServiceCrashed, Op::Eq, "false", 0.0);
    let f = judge_one(&evidence, scoped(Scope::Run, c));
    assert_eq!((f.outcome, f.observed), (Outcome::Pass, Some(0.0)));
}

#[test]
fn comparisons_and_external_evidence_are_never_passed_unjudged() {
    let (evidence, _) = go_run();
    let pair = Scope::Pair {
        baseline: "baseline".into(),
        candidate: "stress".into(),
    };
    let c = criterion("baseline", Metric::LatencyP99, Op::Le, "50ms", 0.05);
    let f = judge_one(&evidence, scoped(pair.clone(), c));
    assert_inconclusive(&f, "comparisons are not judged yet");
    assert_eq!((f.observed, f.scope), (None, Some(pair)));

    let external = Scope::External {
        name: "junit".into(),
    };
    let c = criterion("baseline", Metric::ErrorRate, Op::Le, "0", 0.0);
    let f = judge_one(&evidence, scoped(external, c));
    assert_inconclusive(&f, "no external evidence of that name");
}

/// `f` is INCONCLUSIVE and its explanation says `words`.
fn assert_inconclusive(f: &Finding, words: &str) {
    assert_eq!(f.outcome, Outcome::Inconclusive, "{f:?}");
    assert_explains(f, words);
}

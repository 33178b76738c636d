//! Building the report model from a run's evidence, findings and verdict.
//!
//! Owns: the per-phase load and resource summaries and the conversion of stored types
//! into report rows. Reads the same windows as evaluation (`evaluate::measured_intervals`,
//! `evaluate::phase_samples`) so a report never disagrees with the findings.
//! Pure: no I/O, no clock.

use crate::evaluate::{self, generator_bound};
use crate::model::{
    Decision, Event, Finding, Outcome, PhaseRecord, RunEvidence, RunStatus, Scope, Severity,
    Verdict,
};
use crate::stats;

use super::model::*;
use super::{analysis, timeline};
use crate::units::format;

impl ReportModel {
    /// Build the model of a run's report.
    pub fn build(evidence: &RunEvidence, findings: &[Finding], verdict: &Verdict) -> ReportModel {
        let mut model = ReportModel {
            format_version: FORMAT_VERSION.to_string(),
            run: run_info(evidence),
            verdict: VerdictInfo {
                decision: decision_label(verdict.decision),
                reasons: verdict.reasons.clone(),
            },
            stopped: super::stop::stop_info(evidence),
            findings: findings.iter().map(finding_row).collect(),
            phases: evidence
                .phases
                .iter()
                .flat_map(|p| phase_summaries(evidence, p))
                .collect(),
            resources: evidence
                .phases
                .iter()
                .map(|p| resource_summary(evidence, p))
                .collect(),
            events: evidence.events.iter().map(event_row).collect(),
            artifacts: evidence
                .artifacts
                .iter()
                .map(|a| ArtifactRow {
                    name: a.name.clone(),
                    path: a.path.clone(),
                })
                .collect(),
            timeline: timeline::build(evidence, timeline::POINT_CAP),
            integrity: super::integrity::summaries(evidence),
            scaling: super::scaling::build(evidence),
            bad_input: super::bad_input::summaries(evidence),
            capacity: Vec::new(),
            soak: Vec::new(),
            recovery: Vec::new(),
        };
        analysis::attach(&mut model, evidence, findings);
        model
    }
}

fn run_info(evidence: &RunEvidence) -> RunInfo {
    let manifest = &evidence.manifest;
    RunInfo {
        id: evidence.id,
        name: manifest.name.clone(),
        status: match evidence.status {
            RunStatus::Running => RunStatusLabel::Running,
            RunStatus::Completed => RunStatusLabel::Completed,
            RunStatus::Aborted => RunStatusLabel::Aborted,
        },
        started_at: format::iso8601_utc(manifest.started_at_ms),
        ended_at: evidence.ended_at_ms.map(format::iso8601_utc),
        duration_seconds: evidence
            .ended_at_ms
            .map(|end| end.saturating_sub(manifest.started_at_ms) as f64 / 1000.0),
        tool_version: manifest.tool_version.clone(),
        spec_path: manifest.spec_path.clone(),
        spec_hash: manifest.spec_hash.clone(),
        git_commit: manifest.git_commit.clone(),
        host: HostInfo {
            hostname: manifest.host.hostname.clone(),
            cores: manifest.host.cores,
            memory_bytes: manifest.host.memory_bytes,
            kernel: manifest.host.kernel.clone(),
        },
    }
}

fn decision_label(decision: Decision) -> DecisionLabel {
    match decision {
        Decision::Go => DecisionLabel::Go,
        Decision::NoGo => DecisionLabel::NoGo,
        Decision::Inconclusive => DecisionLabel::Inconclusive,
    }
}

/// The `scope` of a finding row.
fn scope_kind(scope: Option<&Scope>) -> &'static str {
    match scope {
        None | Some(Scope::Phase { .. }) => "phase",
        Some(Scope::Run) => "run",
        Some(Scope::Pair { .. }) => "pair",
        Some(Scope::External { .. }) => "external",
    }
}

fn finding_row(finding: &Finding) -> FindingRow {
    FindingRow {
        criterion: finding.criterion.clone(),
        implicit: finding.implicit,
        phase: finding.phase.clone(),
        scope: scope_kind(finding.scope.as_ref()).to_string(),
        workload: finding.workload.clone(),
        metric: evaluate::metric_label(finding).to_string(),
        op: finding.op.symbol().to_string(),
        threshold: finding.threshold,
        threshold_text: format::value(finding.unit, finding.threshold),
        observed: finding.observed,
        observed_text: format::value_or_dash(finding.unit, finding.observed),
        interval: finding.interval.map(|i| IntervalInfo {
            lower: i.lower,
            upper: i.upper,
            confidence: i.confidence,
            text: format::interval(finding.unit, i.lower, i.upper),
        }),
        unit: unit_name(finding.unit).to_string(),
        outcome: match finding.outcome {
            Outcome::Pass => OutcomeLabel::Pass,
            Outcome::Fail => OutcomeLabel::Fail,
            Outcome::Inconclusive => OutcomeLabel::Inconclusive,
        },
        severity: match finding.severity {
            Severity::Blocker => SeverityLabel::Blocker,
            Severity::Advisory => SeverityLabel::Advisory,
        },
        samples: finding.samples,
        window: finding.window.as_ref().map(|w| WindowInfo {
            start_seconds: w.start.as_secs_f64(),
            end_seconds: w.end.map(|e| e.as_secs_f64()),
            first_interval: w.first_interval,
            last_interval: w.last_interval,
        }),
        method: finding.method.clone(),
        explanation: finding.explanation.clone(),
        chart: (!finding.implicit)
            .then(|| timeline::chart_of(finding.metric))
            .flatten()
            .map(str::to_string),
    }
}

fn unit_name(unit: crate::units::Unit) -> &'static str {
    use crate::units::Unit;
    match unit {
        Unit::Seconds => "seconds",
        Unit::PerSecond => "per_second",
        Unit::Ratio => "ratio",
        Unit::Bytes => "bytes",
        Unit::Cores => "cores",
        Unit::Count => "count",
        Unit::Boolean => "boolean",
        Unit::BytesPerHour => "bytes_per_hour",
        Unit::CountPerHour => "count_per_hour",
        Unit::Factor => "factor",
        Unit::Exponent => "exponent",
    }
}

/// Workloads of a phase in the order they first appear in its intervals.
fn workloads_of<'a>(evidence: &'a RunEvidence, phase: &str) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for record in evidence.intervals.iter().filter(|r| r.phase == phase) {
        if !names.contains(&record.workload.as_str()) {
            names.push(&record.workload);
        }
    }
    names
}

fn phase_summaries(evidence: &RunEvidence, phase: &PhaseRecord) -> Vec<PhaseSummary> {
    workloads_of(evidence, &phase.name)
        .into_iter()
        .map(|workload| phase_summary(evidence, phase, workload))
        .collect()
}

fn phase_summary(evidence: &RunEvidence, phase: &PhaseRecord, workload: &str) -> PhaseSummary {
    let records = evaluate::measured_intervals(evidence, &phase.name, Some(workload));
    let merged = evaluate::merge_intervals(&records);
    let measured = evaluate::measured_time(&records);
    let outcomes = merged.outcomes;
    let percentiles = |h: &hdrhistogram::Histogram<u64>| Percentiles {
        p50: stats::quantile_seconds(h, 0.50),
        p90: stats::quantile_seconds(h, 0.90),
        p99: stats::quantile_seconds(h, 0.99),
        p999: stats::quantile_seconds(h, 0.999),
        max: stats::max_seconds(h),
    };
    PhaseSummary {
        phase: phase.name.clone(),
        workload: workload.to_string(),
        kind: phase.kind.clone(),
        model: phase.model.clone(),
        requests: outcomes.total(),
        measured_seconds: measured.as_secs_f64(),
        intervals: records.len() as u32,
        planned_rate: (merged.planned > 0)
            .then(|| stats::rate(merged.planned, measured))
            .flatten(),
        achieved_rate: stats::rate(outcomes.total(), measured),
        response: percentiles(&merged.response),
        service: percentiles(&merged.service),
        // Lag is sending later than planned: the closed model has no plan.
        lag_p99: (phase.model == "open")
            .then(|| stats::quantile_seconds(&merged.lag, 0.99))
            .flatten(),
        generator_delay_p99: (phase.model == "open")
            .then(|| stats::quantile_seconds(&merged.gen_delay, 0.99))
            .flatten(),
        errors: ErrorCounts {
            status_mismatch: outcomes.status_mismatch,
            connect_error: outcomes.connect_error,
            timeout: outcomes.timeout,
            io_error: outcomes.io_error,
        },
        error_rate: stats::ratio(outcomes.failed(), outcomes.total()),
        bytes_sent: merged.bytes_sent,
        bytes_received: merged.bytes_received,
        // Starved intervals (under the default hiccup bound) fell behind too.
        generator_bound_intervals: records
            .iter()
            .filter(|r| generator_bound(&r.stats) || evaluate::starved(r, evaluate::HICCUP_LIMIT))
            .count() as u32,
        cap_waits: merged.cap_waits,
        plan: plan_summary(evidence, phase, workload),
        generator_health: super::health::summary(&records),
    }
}

/// The account of every planned request of `workload` over the whole of `phase`,
/// warm-up included; `None` in the closed model or when an interval lacks it.
fn plan_summary(
    evidence: &RunEvidence,
    phase: &PhaseRecord,
    workload: &str,
) -> Option<PlanSummary> {
    if phase.model != "open" {
        return None;
    }
    let records = evidence
        .intervals
        .iter()
        .filter(|r| r.phase == phase.name && r.workload == workload);
    let (mut planned, mut sent) = (0, 0);
    let mut not_sent = crate::model::NotSent::default();
    for record in records {
        planned += record.stats.planned;
        sent += record.stats.sent;
        not_sent.add(&record.stats.not_sent?);
    }
    Some(PlanSummary {
        planned,
        sent,
        not_sent: NotSentCounts {
            total: not_sent.given_up(),
            busy: not_sent.busy,
            stopped: not_sent.stopped,
        },
    })
}

fn resource_summary(evidence: &RunEvidence, phase: &PhaseRecord) -> ResourceSummary {
    let window = evaluate::phase_samples(evidence, phase);
    let samples = &window.samples;
    let max_of =
        |field: fn(&crate::model::ResourceSample) -> u64| samples.iter().map(|s| field(s)).max();
    ResourceSummary {
        phase: phase.name.clone(),
        samples: samples.len() as u64,
        rss_max_bytes: max_of(|s| s.rss_bytes),
        cpu_mean_cores: stats::cpu_mean(samples),
        fds_max: max_of(|s| s.open_fds),
        threads_max: max_of(|s| s.threads),
    }
}

fn event_row(event: &Event) -> EventRow {
    EventRow {
        at_seconds: event.at.as_secs_f64(),
        kind: event.kind.tag().to_string(),
        detail: crate::model::event_detail(&event.kind),
    }
}

//! Resolution of `[[criterion]]`: references to phases and workloads, the metric,
//! the operator, the threshold in the metric's base unit, and the default number
//! of samples a criterion needs before it can pass or fail.
//!
//! Owns: [`Metric::default_min_samples`] and unit-checked thresholds. Does not
//! own: evaluating anything.

use toml::Spanned;

use super::{Diagnostic, ListOf, closest, int_in_range, unknown_reference};
use crate::model::{LatencyMetric, Metric, Op, Scope, Severity};
use crate::plan::{CriterionPlan, PhasePlan, WorkloadPlan};
use crate::spec::raw::RawCompare;
use crate::spec::raw::{RawCriterion, ThresholdValue};
use crate::units::{self, Unit, UnitError};

impl Metric {
    /// Fewer samples than this in the evaluated window makes a criterion on this
    /// metric INCONCLUSIVE, unless the spec sets `min_samples`.
    ///
    /// The rule:
    /// - a latency percentile q (p50, p90, p99, p999; service time and lag p99)
    ///   needs ceil(10 / (1 − q)) requests, so that at least ten observations lie
    ///   at or beyond the percentile: p50 → 20, p90 → 100, p99 → 1 000,
    ///   p999 → 10 000;
    /// - `latency.max`, `throughput` and `error_rate` need 100 requests;
    /// - resource metrics (`rss.max`, `cpu.mean`, `fds.max`, `threads.max`) need
    ///   3 resource samples, enough to see more than one moment;
    /// - `service.crashed` needs 1 resource sample (the service was watched);
    /// - leak metrics (`leak.*`) need 10 points of the rolling minimum, so that a
    ///   trend and its interval rest on more than a handful of moments;
    /// - integrity metrics (`integrity.*`) need 10 acknowledged writes.
    /// - scaling metrics (`scaling.*`) need 3 measured steps (a line through two
    ///   points has no interval).
    pub fn default_min_samples(self) -> u64 {
        match self {
            Metric::Latency(m) => match m {
                LatencyMetric::P50 => percentile_min_samples(50, 100),
                LatencyMetric::P90 => percentile_min_samples(90, 100),
                LatencyMetric::P99 | LatencyMetric::ServiceTimeP99 | LatencyMetric::LagP99 => {
                    percentile_min_samples(99, 100)
                }
                LatencyMetric::P999 => percentile_min_samples(999, 1000),
                LatencyMetric::Max => 100,
            },
            Metric::Traffic(_) => 100,
            Metric::Resource(_) => 3,
            // One fault that ended is enough to measure a recovery.
            Metric::Service(_) | Metric::Recovery(_) => 1,
            Metric::Leak(..) => 10,
            Metric::Capacity(_) => 1,
            Metric::Integrity(_) => 10,
            Metric::BadInput(_) => 1,
            Metric::Scaling(..) => super::scaling::MIN_SIZES as u64,
        }
    }

    /// Whether the metric is measured on the whole service (resource sampler)
    /// rather than on a workload's requests.
    fn is_service_wide(self) -> bool {
        !self.is_load()
    }

    /// Whether the metric is read from load intervals.
    fn is_load(self) -> bool {
        match self {
            Metric::Latency(_) | Metric::Traffic(_) => true,
            Metric::Resource(_)
            | Metric::Service(_)
            | Metric::Leak(..)
            | Metric::Capacity(_)
            | Metric::Recovery(_)
            | Metric::Integrity(_)
            | Metric::BadInput(_)
            | Metric::Scaling(..) => false,
        }
    }

    /// The only phase kind whose evidence carries the metric, if there is one, and
    /// whether `phase` is of that kind.
    fn only_in(self, phase: &PhasePlan) -> Option<(&'static str, bool)> {
        match self {
            Metric::Leak(..) => Some(("soak", phase.leak.is_some())),
            Metric::Capacity(_) => Some(("ramp", phase.ramp.is_some())),
            Metric::Integrity(_) => Some(("integrity", phase.integrity.is_some())),
            Metric::Scaling(..) => Some(("scaling", phase.scaling.is_some())),
            Metric::BadInput(_) => Some(("bad_input", phase.bad_input.is_some())),
            Metric::Latency(_)
            | Metric::Traffic(_)
            | Metric::Resource(_)
            | Metric::Service(_)
            | Metric::Recovery(_) => None,
        }
    }
}

/// ceil(10 / (1 − num/den)) in integers (floating point gives 1001 for p99).
fn percentile_min_samples(num: u64, den: u64) -> u64 {
    (10 * den).div_ceil(den - num)
}

pub(super) fn resolve_criteria(
    raw: &[Spanned<RawCriterion>],
    phases: &[PhasePlan],
    workloads: &[WorkloadPlan],
    expected_rate: Option<f64>,
) -> Result<Vec<CriterionPlan>, Diagnostic> {
    raw.iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("criterion[{i}]");
            let plan = resolve_criterion(c.get_ref(), c.span(), &field, phases, workloads)?;
            if plan.metric == Metric::Headroom && expected_rate.is_none() {
                return Err(Diagnostic::new(
                    c.get_ref().metric.span(),
                    format!("{field}.metric"),
                    "headroom is capacity.last_good_rate / service.expected_rate, and the \
                     spec has no service.expected_rate",
                )
                .hint("add expected_rate = <production requests/s> to [service]"));
            }
            Ok(plan)
        })
        .collect()
}

/// Refuse metrics that the phase's kind cannot measure.
fn check_kind(
    raw: &RawCriterion,
    field: &str,
    phase: &PhasePlan,
    metric: Metric,
) -> Result<(), Diagnostic> {
    let refusal = if let Some((kind, false)) = metric.only_in(phase) {
        Some((
            format!("is measured only in {kind} phases"),
            format!("a phase with kind = \"{kind}\""),
        ))
    } else if metric.is_load() && phase.scaling.is_some() {
        Some((
            "is not measured on a scaling phase as a whole (each step is one size)".to_string(),
            "scaling.latency_p99.exponent_upper and the other scaling.* metrics, or a steady phase"
                .to_string(),
        ))
    } else if metric.is_load() && phase.ramp.is_some() {
        Some((
            "is not measured on a ramp as a whole (each step is judged by stop_when)".to_string(),
            "capacity.last_good_rate, capacity.first_bad_rate or headroom, or a steady phase"
                .to_string(),
        ))
    } else {
        None
    };
    match refusal {
        Some((why, instead)) => Err(Diagnostic::new(
            raw.metric.span(),
            format!("{field}.metric"),
            format!(
                "{} {why}, and phase `{}` is {}",
                metric.name(),
                phase.name,
                phase.kind.as_str()
            ),
        )
        .hint(format!("use {instead}"))),
        None => Ok(()),
    }
}

fn resolve_criterion(
    raw: &RawCriterion,
    span: std::ops::Range<usize>,
    field: &str,
    phases: &[PhasePlan],
    workloads: &[WorkloadPlan],
) -> Result<CriterionPlan, Diagnostic> {
    let (scope, scoped) = resolve_scope(raw, span, field, phases)?;
    let metric = resolve_metric(&raw.metric, &format!("{field}.metric"))?;
    for phase in &scoped {
        check_kind(raw, field, phase, metric)?;
    }
    check_scope(raw, field, &scope, metric)?;
    let workload = match (&raw.workload, scope.phase()) {
        (Some(name), Some(_)) => Some(resolve_workload(
            name,
            &format!("{field}.workload"),
            scoped[0],
            workloads,
            metric,
        )?),
        (Some(name), None) => {
            return Err(Diagnostic::new(
                name.span(),
                format!("{field}.workload"),
                "`workload` narrows a phase criterion, and this criterion has no `phase`",
            )
            .hint("remove `workload`, or judge one phase with phase = \"<name>\""));
        }
        (None, _) => None,
    };
    let op = resolve_op(&raw.op, &format!("{field}.op"))?;
    let threshold = threshold(&raw.value, metric, &format!("{field}.value"))?;
    let severity = match &raw.severity {
        None => Severity::Blocker,
        Some(s) => match s.get_ref().as_str() {
            "blocker" => Severity::Blocker,
            "advisory" => Severity::Advisory,
            other => {
                return Err(Diagnostic::new(
                    s.span(),
                    format!("{field}.severity"),
                    format!("unknown severity `{other}`"),
                )
                .hint("allowed: blocker (a failure means NO-GO), advisory (reported only)"));
            }
        },
    };
    let min_samples = match &raw.min_samples {
        // At least 1 by the check; i64 → u64 cannot fail then.
        Some(n) => u64::try_from(int_in_range(
            n,
            &format!("{field}.min_samples"),
            1,
            i64::MAX,
        )?)
        .unwrap_or(1),
        None => metric.default_min_samples(),
    };
    Ok(CriterionPlan {
        label: label(
            &scope.label(),
            workload.as_deref(),
            metric,
            op,
            raw.value.get_ref(),
        ),
        phase: scope.label(),
        scope,
        workload,
        metric,
        op,
        threshold,
        severity,
        min_samples,
    })
}

/// `phase metric op value` as written, with
/// `phase/workload` when the criterion names a workload.
fn label(
    phase: &str,
    workload: Option<&str>,
    metric: Metric,
    op: Op,
    value: &ThresholdValue,
) -> String {
    let scope = match workload {
        Some(workload) => format!("{phase}/{workload}"),
        None => phase.to_string(),
    };
    format!("{scope} {} {} {value}", metric.name(), op.symbol())
}

fn resolve_metric(metric: &Spanned<String>, field: &str) -> Result<Metric, Diagnostic> {
    Metric::from_name(metric.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        let mut hint = format!("allowed metrics: {}", ListOf(&names));
        if let Some(near) = closest(metric.get_ref(), &names) {
            hint = format!("did you mean `{near}`? {hint}");
        }
        Diagnostic::new(
            metric.span(),
            field,
            format!("unknown metric `{}`", metric.get_ref()),
        )
        .hint(hint)
    })
}

fn resolve_workload(
    name: &Spanned<String>,
    field: &str,
    phase: &PhasePlan,
    workloads: &[WorkloadPlan],
    metric: Metric,
) -> Result<String, Diagnostic> {
    if metric.is_service_wide() {
        return Err(Diagnostic::new(
            name.span(),
            field,
            format!(
                "{} measures the whole service, not one workload",
                metric.name()
            ),
        )
        .hint("remove `workload` from this criterion"));
    }
    let in_phase: Vec<&str> = phase
        .workloads
        .iter()
        .filter_map(|&i| workloads.get(i).map(|w| w.name.as_str()))
        .collect();
    if in_phase.contains(&name.get_ref().as_str()) {
        return Ok(name.get_ref().clone());
    }
    let mut error = unknown_reference(name.span(), field, "workload", name.get_ref(), &in_phase);
    error.message = format!(
        "phase `{}` does not run workload `{}`",
        phase.name,
        name.get_ref()
    );
    Err(error)
}

fn resolve_op(op: &Spanned<String>, field: &str) -> Result<Op, Diagnostic> {
    Op::from_symbol(op.get_ref()).ok_or_else(|| {
        let mut hint = "allowed operators: <, <=, >, >=, ==".to_string();
        if op.get_ref() == "=" {
            hint = format!("did you mean `==`? {hint}");
        }
        Diagnostic::new(
            op.span(),
            field,
            format!("unknown operator `{}`", op.get_ref()),
        )
        .hint(hint)
    })
}

/// What a value of `unit` looks like, for hints.
fn unit_example(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "a duration such as \"250us\", \"50ms\", \"1.5s\" or \"2m\"",
        Unit::PerSecond => "a rate such as 500 or \"500/s\"",
        Unit::Ratio => "a ratio such as \"0.1%\" or a number between 0 and 1",
        Unit::Bytes => {
            "a size such as \"200MiB\", \"1.5GB\", \"512KiB\" or a whole number of bytes"
        }
        Unit::Cores => "a number of cores such as 1.5",
        Unit::Count => "a whole number such as 1000",
        Unit::Boolean => "true or false",
        Unit::BytesPerHour => "a growth such as \"1MiB/h\" or \"64KiB/min\"",
        Unit::CountPerHour => "a growth such as \"10/h\" or a number per hour",
        Unit::Factor => "a multiple such as 3 or 2.5",
        Unit::Exponent => "an exponent such as 1.1 or -0.5",
    }
}

fn unit_noun(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "a duration",
        Unit::PerSecond => "a rate per second",
        Unit::Ratio => "a ratio",
        Unit::Bytes => "a byte size",
        Unit::Cores => "a number of cores",
        Unit::Count => "a count",
        Unit::Boolean => "a boolean",
        Unit::BytesPerHour => "a size growth per hour",
        Unit::CountPerHour => "a count growth per hour",
        Unit::Factor => "a multiple",
        Unit::Exponent => "an exponent",
    }
}

/// The threshold in the metric's base unit, or why `value` does not fit it.
fn threshold(
    value: &Spanned<ThresholdValue>,
    metric: Metric,
    field: &str,
) -> Result<f64, Diagnostic> {
    let unit = metric.unit();
    threshold_in(value.get_ref(), unit).map_err(|cause| {
        let written = value.get_ref();
        let mut message = format!(
            "`{written}` is not {} (the unit of {})",
            unit_noun(unit),
            metric.name()
        );
        if let Some(cause) = cause {
            message = format!("{message}: {cause}");
        }
        Diagnostic::new(value.span(), field, message).hint(format!("write {}", unit_example(unit)))
    })
}

/// `Err(None)`: wrong kind of value; `Err(Some(why))`: right kind, bad content.
fn threshold_in(value: &ThresholdValue, unit: Unit) -> Result<f64, Option<UnitError>> {
    use ThresholdValue::{Boolean, Float, Integer, Text};
    let non_negative = |v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(None)
        }
    };
    match (unit, value) {
        (Unit::Seconds, Text(t)) => Ok(units::parse_duration(t).map_err(Some)?.as_secs_f64()),
        (Unit::PerSecond, Text(t)) => units::parse_rate(t).map_err(Some),
        (Unit::Ratio, Text(t)) => units::parse_ratio(t).map_err(Some),
        (Unit::Bytes, Text(t)) => Ok(units::parse_bytes(t).map_err(Some)? as f64),
        (Unit::Cores, Text(t)) => units::parse_number(t).map_err(Some),
        (Unit::PerSecond | Unit::Cores | Unit::Bytes | Unit::Count, Integer(i)) => {
            non_negative(*i as f64)
        }
        (Unit::PerSecond | Unit::Cores, Float(f)) => non_negative(*f),
        (Unit::Ratio, Integer(i)) if (0..=1).contains(i) => Ok(*i as f64),
        (Unit::Ratio, Float(f)) if (0.0..=1.0).contains(f) => Ok(*f),
        (Unit::Boolean, Boolean(b)) => Ok(if *b { 1.0 } else { 0.0 }),
        (Unit::BytesPerHour, Text(t)) => units::parse_per_hour(t, true).map_err(Some),
        (Unit::CountPerHour, Text(t)) => units::parse_per_hour(t, false).map_err(Some),
        (Unit::CountPerHour, Integer(i)) => non_negative(*i as f64),
        (Unit::CountPerHour | Unit::Factor, Float(f)) => non_negative(*f),
        (Unit::Factor, Integer(i)) => non_negative(*i as f64),
        (Unit::Factor, Text(t)) => units::parse_number(t).map_err(Some),
        (Unit::Exponent, Integer(i)) => Ok(*i as f64),
        (Unit::Exponent, Float(f)) if f.is_finite() => Ok(*f),
        (Unit::Exponent, Text(t)) => units::parse_number(t).map_err(Some),
        _ => Err(None),
    }
}

/// The scope a criterion names (exactly one of `phase`, `scope`, `compare`,
/// `external`) and the phases it reads.
fn resolve_scope<'p>(
    raw: &RawCriterion,
    span: std::ops::Range<usize>,
    field: &str,
    phases: &'p [PhasePlan],
) -> Result<(Scope, Vec<&'p PhasePlan>), Diagnostic> {
    let named: Vec<(&str, std::ops::Range<usize>)> = [
        raw.phase.as_ref().map(|p| ("phase", p.span())),
        raw.scope.as_ref().map(|s| ("scope", s.span())),
        raw.compare.as_ref().map(|c| ("compare", c.span())),
        raw.external.as_ref().map(|e| ("external", e.span())),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let [(first, _), (second, second_span), ..] = &named[..] {
        return Err(Diagnostic::new(
            second_span.clone(),
            format!("{field}.{second}"),
            format!("a criterion names one scope, and this one has both `{first}` and `{second}`"),
        )
        .hint("keep one of phase = \"<name>\", scope = \"run\", compare = { … }, external = \"<name>\""));
    }
    let phase =
        |name: &Spanned<String>, at: &str| find_phase(name, &format!("{field}.{at}"), phases);
    if let Some(name) = &raw.phase {
        let found = phase(name, "phase")?;
        return Ok((
            Scope::Phase {
                name: found.name.clone(),
            },
            vec![found],
        ));
    }
    if let Some(scope) = &raw.scope {
        if scope.get_ref() != "run" {
            return Err(Diagnostic::new(
                scope.span(),
                format!("{field}.scope"),
                format!("unknown scope `{}`", scope.get_ref()),
            )
            .hint(
                "allowed: scope = \"run\" (the whole run); for one phase write phase = \"<name>\"",
            ));
        }
        return Ok((Scope::Run, Vec::new()));
    }
    if let Some(compare) = &raw.compare {
        let RawCompare {
            baseline,
            candidate,
        } = compare.get_ref();
        let (a, b) = (
            phase(baseline, "compare.baseline")?,
            phase(candidate, "compare.candidate")?,
        );
        if a.name == b.name {
            return Err(Diagnostic::new(
                candidate.span(),
                format!("{field}.compare.candidate"),
                format!(
                    "a comparison needs two phases, and both sides are `{}`",
                    a.name
                ),
            )
            .hint("name the baseline phase and a different candidate phase"));
        }
        let scope = Scope::Pair {
            baseline: a.name.clone(),
            candidate: b.name.clone(),
        };
        return Ok((scope, vec![a, b]));
    }
    if let Some(name) = &raw.external {
        return Ok((
            Scope::External {
                name: name.get_ref().clone(),
            },
            Vec::new(),
        ));
    }
    Err(Diagnostic::new(span, field.to_string(), "a criterion must name what it judges")
        .hint("add phase = \"<name>\", scope = \"run\", compare = { baseline = \"a\", candidate = \"b\" } or external = \"<name>\""))
}

fn find_phase<'p>(
    name: &Spanned<String>,
    field: &str,
    phases: &'p [PhasePlan],
) -> Result<&'p PhasePlan, Diagnostic> {
    let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
    phases
        .iter()
        .find(|p| &p.name == name.get_ref())
        .ok_or_else(|| unknown_reference(name.span(), field, "phase", name.get_ref(), &names))
}

/// Refuse metrics that a whole-run scope cannot judge: only `service.crashed` reads
/// evidence that spans the run so far.
fn check_scope(
    raw: &RawCriterion,
    field: &str,
    scope: &Scope,
    metric: Metric,
) -> Result<(), Diagnostic> {
    if *scope == Scope::Run && !metric.judged_over_run() {
        return Err(Diagnostic::new(
            raw.metric.span(),
            format!("{field}.metric"),
            format!(
                "{} is not judged over the whole run (scope = \"run\")",
                metric.name()
            ),
        )
        .hint("use service.crashed over the run, or name a phase with phase = \"<name>\""));
    }
    Ok(())
}

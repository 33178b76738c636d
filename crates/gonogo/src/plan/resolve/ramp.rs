//! Resolution of a ramp phase: its steps (`start_rate`, `step` or `factor`,
//! `max_rate`), its stop conditions (`stop_when`) and its load model.
//!
//! Owns: the rules that only ramp phases take these fields, that a ramp has no `rate`
//! or `connections` of its own, and the defaults of [`StopConditions`]. Does not own:
//! running the steps (`run::ramp`) nor judging them (`evaluate::capacity`).

use toml::Spanned;

use super::{Diagnostic, optional_duration, optional_in_units, positive_number};
use crate::plan::{LoadModel, PhaseKind, RampGrowth, RampPlan, StopConditions};
use crate::spec::raw::{RawPhase, RawStopWhen};
use crate::units;

/// The most steps one ramp may plan.
const MAX_STEPS: usize = 1000;

/// The ramp plan and load model of a ramp phase; `None` for other kinds, for which
/// any ramp field is an error.
pub(super) fn resolve_ramp(
    spanned: &Spanned<RawPhase>,
    kind: PhaseKind,
    field: &str,
) -> Result<Option<(RampPlan, LoadModel)>, Diagnostic> {
    let raw = spanned.get_ref();
    if kind != PhaseKind::Ramp {
        super::refuse_fields_of(
            "ramp",
            field,
            spans_of!(raw, start_rate, step, factor, max_rate, stop_when),
        )?;
        return Ok(None);
    }
    for (name, span) in spans_of!(raw, rate, connections) {
        if let Some(span) = span {
            return Err(Diagnostic::new(
                span,
                format!("{field}.{name}"),
                format!(
                    "a ramp phase sets its rates with start_rate and step or factor, not `{name}`"
                ),
            )
            .hint("write start_rate = 100, step = 100 (or factor = 1.5) and max_rate = 2000"));
        }
    }
    let start_rate = required_rate(spanned, raw.start_rate.as_ref(), field, "start_rate")?;
    let max_rate = required_rate(spanned, raw.max_rate.as_ref(), field, "max_rate")?;
    if let Some(max) = &raw.max_rate
        && max_rate < start_rate
    {
        return Err(Diagnostic::new(
            max.span(),
            format!("{field}.max_rate"),
            format!("max_rate {max_rate} is below start_rate {start_rate}"),
        ));
    }
    let growth = resolve_growth(spanned, field)?;
    let stop = match &raw.stop_when {
        Some(stop) => resolve_stop(stop.get_ref(), &format!("{field}.stop_when"))?,
        None => StopConditions::default(),
    };
    let plan = RampPlan {
        start_rate,
        growth,
        max_rate,
        stop,
    };
    if plan.rates().len() >= MAX_STEPS {
        return Err(Diagnostic::new(
            spanned.span(),
            field,
            format!("the ramp plans {MAX_STEPS} steps or more"),
        )
        .hint("raise step or factor, or lower max_rate"));
    }
    let model = LoadModel::Open {
        rate: start_rate,
        max_connections: super::max_connections(raw, field)?,
    };
    Ok(Some((plan, model)))
}

fn required_rate(
    spanned: &Spanned<RawPhase>,
    value: Option<&Spanned<f64>>,
    field: &str,
    name: &str,
) -> Result<f64, Diagnostic> {
    match value {
        Some(value) => positive_number(value, &format!("{field}.{name}")),
        None => Err(Diagnostic::new(
            spanned.span(),
            format!("{field}.{name}"),
            format!("a ramp phase needs `{name}` (requests/s)"),
        )
        .hint("a ramp needs start_rate, step or factor, and max_rate")),
    }
}

fn resolve_growth(spanned: &Spanned<RawPhase>, field: &str) -> Result<RampGrowth, Diagnostic> {
    let raw = spanned.get_ref();
    match (&raw.step, &raw.factor) {
        (Some(_), Some(factor)) => Err(Diagnostic::new(
            factor.span(),
            format!("{field}.factor"),
            "a ramp has either `step` (add) or `factor` (multiply), not both",
        )),
        (None, None) => Err(Diagnostic::new(
            spanned.span(),
            format!("{field}.step"),
            "a ramp phase needs `step` (requests/s added per step) or `factor` (multiplier)",
        )
        .hint("add e.g. step = 100 or factor = 1.5")),
        (Some(step), None) => Ok(RampGrowth::Step(positive_number(
            step,
            &format!("{field}.step"),
        )?)),
        (None, Some(factor)) => {
            let value = *factor.get_ref();
            if value.is_finite() && value > 1.0 {
                Ok(RampGrowth::Factor(value))
            } else {
                Err(Diagnostic::new(
                    factor.span(),
                    format!("{field}.factor"),
                    format!("must be a finite number greater than 1, not {value}"),
                ))
            }
        }
    }
}

fn resolve_stop(raw: &RawStopWhen, field: &str) -> Result<StopConditions, Diagnostic> {
    let defaults = StopConditions::default();
    let latency_p99 = optional_duration(raw.latency_p99.as_ref(), &format!("{field}.latency_p99"))?
        .map(|(d, _)| d);
    let lag_p99 =
        optional_duration(raw.lag_p99.as_ref(), &format!("{field}.lag_p99"))?.map(|(d, _)| d);
    let error_rate = ratio(raw.error_rate.as_ref(), &format!("{field}.error_rate"))?;
    let shortfall = ratio(raw.shortfall.as_ref(), &format!("{field}.shortfall"))?;
    if let (Some(value), Some(spanned)) = (shortfall, &raw.shortfall)
        && value >= 1.0
    {
        return Err(Diagnostic::new(
            spanned.span(),
            format!("{field}.shortfall"),
            "must be below 100%",
        ));
    }
    Ok(StopConditions {
        latency_p99,
        error_rate: error_rate.or(defaults.error_rate),
        shortfall: shortfall.unwrap_or(defaults.shortfall),
        lag_p99,
    })
}

fn ratio(value: Option<&Spanned<String>>, field: &str) -> Result<Option<f64>, Diagnostic> {
    optional_in_units(
        value,
        field,
        units::parse_ratio,
        "ratio",
        "write a percentage such as \"1%\" or a fraction such as \"0.01\"",
    )
}

//! Resolution of a soak phase's `leak` table: growth bounds per resource, the
//! projection horizon and the rolling-minimum window.
//!
//! Owns: the defaults ([`LeakPlan::default`]) and the rule that only soak phases
//! take a `leak` table. Does not own: detecting anything (`evaluate::soak`).

use std::time::Duration;

use toml::Spanned;

use super::{Diagnostic, optional_duration, optional_in_units};
use crate::plan::{LeakPlan, PhaseKind};
use crate::spec::raw::RawLeak;
use crate::units;

/// The leak plan of a phase of `kind`: `Some` (the table or the defaults) for soak
/// phases, `None` otherwise; a `leak` table on another kind is an error.
pub(super) fn resolve_leak(
    raw: Option<&Spanned<RawLeak>>,
    kind: PhaseKind,
    field: &str,
) -> Result<Option<LeakPlan>, Diagnostic> {
    let field = format!("{field}.leak");
    match (kind, raw) {
        (PhaseKind::Soak, None) => Ok(Some(LeakPlan::default())),
        (PhaseKind::Soak, Some(raw)) => Ok(Some(resolve_table(raw.get_ref(), &field)?)),
        (_, Some(raw)) => {
            Err(
                Diagnostic::new(raw.span(), field, "`leak` applies only to soak phases")
                    .hint("set kind = \"soak\" on this phase, or remove `leak`"),
            )
        }
        (_, None) => Ok(None),
    }
}

fn resolve_table(raw: &RawLeak, field: &str) -> Result<LeakPlan, Diagnostic> {
    let defaults = LeakPlan::default();
    let rss = growth(raw.rss.as_ref(), &format!("{field}.rss"), true)?;
    let fds = growth(raw.fds.as_ref(), &format!("{field}.fds"), false)?;
    let threads = growth(raw.threads.as_ref(), &format!("{field}.threads"), false)?;
    let horizon = optional_duration(raw.horizon.as_ref(), &format!("{field}.horizon"))?;
    let window = optional_duration(raw.window.as_ref(), &format!("{field}.window"))?;
    if let Some((duration, span)) = &window
        && duration.is_zero()
    {
        return Err(Diagnostic::new(
            span.clone(),
            format!("{field}.window"),
            "must be longer than 0s",
        )
        .hint("a window a few sample intervals long, e.g. \"10s\", flattens a GC sawtooth"));
    }
    Ok(LeakPlan {
        rss_per_hour: rss.unwrap_or(defaults.rss_per_hour),
        fds_per_hour: fds.unwrap_or(defaults.fds_per_hour),
        threads_per_hour: threads.unwrap_or(defaults.threads_per_hour),
        horizon: horizon.map_or(defaults.horizon, |(d, _)| d),
        window: window.map_or(defaults.window, |(d, _): (Duration, _)| d),
    })
}

/// A growth bound per hour (`"1MiB/h"` for sizes, `"10/h"` for counts).
fn growth(
    value: Option<&Spanned<String>>,
    field: &str,
    bytes: bool,
) -> Result<Option<f64>, Diagnostic> {
    let example = if bytes {
        "\"1MiB/h\" or \"64KiB/min\""
    } else {
        "\"10/h\""
    };
    optional_in_units(
        value,
        field,
        |text| units::parse_per_hour(text, bytes),
        "growth rate",
        format!("write a growth per hour or per minute such as {example}"),
    )
}

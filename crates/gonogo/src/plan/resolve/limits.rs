//! Resolution of `[limits]`: the emergency stop limits.
//!
//! Owns: their units and the rule that `error_window` needs `error_rate`. Does not
//! own: watching them (`run::limits`).

use std::time::Duration;

use toml::Spanned;

use super::{Diagnostic, optional_duration, optional_in_units};
use crate::plan::{ErrorRateLimit, Limits};
use crate::spec::raw::RawLimits;
use crate::units;

/// `error_window` when `error_rate` is set without one.
const DEFAULT_ERROR_WINDOW: Duration = Duration::from_secs(5);

pub(super) fn resolve_limits(raw: Option<&Spanned<RawLimits>>) -> Result<Limits, Diagnostic> {
    let Some(raw) = raw else {
        return Ok(Limits::default());
    };
    let raw = raw.get_ref();
    let window = optional_duration(raw.error_window.as_ref(), "limits.error_window")?;
    let error_rate = match (&raw.error_rate, window) {
        (Some(ratio), window) => Some(ErrorRateLimit {
            ratio: units::parse_ratio(ratio.get_ref()).map_err(|error| {
                Diagnostic::new(
                    ratio.span(),
                    "limits.error_rate",
                    format!("invalid ratio: {error}"),
                )
                .hint("write a percentage such as \"50%\"")
            })?,
            window: window.map_or(DEFAULT_ERROR_WINDOW, |(d, _)| d),
        }),
        (None, Some((_, span))) => {
            return Err(Diagnostic::new(
                span,
                "limits.error_window",
                "`error_window` needs `error_rate`",
            )
            .hint("add error_rate = \"50%\" or remove error_window"));
        }
        (None, None) => None,
    };
    Ok(Limits {
        host_memory_floor: bytes(raw.host_memory_floor.as_ref(), "limits.host_memory_floor")?,
        service_rss_ceiling: bytes(
            raw.service_rss_ceiling.as_ref(),
            "limits.service_rss_ceiling",
        )?,
        error_rate,
    })
}

fn bytes(value: Option<&Spanned<String>>, field: &str) -> Result<Option<u64>, Diagnostic> {
    optional_in_units(
        value,
        field,
        units::parse_bytes,
        "size",
        "write a size such as \"512MiB\" or \"2GiB\"",
    )
}

//! `[[fault]]` → [`FaultPlan`]: the kind, its parameters, and its window inside the
//! phase, each checked with the place it was written.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::{Diagnostic, optional_duration, unknown_reference};
use crate::plan::{
    Direction, FaultAction, FaultPlan, FaultSpec, NetFault, PhaseKind, PhasePlan, Recovery,
};
use crate::spec::raw::{RawFault, RawRecovery};
use crate::units;

const KINDS: &str =
    "latency, bandwidth, reset, blackhole, close_after (network), kill, pause, restart (process)";

/// Default recovery condition: at most 1% of an interval's requests failed.
const DEFAULT_RECOVERY_ERROR_RATE: f64 = 0.01;

pub(super) fn resolve_faults(
    faults: &[Spanned<RawFault>],
    phases: &[PhasePlan],
) -> Result<Vec<FaultPlan>, Diagnostic> {
    faults
        .iter()
        .enumerate()
        .map(|(i, fault)| resolve_fault(fault.get_ref(), &format!("fault[{i}]"), phases))
        .collect()
}

fn resolve_fault(
    raw: &RawFault,
    field: &str,
    phases: &[PhasePlan],
) -> Result<FaultPlan, Diagnostic> {
    let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
    let Some(phase) = phases.iter().find(|p| p.name == *raw.phase.get_ref()) else {
        return Err(unknown_reference(
            raw.phase.span(),
            &format!("{field}.phase"),
            "phase",
            raw.phase.get_ref(),
            &names,
        ));
    };
    if phase.kind == PhaseKind::Ramp {
        return Err(Diagnostic::new(
            raw.phase.span(),
            format!("{field}.phase"),
            format!(
                "phase `{}` is a ramp; faults apply to steady and soak phases",
                phase.name
            ),
        )
        .hint("inject faults in a steady phase at a fixed rate, so recovery can be measured"));
    }
    if phase.kind == PhaseKind::BadInput {
        return Err(Diagnostic::new(
            raw.phase.span(),
            format!("{field}.phase"),
            format!(
                "phase `{}` is a bad_input phase; it sends its cases straight to the service, without faults",
                phase.name
            ),
        )
        .hint("inject faults in a steady or soak phase"));
    }
    let kind = raw.kind.get_ref().as_str();
    let action = match kind {
        "kill" => FaultAction::Kill,
        "pause" => FaultAction::Pause,
        "restart" => FaultAction::Restart,
        _ => FaultAction::Network(network(raw, field)?),
    };
    if !matches!(action, FaultAction::Network(_)) {
        for (name, present) in [
            ("direction", raw.direction.is_some()),
            ("fraction", raw.fraction.is_some()),
        ] {
            if present {
                return Err(misplaced(raw, field, name, "network faults"));
            }
        }
        reject_parameters(raw, field, &[])?;
    }
    let (from, to) = window(raw, field, phase, &action)?;
    Ok(FaultPlan {
        label: label(raw),
        phase: phase.name.clone(),
        action,
        from,
        to,
        recovered_when: recovery(raw.recovered_when.as_ref(), field)?,
    })
}

fn label(raw: &RawFault) -> String {
    let kind = raw.kind.get_ref();
    let phase = raw.phase.get_ref();
    match (&raw.at, &raw.from, &raw.to) {
        (Some(at), _, _) => format!("{phase}: {kind} at {}", at.get_ref()),
        (None, Some(from), Some(to)) => {
            format!(
                "{phase}: {kind} from {} to {}",
                from.get_ref(),
                to.get_ref()
            )
        }
        _ => format!("{phase}: {kind}"),
    }
}

/// A field that does not apply to this kind of fault.
fn misplaced(raw: &RawFault, field: &str, name: &str, applies_to: &str) -> Diagnostic {
    Diagnostic::new(
        raw.kind.span(),
        format!("{field}.{name}"),
        format!("`{name}` does not apply to a {} fault", raw.kind.get_ref()),
    )
    .hint(format!("`{name}` is for {applies_to}; remove it"))
}

/// Reject the kind-specific parameters not in `allowed`.
fn reject_parameters(raw: &RawFault, field: &str, allowed: &[&str]) -> Result<(), Diagnostic> {
    let given = [
        ("delay", raw.delay.is_some(), "latency faults"),
        ("jitter", raw.jitter.is_some(), "latency faults"),
        (
            "bytes_per_second",
            raw.bytes_per_second.is_some(),
            "bandwidth faults",
        ),
        ("bytes", raw.bytes.is_some(), "close_after faults"),
    ];
    for (name, present, applies_to) in given {
        if present && !allowed.contains(&name) {
            return Err(misplaced(raw, field, name, applies_to));
        }
    }
    Ok(())
}

fn network(raw: &RawFault, field: &str) -> Result<FaultSpec, Diagnostic> {
    let kind = match raw.kind.get_ref().as_str() {
        "latency" => {
            reject_parameters(raw, field, &["delay", "jitter"])?;
            let delay = optional_duration(raw.delay.as_ref(), &format!("{field}.delay"))?
                .ok_or_else(|| required(raw, field, "delay", "\"100ms\""))?
                .0;
            let jitter = optional_duration(raw.jitter.as_ref(), &format!("{field}.jitter"))?
                .map_or(Duration::ZERO, |(d, _)| d);
            NetFault::Latency { delay, jitter }
        }
        "bandwidth" => {
            reject_parameters(raw, field, &["bytes_per_second"])?;
            let rate = bytes(raw.bytes_per_second.as_ref(), field, "bytes_per_second")?
                .ok_or_else(|| required(raw, field, "bytes_per_second", "\"64KiB\""))?;
            NetFault::Bandwidth {
                bytes_per_second: rate.max(1),
            }
        }
        "close_after" => {
            reject_parameters(raw, field, &["bytes"])?;
            let bytes = bytes(raw.bytes.as_ref(), field, "bytes")?
                .ok_or_else(|| required(raw, field, "bytes", "\"1KiB\""))?;
            NetFault::CloseAfter { bytes }
        }
        "reset" => {
            reject_parameters(raw, field, &[])?;
            NetFault::Reset
        }
        "blackhole" => {
            reject_parameters(raw, field, &[])?;
            NetFault::Blackhole
        }
        other => {
            return Err(Diagnostic::new(
                raw.kind.span(),
                format!("{field}.kind"),
                format!("unknown fault kind `{other}`"),
            )
            .hint(format!("allowed: {KINDS}")));
        }
    };
    Ok(FaultSpec {
        kind,
        direction: direction(raw.direction.as_ref(), field)?,
        fraction: fraction(raw.fraction.as_ref(), field)?,
    })
}

fn required(raw: &RawFault, field: &str, name: &str, example: &str) -> Diagnostic {
    Diagnostic::new(
        raw.kind.span(),
        format!("{field}.{name}"),
        format!("a {} fault needs `{name}`", raw.kind.get_ref()),
    )
    .hint(format!("add {name} = {example}"))
}

fn bytes(
    value: Option<&Spanned<String>>,
    field: &str,
    name: &str,
) -> Result<Option<u64>, Diagnostic> {
    value
        .map(|v| {
            units::parse_bytes(v.get_ref()).map_err(|e| {
                Diagnostic::new(
                    v.span(),
                    format!("{field}.{name}"),
                    format!("invalid size: {e}"),
                )
                .hint("write a size such as \"512\", \"64KiB\", \"1MiB\"")
            })
        })
        .transpose()
}

fn direction(value: Option<&Spanned<String>>, field: &str) -> Result<Direction, Diagnostic> {
    let Some(value) = value else {
        return Ok(Direction::Both);
    };
    match value.get_ref().as_str() {
        "to_service" => Ok(Direction::ToService),
        "to_client" => Ok(Direction::ToClient),
        "both" => Ok(Direction::Both),
        other => Err(Diagnostic::new(
            value.span(),
            format!("{field}.direction"),
            format!("unknown direction `{other}`"),
        )
        .hint("allowed: to_service (requests), to_client (responses), both")),
    }
}

fn fraction(value: Option<&Spanned<f64>>, field: &str) -> Result<f64, Diagnostic> {
    let Some(value) = value else {
        return Ok(1.0);
    };
    let v = *value.get_ref();
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(Diagnostic::new(
            value.span(),
            format!("{field}.fraction"),
            format!("must be in (0, 1], not {v}"),
        )
        .hint("the share of connections the fault hits: 0.5 for half, 1 for all"))
    }
}

/// The window (network faults, pause) or instant (kill, restart), as offsets from
/// the end of the phase's warm-up, inside the measured duration.
fn window(
    raw: &RawFault,
    field: &str,
    phase: &PhasePlan,
    action: &FaultAction,
) -> Result<(Duration, Option<Duration>), Diagnostic> {
    let instant = matches!(action, FaultAction::Kill | FaultAction::Restart);
    let position = |value: &Spanned<String>, name: &str| {
        offset(value, &format!("{field}.{name}"), phase.duration)
    };
    if instant {
        if let Some(extra) = raw.from.as_ref().or(raw.to.as_ref()) {
            return Err(Diagnostic::new(
                extra.span(),
                format!("{field}.from"),
                format!("a {} happens at one instant", raw.kind.get_ref()),
            )
            .hint("use `at = \"50%\"` instead of from/to"));
        }
        let at = raw
            .at
            .as_ref()
            .ok_or_else(|| required(raw, field, "at", "\"50%\""))?;
        return Ok((position(at, "at")?, None));
    }
    if let Some(at) = &raw.at {
        return Err(Diagnostic::new(
            at.span(),
            format!("{field}.at"),
            format!("a {} fault lasts a window", raw.kind.get_ref()),
        )
        .hint("use `from = \"30%\"` and `to = \"60%\"` instead of at"));
    }
    let from = raw
        .from
        .as_ref()
        .ok_or_else(|| required(raw, field, "from", "\"30%\""))?;
    let to = raw
        .to
        .as_ref()
        .ok_or_else(|| required(raw, field, "to", "\"60%\""))?;
    let (start, end) = (position(from, "from")?, position(to, "to")?);
    if end <= start {
        return Err(Diagnostic::new(
            to.span(),
            format!("{field}.to"),
            "the window ends before it starts",
        )
        .hint("`to` must come after `from`"));
    }
    Ok((start, Some(end)))
}

/// `"30%"` of `measured`, or a duration; must lie within the measured duration.
fn offset(
    value: &Spanned<String>,
    field: &str,
    measured: Duration,
) -> Result<Duration, Diagnostic> {
    let text = value.get_ref().trim();
    let span: Range<usize> = value.span();
    let parsed = match text.strip_suffix('%') {
        Some(percent) => percent
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p))
            .map(|p| measured.mul_f64(p / 100.0))
            .ok_or_else(|| {
                Diagnostic::new(span.clone(), field, format!("invalid percentage `{text}`"))
                    .hint("a share of the phase's measured duration, from \"0%\" to \"100%\"")
            })?,
        None => units::parse_duration(text).map_err(|e| {
            Diagnostic::new(span.clone(), field, format!("invalid position: {e}"))
                .hint("write \"30%\" of the measured duration, or a duration such as \"5s\" after the warm-up")
        })?,
    };
    if parsed > measured {
        return Err(Diagnostic::new(
            span,
            field,
            format!(
                "lies beyond the phase's measured duration ({})",
                humantime::format_duration(measured)
            ),
        ));
    }
    Ok(parsed)
}

fn recovery(raw: Option<&Spanned<RawRecovery>>, field: &str) -> Result<Recovery, Diagnostic> {
    let Some(raw) = raw else {
        return Ok(Recovery {
            latency_p99: None,
            error_rate: Some(DEFAULT_RECOVERY_ERROR_RATE),
        });
    };
    let raw = raw.get_ref();
    let latency_p99 = optional_duration(
        raw.latency_p99.as_ref(),
        &format!("{field}.recovered_when.latency_p99"),
    )?
    .map(|(d, _)| d);
    let error_rate = raw
        .error_rate
        .as_ref()
        .map(|v| {
            units::parse_ratio(v.get_ref()).map_err(|e| {
                Diagnostic::new(
                    v.span(),
                    format!("{field}.recovered_when.error_rate"),
                    format!("invalid ratio: {e}"),
                )
                .hint("write a ratio such as \"1%\" or \"0.01\"")
            })
        })
        .transpose()?;
    Ok(Recovery {
        latency_p99,
        error_rate,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::plan::test_spec::{steady_phase, testbed_get_spec};
    use crate::plan::{Direction, FaultAction, NetFault, Plan, from_str as plan_from_str};
    use crate::spec::SpecError;

    /// A spec whose one phase, `chaos`, has `fault`.
    fn with(fault: &str) -> Result<Plan, SpecError> {
        plan_from_str(
            Path::new("f.toml"),
            &testbed_get_spec(&format!(
                "{}warmup = \"5s\"\n\n[[fault]]\n{fault}",
                steady_phase("chaos", 10, "20s")
            )),
        )
    }

    fn error(fault: &str) -> String {
        match with(fault) {
            Ok(plan) => panic!("expected an error, got {:?}", plan.faults),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_network_fault_resolves_its_window_from_the_end_of_the_warm_up() {
        let plan = with(
            "phase = \"chaos\"\nkind = \"latency\"\ndelay = \"100ms\"\njitter = \"10ms\"\n\
             direction = \"to_client\"\nfraction = 0.5\nfrom = \"25%\"\nto = \"15s\"",
        )
        .unwrap();
        let fault = &plan.faults[0];
        assert!(plan.needs_proxy());
        assert_eq!(
            fault.from,
            Duration::from_secs(5),
            "25% of the 20 s measured"
        );
        assert_eq!(fault.to, Some(Duration::from_secs(15)));
        assert_eq!(fault.label, "chaos: latency from 25% to 15s");
        let FaultAction::Network(spec) = fault.action else {
            panic!("{:?}", fault.action)
        };
        assert_eq!(spec.direction, Direction::ToClient);
        assert_eq!(spec.fraction, 0.5);
        assert_eq!(
            spec.kind,
            NetFault::Latency {
                delay: Duration::from_millis(100),
                jitter: Duration::from_millis(10)
            }
        );
        assert_eq!(
            fault.recovered_when.error_rate,
            Some(0.01),
            "default condition"
        );
    }

    #[test]
    fn process_faults_need_no_proxy_and_an_instant_or_window_as_their_kind_requires() {
        let plan = with("phase = \"chaos\"\nkind = \"kill\"\nat = \"50%\"").unwrap();
        assert_eq!(plan.faults[0].action, FaultAction::Kill);
        assert_eq!(plan.faults[0].to, None);
        assert!(!plan.needs_proxy());
        let e = error("phase = \"chaos\"\nkind = \"kill\"\nfrom = \"1s\"\nto = \"2s\"");
        assert!(e.contains("one instant") && e.contains("at = "), "{e}");
        let e = error("phase = \"chaos\"\nkind = \"pause\"\nat = \"1s\"");
        assert!(e.contains("lasts a window"), "{e}");
    }

    #[test]
    fn fault_errors_name_the_line_the_field_and_what_is_allowed() {
        let e = error("phase = \"chaos\"\nkind = \"latncy\"\nfrom = \"1s\"\nto = \"2s\"");
        assert!(
            e.contains("fault[0].kind") && e.contains("allowed: latency"),
            "{e}"
        );
        assert!(e.starts_with("f.toml:"), "located: {e}");
        let e = error("phase = \"chaos\"\nkind = \"latency\"\nfrom = \"1s\"\nto = \"2s\"");
        assert!(e.contains("needs `delay`"), "{e}");
        let e = error(
            "phase = \"chaos\"\nkind = \"reset\"\ndelay = \"1s\"\nfrom = \"1s\"\nto = \"2s\"",
        );
        assert!(e.contains("`delay` does not apply"), "{e}");
        let e = error("phase = \"chaos\"\nkind = \"reset\"\nfrom = \"50%\"\nto = \"40%\"");
        assert!(e.contains("ends before it starts"), "{e}");
        let e = error("phase = \"chaos\"\nkind = \"reset\"\nfrom = \"1s\"\nto = \"30s\"");
        assert!(e.contains("beyond the phase's measured duration"), "{e}");
        let e =
            error("phase = \"chaos\"\nkind = \"reset\"\nfrom = \"1s\"\nto = \"2s\"\nfraction = 0");
        assert!(e.contains("fault[0].fraction"), "{e}");
        let e = error("phase = \"chaso\"\nkind = \"kill\"\nat = \"1s\"");
        assert!(
            e.contains("unknown phase `chaso`") && e.contains("phases in this spec: chaos"),
            "{e}"
        );
        let e = error("phase = \"chaos\"\nkind = \"kill\"\nat = \"1s\"\ndirection = \"both\"");
        assert!(e.contains("`direction` does not apply"), "{e}");
        let e = error("phase = \"chaos\"\nkind = \"kill\"\nat = \"1s\"\nsurprise = 1");
        assert!(e.contains("surprise"), "unknown fields are refused: {e}");
    }
}

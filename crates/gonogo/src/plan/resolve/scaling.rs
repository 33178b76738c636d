//! Resolution of a scaling phase: its sizes (`sizes`) and its loader (`load` with
//! `load_connections`, or `setup`).
//!
//! Owns: the rules that only scaling phases take these fields, that sizes are at
//! least [`MIN_SIZES`] strictly increasing positive integers, and that a scaling
//! phase has exactly one loader. The measured part of each step (`workload`, `rate`
//! or `connections`, `duration`, `warmup`) is resolved like any steady phase. Does
//! not own: running the steps (`run::scaling`) nor the fit (`evaluate::scaling`).

use toml::Spanned;

use super::{Diagnostic, connection_count, int_in_range, unknown_reference};
use crate::plan::{Loader, PhaseKind, ScalingPlan, WorkloadPlan};
use crate::spec::raw::RawPhase;

/// Fewest sizes a scaling phase may plan: a line through two points has no interval.
pub const MIN_SIZES: usize = 3;
/// Most sizes a scaling phase may plan.
const MAX_SIZES: usize = 100;
/// `load_connections` when the spec leaves it out.
const DEFAULT_LOAD_CONNECTIONS: usize = 8;

/// The scaling plan of a scaling phase; `None` for other kinds, for which any
/// scaling field is an error.
pub(super) fn resolve_scaling(
    spanned: &Spanned<RawPhase>,
    kind: PhaseKind,
    field: &str,
    workloads: &[WorkloadPlan],
) -> Result<Option<ScalingPlan>, Diagnostic> {
    let raw = spanned.get_ref();
    if kind != PhaseKind::Scaling {
        super::refuse_fields_of(
            "scaling",
            field,
            spans_of!(raw, sizes, load, load_connections, setup),
        )?;
        return Ok(None);
    }
    let sizes = resolve_sizes(spanned, field)?;
    let loader = resolve_loader(spanned, field, workloads)?;
    Ok(Some(ScalingPlan { sizes, loader }))
}

fn resolve_sizes(spanned: &Spanned<RawPhase>, field: &str) -> Result<Vec<u64>, Diagnostic> {
    let field = format!("{field}.sizes");
    let Some(list) = &spanned.get_ref().sizes else {
        return Err(Diagnostic::new(
            spanned.span(),
            field,
            "a scaling phase needs `sizes` (item counts of the data set, one step each)",
        )
        .hint("add e.g. sizes = [1000, 4000, 16000, 64000]"));
    };
    let values = list.get_ref();
    if values.len() < MIN_SIZES || values.len() > MAX_SIZES {
        return Err(Diagnostic::new(
            list.span(),
            field,
            format!(
                "a scaling phase needs between {MIN_SIZES} and {MAX_SIZES} sizes, not {}",
                values.len()
            ),
        )
        .hint("an exponent and its interval need at least three sizes, e.g. [1000, 4000, 16000]"));
    }
    let mut sizes: Vec<u64> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let item = format!("{field}[{index}]");
        // In 1..=i64::MAX, so positive.
        let size = u64::try_from(int_in_range(value, &item, 1, i64::MAX)?).unwrap_or(1);
        if let Some(&before) = sizes.last()
            && size <= before
        {
            return Err(Diagnostic::new(
                value.span(),
                item,
                format!("sizes must increase strictly, and {size} follows {before}"),
            )
            .hint("list the sizes from smallest to largest, each once"));
        }
        sizes.push(size);
    }
    Ok(sizes)
}

fn resolve_loader(
    spanned: &Spanned<RawPhase>,
    field: &str,
    workloads: &[WorkloadPlan],
) -> Result<Loader, Diagnostic> {
    let raw = spanned.get_ref();
    match (&raw.load, &raw.setup) {
        (Some(_), Some(setup)) => Err(Diagnostic::new(
            setup.span(),
            format!("{field}.setup"),
            "a scaling phase has either `load` (a workload) or `setup` (a command), not both",
        )),
        (None, None) => Err(Diagnostic::new(
            spanned.span(),
            format!("{field}.load"),
            "a scaling phase needs a loader: `load` (a workload that writes one item per \
             request) or `setup` (a command run before each step with {n} = the size)",
        )
        .hint("add e.g. load = \"put\" with a PUT workload whose url uses {seq}")),
        (Some(name), None) => {
            let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
            let Some(workload) = names.iter().position(|n| n == name.get_ref()) else {
                return Err(unknown_reference(
                    name.span(),
                    &format!("{field}.load"),
                    "workload",
                    name.get_ref(),
                    &names,
                ));
            };
            let connections = match &raw.load_connections {
                Some(c) => connection_count(c, &format!("{field}.load_connections"))?,
                None => DEFAULT_LOAD_CONNECTIONS,
            };
            Ok(Loader::Workload {
                workload,
                connections,
            })
        }
        (None, Some(setup)) => {
            if let Some(c) = &raw.load_connections {
                return Err(Diagnostic::new(
                    c.span(),
                    format!("{field}.load_connections"),
                    "`load_connections` applies only to a `load` workload, not to `setup`",
                ));
            }
            let command: Vec<String> = setup
                .get_ref()
                .iter()
                .map(|a| a.get_ref().clone())
                .collect();
            if command
                .first()
                .is_none_or(|program| program.trim().is_empty())
            {
                return Err(Diagnostic::new(
                    setup.span(),
                    format!("{field}.setup"),
                    "the setup command is empty",
                )
                .hint(
                    "write the program and its arguments, e.g. [\"sh\", \"-c\", \"./seed {n}\"]",
                ));
            }
            Ok(Loader::Setup { command })
        }
    }
}

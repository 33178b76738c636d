//! Resolution of an integrity phase: its read-back (`read`, `list`, `settle`) and
//! the placeholders its workloads may use.
//!
//! Owns: the rules that only integrity phases take these fields, that an integrity
//! phase writes with one workload in the open model, that its write renders `{key}`
//! and `{value}` (and no `{random}`, which would make the value unrepeatable), and
//! that `{value}` appears in no other workload. Does not own: running the phase or
//! judging it (`integrity`, `evaluate::integrity`).

use std::time::Duration;

use toml::Spanned;

use super::template::{self, Scope};
use super::{Diagnostic, ListOf, optional_duration, unknown_reference};
use crate::plan::{IntegrityPlan, LoadModel, PhaseKind, PhasePlan, Segment, WorkloadPlan};
use crate::spec::raw::{RawPhase, RawWorkload, Spec};

/// `settle` when the spec leaves it out.
const DEFAULT_SETTLE: Duration = Duration::from_secs(2);

/// The read-back plan of an integrity phase; `None` for other kinds, for which any
/// integrity field is an error.
pub(super) fn resolve_integrity(
    spanned: &Spanned<RawPhase>,
    kind: PhaseKind,
    field: &str,
    writes: &[usize],
    workloads: &[WorkloadPlan],
    model: LoadModel,
) -> Result<Option<IntegrityPlan>, Diagnostic> {
    let raw = spanned.get_ref();
    if kind != PhaseKind::Integrity {
        super::refuse_fields_of("integrity", field, spans_of!(raw, read, list, settle))?;
        return Ok(None);
    }
    if let LoadModel::Closed { .. } = model {
        return Err(Diagnostic::new(
            super::field_or_phase(spanned, raw.connections.as_ref()),
            format!("{field}.connections"),
            "an integrity phase offers its writes at a fixed rate (open model)",
        )
        .hint("write rate = 200 (and max_connections to cap the writes in flight)"));
    }
    if writes.len() != 1 {
        return Err(Diagnostic::new(
            super::field_or_phase(spanned, raw.workload.as_ref()),
            format!("{field}.workload"),
            "an integrity phase writes with exactly one workload",
        )
        .hint(
            "name the write workload, e.g. workload = \"put\", and the read with read = \"get\"",
        ));
    }
    let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    let Some(read) = &raw.read else {
        return Err(Diagnostic::new(
            spanned.span(),
            format!("{field}.read"),
            "an integrity phase needs `read`: the workload that reads a key back",
        )
        .hint(format!(
            "add read = \"<workload>\" naming a GET of {{key}}; workloads: {}",
            ListOf(&names)
        )));
    };
    let read = workload_index(read, &format!("{field}.read"), &names)?;
    let list = match &raw.list {
        Some(list) => Some(workload_index(list, &format!("{field}.list"), &names)?),
        None => None,
    };
    let settle = optional_duration(raw.settle.as_ref(), &format!("{field}.settle"))?
        .map_or(DEFAULT_SETTLE, |(d, _)| d);
    Ok(Some(IntegrityPlan { read, list, settle }))
}

fn workload_index(
    name: &Spanned<String>,
    field: &str,
    names: &[&str],
) -> Result<usize, Diagnostic> {
    names
        .iter()
        .position(|n| n == name.get_ref())
        .ok_or_else(|| unknown_reference(name.span(), field, "workload", name.get_ref(), names))
}

/// Check where `{key}`, `{value}` and `{random}` appear against the phases that run
/// each workload: `{value}` only in integrity phases' workloads, `{random}` never in
/// an integrity write, and `{key}` and `{value}` in the write, `{key}` in the read.
pub(super) fn check_placeholders(spec: &Spec, phases: &[PhasePlan]) -> Result<(), Diagnostic> {
    for (index, raw) in spec.workload.iter().enumerate() {
        let field = format!("workload[{index}]");
        let raw = raw.get_ref();
        let uses = |segment: Segment| find(raw, &field, &segment);
        let integrity_role = phases.iter().find_map(|p| {
            let plan = p.integrity?;
            if p.workloads.first() == Some(&index) {
                Some((p, Role::Write))
            } else if plan.read == index || plan.list == Some(index) {
                Some((p, Role::Read))
            } else {
                None
            }
        });
        if let Some((span, at)) = uses(Segment::Value)? {
            let other = phases
                .iter()
                .find(|p| p.integrity.is_none() && p.workloads.contains(&index));
            if integrity_role.is_none() || other.is_some() {
                let why = match other {
                    Some(p) => format!(
                        "phase `{}` ({}) runs this workload, and only integrity phases give {{value}}",
                        p.name,
                        p.kind.as_str()
                    ),
                    None => "{value} is given only in the workloads of integrity phases".into(),
                };
                return Err(Diagnostic::new(span, at, why).hint(
                    "use {value} in the write workload of a kind = \"integrity\" phase, or {seq} or {random} elsewhere",
                ));
            }
        }
        let Some((phase, Role::Write)) = integrity_role else {
            continue;
        };
        if let Some((span, at)) = uses(Segment::Random)? {
            return Err(Diagnostic::new(
                span,
                at,
                format!(
                    "{{random}} in the write of integrity phase `{}` makes the value impossible to check on the read-back",
                    phase.name
                ),
            )
            .hint("write {value}: a value unique to each write that gonogo can recompute"));
        }
        for needed in [Segment::Key, Segment::Value] {
            if uses(needed.clone())?.is_none() {
                let name = if needed == Segment::Key {
                    "key"
                } else {
                    "value"
                };
                return Err(Diagnostic::new(
                    raw.name.span(),
                    field.clone(),
                    format!(
                        "the write of integrity phase `{}` never renders {{{name}}}",
                        phase.name
                    ),
                )
                .hint(
                    "write e.g. url = \"http://127.0.0.1:{port}/kv/{key}\", body = \"{value}\"",
                ));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Write,
    Read,
}

type Found = Option<(std::ops::Range<usize>, String)>;

/// The first per-request templated field of `raw` (whatever its protocol) that
/// contains `segment`: its span and path.
fn find(raw: &RawWorkload, field: &str, segment: &Segment) -> Result<Found, Diagnostic> {
    let mut fields: Vec<(String, &Spanned<String>)> = Vec::new();
    if let Some(http) = &raw.http {
        let http = http.get_ref();
        fields.push((format!("{field}.http.url"), &http.url));
        for (name, value) in http.headers.iter().flatten() {
            fields.push((format!("{field}.http.headers.{name}"), value));
        }
        if let Some(body) = &http.body {
            fields.push((format!("{field}.http.body"), body));
        }
    }
    if let Some(redis) = &raw.redis {
        for (i, arg) in redis.get_ref().command.get_ref().iter().enumerate() {
            fields.push((format!("{field}.redis.command[{i}]"), arg));
        }
    }
    if let Some(postgres) = &raw.postgres {
        for (i, param) in postgres
            .get_ref()
            .params
            .iter()
            .flat_map(|p| p.get_ref().iter())
            .enumerate()
        {
            fields.push((format!("{field}.postgres.params[{i}]"), param));
        }
    }
    for (path, value) in fields {
        if template::parse(value, &path, Scope::Request)?.uses(segment) {
            return Ok(Some((value.span(), path)));
        }
    }
    Ok(None)
}

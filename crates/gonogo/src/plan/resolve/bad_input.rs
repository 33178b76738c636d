//! Resolution of a bad-input phase: its `bad_input = { … }` table.
//!
//! Owns: the rules that only bad-input phases take the table (and that they must),
//! that such a phase sends to one HTTP workload's address with `connections`
//! sockets at most, and the defaults of every field. Does not own: the corpus
//! (`badinput::corpus`), sending it, or judging the answers (`evaluate::bad_input`).

use std::time::Duration;

use toml::Spanned;

use super::{Diagnostic, ListOf, int_in_range, optional_duration};
use crate::model::CaseFamily;
use crate::plan::{BadInputPlan, Confine, LoadModel, PhaseKind, Protocol, WorkloadPlan};
use crate::spec::raw::{RawBadInput, RawPhase};

/// Per-case wait for an answer when the spec leaves `timeout` out.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long slowloris and slow-read go on when `slow_timeout` is left out.
const DEFAULT_SLOW_TIMEOUT: Duration = Duration::from_secs(10);
/// `post_timeout` when the spec leaves it out.
const DEFAULT_POST_TIMEOUT: Duration = Duration::from_secs(30);

/// The plan of a bad-input phase; `None` for other kinds, for which the table is an
/// error.
pub(super) fn resolve_bad_input(
    spanned: &Spanned<RawPhase>,
    kind: PhaseKind,
    field: &str,
    indices: &[usize],
    workloads: &[WorkloadPlan],
    model: LoadModel,
) -> Result<Option<BadInputPlan>, Diagnostic> {
    let raw = spanned.get_ref();
    if kind != PhaseKind::BadInput {
        super::refuse_fields_of("bad_input", field, spans_of!(raw, bad_input))?;
        return Ok(None);
    }
    if let LoadModel::Open { .. } = model {
        return Err(Diagnostic::new(
            super::field_or_phase(spanned, raw.rate.as_ref()),
            format!("{field}.rate"),
            "a bad_input phase sends its cases with at most `connections` sockets at once",
        )
        .hint("write connections = 4 instead of rate"));
    }
    let http = indices.len() == 1
        && indices
            .first()
            .and_then(|&i| workloads.get(i))
            .is_some_and(|w| w.protocol == Protocol::Http);
    if !http {
        return Err(Diagnostic::new(
            super::field_or_phase(spanned, raw.workload.as_ref()),
            format!("{field}.workload"),
            "a bad_input phase sends its cases to the address of exactly one HTTP workload",
        )
        .hint("name one http workload, e.g. workload = \"get\""));
    }
    let Some(table) = &raw.bad_input else {
        return Ok(Some(defaults(None)));
    };
    resolve_table(table.get_ref(), &format!("{field}.bad_input")).map(Some)
}

fn defaults(cases_file: Option<std::path::PathBuf>) -> BadInputPlan {
    BadInputPlan {
        target: "/{case}".to_string(),
        cases_file,
        families: CaseFamily::ALL.to_vec(),
        timeout: DEFAULT_TIMEOUT,
        slow_timeout: DEFAULT_SLOW_TIMEOUT,
        drip: Duration::from_secs(1),
        reject: None,
        confine: None,
        secrets: Vec::new(),
        post_check: None,
        post_timeout: DEFAULT_POST_TIMEOUT,
        rss_growth: 0.5,
        fds_growth: 16,
    }
}

fn resolve_table(raw: &RawBadInput, field: &str) -> Result<BadInputPlan, Diagnostic> {
    let mut plan = defaults(raw.cases.as_ref().map(|c| c.get_ref().into()));
    if let Some(target) = &raw.target {
        let text = target.get_ref();
        if !text.starts_with('/') || !text.contains("{case}") {
            return Err(Diagnostic::new(
                target.span(),
                format!("{field}.target"),
                format!("the target `{text}` must start with `/` and contain `{{case}}`"),
            )
            .hint("write e.g. target = \"/files/{case}\""));
        }
        plan.target = text.clone();
    }
    if let Some(families) = &raw.families {
        plan.families = resolve_families(families, &format!("{field}.families"))?;
    }
    let duration = |value, name: &str| -> Result<Option<Duration>, Diagnostic> {
        let name = format!("{field}.{name}");
        match optional_duration(value, &name)? {
            Some((d, span)) if d.is_zero() => {
                Err(Diagnostic::new(span, name, "must be longer than 0s"))
            }
            other => Ok(other.map(|(d, _)| d)),
        }
    };
    plan.timeout = duration(raw.timeout.as_ref(), "timeout")?.unwrap_or(plan.timeout);
    plan.slow_timeout =
        duration(raw.slow_timeout.as_ref(), "slow_timeout")?.unwrap_or(plan.slow_timeout);
    plan.drip = duration(raw.drip.as_ref(), "drip")?.unwrap_or(plan.drip);
    plan.post_timeout =
        duration(raw.post_timeout.as_ref(), "post_timeout")?.unwrap_or(plan.post_timeout);
    if let Some(reject) = &raw.reject {
        let mut statuses = Vec::new();
        for (i, status) in reject.get_ref().iter().enumerate() {
            let status = int_in_range(status, &format!("{field}.reject[{i}]"), 100, 599)?;
            statuses.push(u16::try_from(status).unwrap_or(400));
        }
        plan.reject = Some(statuses);
    }
    if let Some(confine) = &raw.confine {
        let confine = confine.get_ref();
        let list = |l: &Spanned<Vec<Spanned<String>>>| {
            l.get_ref().iter().map(|s| s.get_ref().clone()).collect()
        };
        plan.confine = Some(Confine {
            allowed: list(&confine.allowed),
            watch: list(&confine.watch),
        });
    }
    if let Some(secrets) = &raw.secrets {
        plan.secrets = secrets
            .get_ref()
            .iter()
            .map(|s| s.get_ref().clone())
            .collect();
    }
    if let Some(command) = &raw.post_check {
        if command.get_ref().is_empty() {
            return Err(Diagnostic::new(
                command.span(),
                format!("{field}.post_check"),
                "post_check is empty",
            )
            .hint("write the program and its arguments, e.g. post_check = [\"./verify.sh\"]"));
        }
        plan.post_check = Some(
            command
                .get_ref()
                .iter()
                .map(|s| s.get_ref().clone())
                .collect(),
        );
    }
    if let Some(growth) = &raw.rss_growth {
        let v = *growth.get_ref();
        if !(v.is_finite() && v >= 0.0) {
            return Err(Diagnostic::new(
                growth.span(),
                format!("{field}.rss_growth"),
                format!("must be a ratio of 0 or more, not {v}"),
            )
            .hint("0.5 allows the RSS to grow by half over the phase"));
        }
        plan.rss_growth = v;
    }
    if let Some(fds) = &raw.fds_growth {
        let v = int_in_range(fds, &format!("{field}.fds_growth"), 0, 1_000_000)?;
        plan.fds_growth = u64::try_from(v).unwrap_or(0);
    }
    Ok(plan)
}

fn resolve_families(
    list: &Spanned<Vec<Spanned<String>>>,
    field: &str,
) -> Result<Vec<CaseFamily>, Diagnostic> {
    let names: Vec<&str> = CaseFamily::ALL.iter().map(|f| f.as_str()).collect();
    let mut families = Vec::new();
    for (i, name) in list.get_ref().iter().enumerate() {
        let Some(family) = CaseFamily::from_name(name.get_ref()) else {
            return Err(Diagnostic::new(
                name.span(),
                format!("{field}[{i}]"),
                format!("unknown case family `{}`", name.get_ref()),
            )
            .hint(format!("families: {}", ListOf(&names))));
        };
        if !families.contains(&family) {
            families.push(family);
        }
    }
    Ok(families)
}

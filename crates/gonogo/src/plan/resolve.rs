//! Resolution: the raw spec (as written, with spans) → the typed [`Plan`].
//!
//! Owns: every semantic check on a spec (ranges, units, references between
//! phases, workloads and criteria, templates, the one-of rules) and the defaults.
//! Each failure is a [`Diagnostic`] at the span of the offending value with its
//! field path (`phase[1].rate`, 0-based). Does not own: TOML syntax, unknown fields
//! or missing required fields (caught earlier by `spec`), nor any I/O.
//!
//! Submodules: `service` (the `[service]` table), `template` (placeholders and
//! URL/address shape), `criterion` (criteria, thresholds, default sample counts),
//! `targets` ([`Plan::remote_targets`]), `protocol` (the `redis` and `postgres`
//! workload tables).

/// `[(name, span where set)]` for the named optional fields of `raw`.
macro_rules! spans_of {
    ($raw:expr, $($name:ident),+ $(,)?) => {
        [$((stringify!($name), $raw.$name.as_ref().map(Spanned::span))),+]
    };
}

mod bad_input;
mod criterion;
mod fault;
mod integrity;
mod leak;
mod limits;
mod protocol;
mod ramp;
mod scaling;
mod service;
mod targets;
mod template;

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::{LoadModel, PhaseKind, PhasePlan, Plan, PortChoice, Protocol, Settings, WorkloadPlan};
use crate::spec::raw::{RawHttp, RawPhase, RawSettings, RawWorkload, Spec, WorkloadRef};
use crate::spec::{Diagnostic, ListOf, closest};
use crate::units;
use template::Scope;

/// Smallest accepted `settings.interval` and `settings.sample_interval`.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// `[[phase]] max_connections` when the spec leaves it out.
const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// Validate `spec` and build the plan. `origin` is the spec file's path: its stem
/// is the default campaign name, its parent the base of `service.cwd`.
pub fn resolve(spec: &Spec, origin: &Path) -> Result<Plan, Diagnostic> {
    let name = resolve_name(spec, origin)?;
    let settings = resolve_settings(spec.settings.as_ref())?;
    let service = service::resolve_service(&spec.service, origin)?;
    let workloads = resolve_workloads(&spec.workload, service.port)?;
    let phases = resolve_phases(&spec.phase, &workloads)?;
    integrity::check_placeholders(spec, &phases)?;
    protocol::check_phase_protocols(&spec.phase, &phases, &workloads)?;
    let criteria =
        criterion::resolve_criteria(&spec.criterion, &phases, &workloads, service.expected_rate)?;
    let faults = fault::resolve_faults(&spec.fault, &phases)?;
    let limits = limits::resolve_limits(spec.limits.as_ref())?;
    Ok(Plan {
        name,
        service,
        workloads,
        phases,
        criteria,
        faults,
        settings,
        limits,
    })
}

fn resolve_name(spec: &Spec, origin: &Path) -> Result<String, Diagnostic> {
    match &spec.name {
        Some(name) => checked_name(name, "name"),
        None => Ok(origin
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .filter(|stem| !stem.is_empty())
            .unwrap_or_else(|| "campaign".to_string())),
    }
}

fn resolve_settings(settings: Option<&Spanned<RawSettings>>) -> Result<Settings, Diagnostic> {
    let defaults = Settings::default();
    let Some(settings) = settings else {
        return Ok(defaults);
    };
    let settings = settings.get_ref();
    let interval = optional_duration(settings.interval.as_ref(), "settings.interval")?;
    let sample_interval = optional_duration(
        settings.sample_interval.as_ref(),
        "settings.sample_interval",
    )?;
    Ok(Settings {
        interval: at_least(interval, "settings.interval", MIN_INTERVAL)?
            .unwrap_or(defaults.interval),
        sample_interval: at_least(sample_interval, "settings.sample_interval", MIN_INTERVAL)?
            .unwrap_or(defaults.sample_interval),
    })
}

/// A duration that must be at least `min`, kept with its span for the message.
fn at_least(
    value: Option<(Duration, std::ops::Range<usize>)>,
    field: &str,
    min: Duration,
) -> Result<Option<Duration>, Diagnostic> {
    match value {
        Some((duration, span)) if duration < min => Err(Diagnostic::new(
            span,
            field,
            format!("must be at least {}", humantime::format_duration(min)),
        )),
        Some((duration, _)) => Ok(Some(duration)),
        None => Ok(None),
    }
}

fn resolve_workloads(
    raw: &[Spanned<RawWorkload>],
    port: PortChoice,
) -> Result<Vec<WorkloadPlan>, Diagnostic> {
    resolve_named(
        raw,
        "workload",
        "add a [[workload]] with a name and http = { url = \"http://127.0.0.1:{port}/\" }",
        |raw| &raw.name,
        |plan| &plan.name,
        |workload, field| resolve_workload(workload, field, port),
    )
}

/// Every entry of the array of tables `[[kind]]`, each resolved by `resolve_one` with
/// its field (`kind[i]`): at least one (`first_hint` says how to write it), no two
/// with the same name (as `raw_name` and `plan_name` read it).
fn resolve_named<R, P>(
    raw: &[Spanned<R>],
    kind: &str,
    first_hint: &str,
    raw_name: fn(&R) -> &Spanned<String>,
    plan_name: fn(&P) -> &String,
    mut resolve_one: impl FnMut(&Spanned<R>, &str) -> Result<P, Diagnostic>,
) -> Result<Vec<P>, Diagnostic> {
    if raw.is_empty() {
        return Err(nowhere(
            kind,
            &format!("the spec has no [[{kind}]]; at least one is required"),
        )
        .hint(first_hint));
    }
    let mut plans: Vec<P> = Vec::with_capacity(raw.len());
    for (index, entry) in raw.iter().enumerate() {
        let field = format!("{kind}[{index}]");
        let plan = resolve_one(entry, &field)?;
        let name = plan_name(&plan);
        if let Some(first) = plans.iter().position(|p| plan_name(p) == name) {
            return Err(Diagnostic::new(
                raw_name(entry.get_ref()).span(),
                format!("{field}.name"),
                format!("duplicate {kind} name `{name}`"),
            )
            .hint(format!(
                "{kind}[{first}] already uses it; names must be unique"
            )));
        }
        plans.push(plan);
    }
    Ok(plans)
}

fn resolve_workload(
    spanned: &Spanned<RawWorkload>,
    field: &str,
    port: PortChoice,
) -> Result<WorkloadPlan, Diagnostic> {
    let raw = spanned.get_ref();
    let name = checked_name(&raw.name, &format!("{field}.name"))?;
    let weight = match &raw.weight {
        Some(w) => int_in_range(w, &format!("{field}.weight"), 1, 1_000_000)?,
        None => 1,
    };
    let keys = match &raw.keys {
        Some(k) => int_in_range(k, &format!("{field}.keys"), 1, i64::MAX)?,
        None => 1000,
    };
    let (http, protocol) = match protocol::which(spanned, field)? {
        protocol::Which::Http(http) => (
            resolve_http(http.get_ref(), &format!("{field}.http"), port)?,
            Protocol::Http,
        ),
        protocol::Which::Redis(redis) => {
            let (protocol, timeout) =
                protocol::resolve_redis(redis, &format!("{field}.redis"), port)?;
            (Http::none(timeout), protocol)
        }
        protocol::Which::Postgres(postgres) => {
            let (protocol, timeout) =
                protocol::resolve_postgres(postgres, &format!("{field}.postgres"), port)?;
            (Http::none(timeout), protocol)
        }
    };
    Ok(WorkloadPlan {
        name,
        method: http.method,
        url: http.url,
        headers: http.headers,
        body: http.body,
        expect_status: http.expect_status,
        timeout: http.timeout,
        // Both ranges were checked above, so the conversions cannot fail.
        keys: u64::try_from(keys).unwrap_or(1000),
        weight: u32::try_from(weight).unwrap_or(1),
        protocol,
    })
}

/// The `http` table of a workload, resolved.
struct Http {
    method: http::Method,
    url: super::Template,
    headers: Vec<(String, super::Template)>,
    body: Option<super::Template>,
    expect_status: Vec<u16>,
    timeout: Duration,
}

impl Http {
    /// The HTTP fields of a workload that speaks another protocol: all empty.
    fn none(timeout: Duration) -> Self {
        Http {
            method: http::Method::GET,
            url: super::Template::literal(""),
            headers: Vec::new(),
            body: None,
            expect_status: Vec::new(),
            timeout,
        }
    }
}

fn resolve_http(raw: &RawHttp, field: &str, port: PortChoice) -> Result<Http, Diagnostic> {
    let method = match &raw.method {
        Some(method) => {
            let text = method.get_ref();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Diagnostic::new(
                    method.span(),
                    format!("{field}.method"),
                    format!("`{text}` is not an http method"),
                )
                .hint("write the method in uppercase letters, e.g. GET, PUT, POST, DELETE"));
            }
            // Uppercase ASCII letters are always a valid method token.
            http::Method::from_bytes(text.as_bytes()).map_err(|e| {
                Diagnostic::new(method.span(), format!("{field}.method"), e.to_string())
            })?
        }
        None => http::Method::GET,
    };
    let url_field = format!("{field}.url");
    template::check_http_url(&raw.url, &url_field, port)?;
    let url = template::parse(&raw.url, &url_field, Scope::Request)?;
    let mut headers = Vec::new();
    for (name, value) in raw.headers.iter().flatten() {
        let header_field = format!("{field}.headers.{name}");
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Diagnostic::new(
                value.span(),
                header_field,
                format!("`{name}` is not a valid http header name"),
            )
            .hint("header names are letters, digits and - (e.g. content-type)"));
        }
        if value.get_ref().chars().any(|c| c.is_control() && c != '\t') {
            return Err(Diagnostic::new(
                value.span(),
                header_field,
                "header values cannot contain control characters such as newlines",
            ));
        }
        headers.push((
            name.clone(),
            template::parse(value, &header_field, Scope::Request)?,
        ));
    }
    let body = match &raw.body {
        Some(body) => Some(template::parse(
            body,
            &format!("{field}.body"),
            Scope::Request,
        )?),
        None => None,
    };
    let expect_status = resolve_statuses(raw, field)?;
    let timeout = positive_duration(raw.timeout.as_ref(), &format!("{field}.timeout"))?
        .unwrap_or(Duration::from_secs(5));
    Ok(Http {
        method,
        url,
        headers,
        body,
        expect_status,
        timeout,
    })
}

fn resolve_statuses(raw: &RawHttp, field: &str) -> Result<Vec<u16>, Diagnostic> {
    let field = format!("{field}.expect_status");
    let Some(list) = &raw.expect_status else {
        return Ok(vec![200]);
    };
    if list.get_ref().is_empty() {
        return Err(
            Diagnostic::new(list.span(), field, "the list of expected statuses is empty")
                .hint("list at least one status, e.g. [200]"),
        );
    }
    list.get_ref()
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let value = int_in_range(status, &format!("{field}[{i}]"), 100, 599)?;
            // In 100..=599 by the check above.
            Ok(u16::try_from(value).unwrap_or(200))
        })
        .collect()
}

fn resolve_phases(
    raw: &[Spanned<RawPhase>],
    workloads: &[WorkloadPlan],
) -> Result<Vec<PhasePlan>, Diagnostic> {
    resolve_named(
        raw,
        "phase",
        "add a [[phase]] with name, kind = \"steady\", rate (or connections) and duration",
        |raw| &raw.name,
        |plan| &plan.name,
        |phase, field| resolve_phase(phase, field, workloads),
    )
}

fn resolve_phase(
    spanned: &Spanned<RawPhase>,
    field: &str,
    workloads: &[WorkloadPlan],
) -> Result<PhasePlan, Diagnostic> {
    let raw = spanned.get_ref();
    let name = checked_name(&raw.name, &format!("{field}.name"))?;
    let kind = match raw.kind.get_ref().as_str() {
        "steady" => PhaseKind::Steady,
        "soak" => PhaseKind::Soak,
        "ramp" => PhaseKind::Ramp,
        "integrity" => PhaseKind::Integrity,
        "scaling" => PhaseKind::Scaling,
        "bad_input" => PhaseKind::BadInput,
        other => {
            return Err(Diagnostic::new(
                raw.kind.span(),
                format!("{field}.kind"),
                format!("unknown phase kind `{other}`"),
            )
            .hint("allowed kinds: steady, soak, ramp, integrity, scaling, bad_input"));
        }
    };
    let workload_indices = resolve_phase_workloads(spanned, field, workloads)?;
    let ramp = ramp::resolve_ramp(spanned, kind, field)?;
    let (ramp, model) = match ramp {
        Some((ramp, model)) => (Some(ramp), model),
        None => (None, resolve_model(spanned, field)?),
    };
    let duration = positive_duration(Some(&raw.duration), &format!("{field}.duration"))?
        .unwrap_or(Duration::ZERO);
    let warmup = optional_duration(raw.warmup.as_ref(), &format!("{field}.warmup"))?
        .map_or(Duration::ZERO, |(d, _)| d);
    let integrity =
        integrity::resolve_integrity(spanned, kind, field, &workload_indices, workloads, model)?;
    let drain = optional_duration(raw.drain.as_ref(), &format!("{field}.drain"))?
        .map_or(Duration::from_secs(2), |(d, _)| d);
    let leak = leak::resolve_leak(raw.leak.as_ref(), kind, field)?;
    let scaling = scaling::resolve_scaling(spanned, kind, field, workloads)?;
    let bad_input =
        bad_input::resolve_bad_input(spanned, kind, field, &workload_indices, workloads, model)?;
    Ok(PhasePlan {
        name,
        kind,
        workloads: workload_indices,
        model,
        duration,
        warmup,
        drain,
        leak,
        ramp,
        integrity,
        scaling,
        bad_input,
    })
}

fn resolve_phase_workloads(
    spanned: &Spanned<RawPhase>,
    field: &str,
    workloads: &[WorkloadPlan],
) -> Result<Vec<usize>, Diagnostic> {
    let field = format!("{field}.workload");
    let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    let Some(reference) = &spanned.get_ref().workload else {
        if workloads.len() == 1 {
            return Ok(vec![0]);
        }
        return Err(Diagnostic::new(
            spanned.span(),
            field,
            "the spec has several workloads; say which this phase runs",
        )
        .hint(format!(
            "add workload = \"name\" or a list; workloads: {}",
            ListOf(&names)
        )));
    };
    let wanted: Vec<(String, std::ops::Range<usize>)> = match reference.get_ref() {
        WorkloadRef::One(name) => vec![(name.clone(), reference.span())],
        WorkloadRef::Many(list) => list
            .iter()
            .map(|n| (n.get_ref().clone(), n.span()))
            .collect(),
    };
    if wanted.is_empty() {
        return Err(
            Diagnostic::new(reference.span(), field, "the workload list is empty")
                .hint(format!("name at least one of: {}", ListOf(&names))),
        );
    }
    let mut indices = Vec::with_capacity(wanted.len());
    for (name, span) in wanted {
        let Some(index) = names.iter().position(|n| *n == name) else {
            return Err(unknown_reference(span, &field, "workload", &name, &names));
        };
        if indices.contains(&index) {
            return Err(Diagnostic::new(
                span,
                field,
                format!("workload `{name}` is listed twice"),
            ));
        }
        indices.push(index);
    }
    Ok(indices)
}

fn resolve_model(spanned: &Spanned<RawPhase>, field: &str) -> Result<LoadModel, Diagnostic> {
    let raw = spanned.get_ref();
    match (&raw.rate, &raw.connections) {
        (Some(_), Some(connections)) => Err(Diagnostic::new(
            connections.span(),
            format!("{field}.connections"),
            "a phase has either `rate` (open model) or `connections` (closed model), not both",
        )
        .hint("keep `rate` to offer a fixed arrival rate, or `connections` to run N clients back to back")),
        (None, None) => Err(Diagnostic::new(
            spanned.span(),
            field,
            "a phase needs `rate` (open model, requests/s) or `connections` (closed model)",
        )
        .hint("add e.g. rate = 500 or connections = 8")),
        (Some(rate), None) => {
            let rate = positive_number(rate, &format!("{field}.rate"))?;
            let max_connections = max_connections(raw, field)?;
            Ok(LoadModel::Open {
                rate,
                max_connections,
            })
        }
        (None, Some(connections)) => {
            if let Some(max) = &raw.max_connections {
                return Err(Diagnostic::new(
                    max.span(),
                    format!("{field}.max_connections"),
                    "`max_connections` applies only to the open model (`rate`)",
                )
                .hint("with `connections`, the number of connections is fixed; remove max_connections"));
            }
            let connections = connection_count(connections, &format!("{field}.connections"))?;
            Ok(LoadModel::Closed { connections })
        }
    }
}

// ---- shared helpers for the submodules ----

/// On a phase that is not a `kind` phase, the first of that kind's fields that is set
/// (`fields`: each name with its span where set) is an error.
fn refuse_fields_of<const N: usize>(
    kind: &str,
    field: &str,
    fields: [(&str, Option<Range<usize>>); N],
) -> Result<(), Diagnostic> {
    match fields.into_iter().find(|(_, span)| span.is_some()) {
        Some((name, Some(span))) => Err(Diagnostic::new(
            span,
            format!("{field}.{name}"),
            format!("`{name}` applies only to {kind} phases"),
        )
        .hint(format!(
            "set kind = \"{kind}\" on this phase, or remove the field"
        ))),
        _ => Ok(()),
    }
}

/// Where a field of a phase is written, or the phase itself where it is absent.
fn field_or_phase<T>(spanned: &Spanned<RawPhase>, value: Option<&Spanned<T>>) -> Range<usize> {
    value.map_or_else(|| spanned.span(), Spanned::span)
}

/// A diagnostic that has no place in the file (e.g. a missing array of tables).
fn nowhere(field: &str, message: &str) -> Diagnostic {
    Diagnostic {
        span: None,
        field: field.to_string(),
        message: message.to_string(),
        hint: None,
    }
}

/// A reference to a `kind` named `name` that does not exist among `names`.
fn unknown_reference(
    span: std::ops::Range<usize>,
    field: &str,
    kind: &str,
    name: &str,
    names: &[&str],
) -> Diagnostic {
    let mut hint = format!("{kind}s in this spec: {}", ListOf(names));
    if let Some(near) = closest(name, names) {
        hint = format!("did you mean `{near}`? {hint}");
    }
    Diagnostic::new(span, field, format!("unknown {kind} `{name}`")).hint(hint)
}

/// A non-empty name without control characters or surrounding spaces.
fn checked_name(name: &Spanned<String>, field: &str) -> Result<String, Diagnostic> {
    let text = name.get_ref();
    if text.trim().is_empty() {
        return Err(Diagnostic::new(name.span(), field, "the name is empty"));
    }
    if text.trim() != text || text.chars().any(char::is_control) {
        return Err(Diagnostic::new(
            name.span(),
            field,
            format!(
                "name `{}` has surrounding spaces or control characters",
                text.escape_debug()
            ),
        ));
    }
    Ok(text.clone())
}

/// An integer within `min..=max`.
fn int_in_range(value: &Spanned<i64>, field: &str, min: i64, max: i64) -> Result<i64, Diagnostic> {
    let v = *value.get_ref();
    if (min..=max).contains(&v) {
        Ok(v)
    } else if max == i64::MAX {
        Err(Diagnostic::new(
            value.span(),
            field,
            format!("must be at least {min}, not {v}"),
        ))
    } else {
        Err(Diagnostic::new(
            value.span(),
            field,
            format!("must be between {min} and {max}, not {v}"),
        ))
    }
}

/// A number of connections: 1 to 1,000,000.
fn connection_count(value: &Spanned<i64>, field: &str) -> Result<usize, Diagnostic> {
    int_in_range(value, field, 1, 1_000_000).map(as_usize)
}

/// The phase's `max_connections`, or [`DEFAULT_MAX_CONNECTIONS`] where it has none.
fn max_connections(raw: &RawPhase, field: &str) -> Result<usize, Diagnostic> {
    match &raw.max_connections {
        Some(m) => connection_count(m, &format!("{field}.max_connections")),
        None => Ok(DEFAULT_MAX_CONNECTIONS),
    }
}

fn as_usize(value: i64) -> usize {
    // Callers pass values already range-checked to 1..=1_000_000.
    usize::try_from(value).unwrap_or(1)
}

/// A finite number greater than zero.
fn positive_number(value: &Spanned<f64>, field: &str) -> Result<f64, Diagnostic> {
    let v = *value.get_ref();
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Diagnostic::new(
            value.span(),
            field,
            format!("must be a finite number greater than 0, not {v}"),
        ))
    }
}

/// An optional duration, parsed, with its span.
fn optional_duration(
    value: Option<&Spanned<String>>,
    field: &str,
) -> Result<Option<(Duration, std::ops::Range<usize>)>, Diagnostic> {
    let duration = optional_in_units(
        value,
        field,
        units::parse_duration,
        "duration",
        "write a duration such as \"250ms\", \"5s\", \"1m30s\"",
    )?;
    Ok(duration.zip(value.map(Spanned::span)))
}

/// An optional field written in units: `None` where absent, else `parse` of its
/// text; text that does not parse is an error `invalid {what}: …` with `hint`.
fn optional_in_units<T>(
    value: Option<&Spanned<String>>,
    field: &str,
    parse: impl FnOnce(&str) -> Result<T, units::UnitError>,
    what: &str,
    hint: impl Into<String>,
) -> Result<Option<T>, Diagnostic> {
    let Some(value) = value else {
        return Ok(None);
    };
    parse(value.get_ref()).map(Some).map_err(|error| {
        Diagnostic::new(value.span(), field, format!("invalid {what}: {error}")).hint(hint)
    })
}

/// An optional duration that must be longer than zero.
fn positive_duration(
    value: Option<&Spanned<String>>,
    field: &str,
) -> Result<Option<Duration>, Diagnostic> {
    match optional_duration(value, field)? {
        Some((duration, span)) if duration.is_zero() => {
            Err(Diagnostic::new(span, field, "must be longer than 0s"))
        }
        other => Ok(other.map(|(d, _)| d)),
    }
}

//! Entry points for the coverage-guided fuzz targets in `fuzz/` (cargo-fuzz): each
//! takes the fuzzer's bytes and runs gonogo's own code on them, from memory. Hidden
//! from the docs; not an API.
//!
//! Owns: [`spec_check`] (what `gonogo check` does with a spec text, rendering
//! included), [`resp_reply`] and [`pg_session`] (a scripted server's bytes through
//! the real client and gonogo's workload, see [`wire`]) and [`http_response`] (the
//! load path's HTTP reader, from memory).
//! Does not own: the fuzz targets, corpora and dictionaries (`fuzz/`).

mod http;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "redis")]
mod resp;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod wire;

use std::hint::black_box;
use std::path::Path;

use crate::api::{ApiError, format};
use crate::plan::{self, LoadModel, Plan};
use crate::spec::{self, Diagnostic};

pub use http::http_response;
#[cfg(feature = "postgres")]
pub use pg::pg_session;
#[cfg(feature = "redis")]
pub use resp::resp_reply;

/// Check `data` as a spec file's text, as `gonogo check` does (parse, resolve,
/// warnings, the summary it prints), with every error rendered as the command line
/// shows it. The service's program is not looked up (that is the file system's),
/// but the error that names it is rendered.
pub fn spec_check(data: &[u8]) {
    // `plan::load` reads the file as UTF-8 and refuses anything else.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Path::new("fuzz/spec.toml");
    match plan::from_str(origin, text) {
        Ok(plan) => {
            black_box(summary(&plan));
            black_box(missing_program_error(&plan, origin, text));
        }
        Err(err) => {
            black_box(shown(&ApiError::Spec(err)));
        }
    }
}

/// An error as the command line prints it: line by line, control characters
/// escaped, with its causes.
fn shown(err: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cause = Some(err);
    while let Some(err) = cause {
        for line in err.to_string().lines() {
            out.push_str(&format::printable(line));
            out.push('\n');
        }
        cause = err.source();
    }
    out
}

/// What `gonogo check` prints for a valid spec, and what `run` derives before it
/// starts (each phase's total time).
fn summary(plan: &Plan) -> String {
    let mut out = format!(
        "campaign {}: {} workload(s), {} phase(s), {} criteria\n",
        format::printable(&plan.name),
        plan.workloads.len(),
        plan.phases.len(),
        plan.criteria.len()
    );
    for phase in &plan.phases {
        let model = match phase.model {
            LoadModel::Open {
                rate,
                max_connections,
            } => format!("open {} ({max_connections})", format::per_second(rate)),
            LoadModel::Closed { connections } => format!("closed {connections}"),
        };
        out.push_str(&format!(
            "{} {} {model} {} {} {}\n",
            format::printable(&phase.name),
            phase.kind.as_str(),
            format::duration(phase.warmup),
            format::duration(phase.duration),
            format::duration(phase.total()),
        ));
        if let Some(ramp) = &phase.ramp {
            for rate in ramp.rates() {
                out.push_str(&format::per_second(rate));
            }
        }
    }
    for warning in plan::warnings::certain_inconclusive(plan) {
        out.push_str(&warning);
    }
    if let Some(warning) = crate::service::detached_warning(&plan.service.command) {
        out.push_str(&warning);
    }
    out.push_str(&plan.remote_targets().join(", "));
    out
}

/// The error `gonogo check` gives when the service's program is missing, placed
/// at `service.command` as `api::check` places it.
fn missing_program_error(plan: &Plan, origin: &Path, text: &str) -> String {
    let program = plan
        .service
        .command
        .first()
        .map(|t| t.render_with_port(0))
        .unwrap_or_default();
    let span = spec::parse(text)
        .ok()
        .map(|raw| raw.service.get_ref().command.span())
        .unwrap_or(0..0);
    let message = format!("the service program `{program}` does not exist");
    let err = Diagnostic::new(span, "service.command", message)
        .hint("build or install it")
        .into_spec_error(origin, text);
    shown(&ApiError::Spec(err))
}

#[cfg(test)]
mod tests;

//! The campaign spec: the TOML file users write, read strictly and turned into a
//! [`Plan`].
//!
//! Owns: reading the file, TOML syntax and shape errors (`raw` mirrors the file with
//! `deny_unknown_fields`), and placing every error at file:line:column with a field
//! path and advice ([`SpecError`]). Does not own: what the values mean; that is
//! `plan::resolve`, which validates the raw spec and builds the typed plan.
//!
//! Field paths use 0-based indices for arrays of tables: `phase[1].rate` is the
//! `rate` of the second `[[phase]]`.

mod error;
mod locate;
#[cfg(test)]
mod phase_tests;
pub mod raw;
#[cfg(test)]
mod scaling_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{Diagnostic, SpecError, line_column};
pub(crate) use error::{ListOf, closest};

use crate::plan::{self, Plan};

/// Read and resolve the spec at `path`. Returns the plan and the spec text as read
/// (for the evidence store). An unreadable file is a [`SpecError`] naming it.
pub fn load(path: &Path) -> Result<(Plan, String), SpecError> {
    let text = std::fs::read_to_string(path).map_err(|error| SpecError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        field: String::new(),
        message: format!("cannot read the spec file: {error}"),
        hint: Some("check the path; a spec is a UTF-8 TOML file".to_string()),
    })?;
    let plan = plan_from_str(path, &text)?;
    Ok((plan, text))
}

/// Parse and resolve spec `text`. `origin` names the file in messages, gives the
/// default campaign name (its stem) and the base for the service's `cwd` (its
/// parent directory).
pub fn plan_from_str(origin: &Path, text: &str) -> Result<Plan, SpecError> {
    let spec = parse(text).map_err(|d| d.into_spec_error(origin, text))?;
    plan::resolve(&spec, origin).map_err(|d| d.into_spec_error(origin, text))
}

/// Parse `text` into the raw spec, checking syntax and shape only.
pub fn parse(text: &str) -> Result<raw::Spec, Diagnostic> {
    toml::from_str::<raw::Spec>(text).map_err(|error| locate::from_toml_error(&error, text))
}

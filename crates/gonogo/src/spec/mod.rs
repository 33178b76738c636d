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
pub mod raw;

pub use error::{Diagnostic, SpecError, line_column};
pub(crate) use error::{ListOf, closest};

/// Parse `text` into the raw spec, checking syntax and shape only.
pub fn parse(text: &str) -> Result<raw::Spec, Diagnostic> {
    toml::from_str::<raw::Spec>(text).map_err(|error| locate::from_toml_error(&error, text))
}

//! Reports: one model built from a run's evidence, findings and verdict, rendered as
//! text for a terminal, Markdown for a pull-request comment, or JSON for machines.
//!
//! Owns: the report model (`model`, `build`), value formatting (`format`), one module
//! per renderer, the JSON schema of the JSON report, and redaction of run-varying
//! values for snapshot tests. Does not own: evaluation or the verdict, nor writing
//! anything anywhere — every function returns a `String`. Pure: no I/O, no clock.

mod build;
pub mod format;
mod json;
mod markdown;
pub mod model;
pub mod redact;
mod table;
mod terminal;
mod text;

#[cfg(test)]
mod tests;

pub(crate) use build::event_detail;
pub use model::{FORMAT_VERSION, ReportModel};
pub use redact::redact;

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text for a terminal: verdict first, then findings and key figures.
    Terminal,
    /// Pretty-printed JSON of [`ReportModel`], described by `schema/report.schema.json`.
    Json,
    /// GitHub-flavoured Markdown for a pull-request comment.
    Markdown,
}

impl Format {
    /// All formats, in the order `--help` lists them.
    pub const ALL: [Format; 3] = [Format::Terminal, Format::Json, Format::Markdown];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Terminal => "terminal",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }

    /// Parse a format name (`terminal`, `json`, `markdown`; `text` and `md` are
    /// accepted as aliases). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "terminal" | "text" => Some(Format::Terminal),
            "json" => Some(Format::Json),
            "markdown" | "md" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// Render a report in the given format.
pub fn render(model: &ReportModel, format: Format) -> String {
    match format {
        Format::Terminal => terminal::render(model),
        Format::Json => json::render(model),
        Format::Markdown => markdown::render(model),
    }
}

/// The JSON Schema (draft 2020-12) of the JSON report, as committed in
/// `schema/report.schema.json`.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(ReportModel).to_value()
}

/// Why response time and service time differ, in one line; every renderer prints it
/// next to the two.
pub const RESPONSE_VS_SERVICE: &str = "response time is measured from when the request was due to \
     be sent, so it includes queueing caused by a slow service; service time starts at the actual \
     send";

//! Reports: one model built from a run's evidence, findings and verdict, rendered as
//! text for a terminal, Markdown for a pull-request comment, JSON for machines, a
//! self-contained HTML page with charts for people, or JUnit XML for CI.
//!
//! Owns: the report model (`model`, `build`, `timeline`), value formatting (`format`),
//! one module per renderer (the HTML page draws its charts as inline SVG with `svg`,
//! downsampled by `lttb`), comparing two runs (`compare`), the JSON schema of the JSON
//! report, and redaction of run-varying values for snapshot tests. Does not own: evaluation or the verdict, nor writing
//! anything anywhere — every function returns a `String`. Pure: no I/O, no clock.

mod analysis;
pub mod bad_input;
#[cfg(test)]
mod bad_input_tests;
mod build;
mod capacity_chart;
mod compare;
pub mod health;
mod html;
pub mod integrity;
mod json;
mod junit;
mod lttb;
mod markdown;
mod markdown_text;
pub mod model;
mod plot;
mod recovery_chart;
#[cfg(test)]
mod redact;
mod runs;
mod scaling;
mod scaling_chart;
mod soak_chart;
mod stop;
mod svg;
mod table;
mod terminal;
mod text;
mod timeline;

#[cfg(test)]
mod analysis_fixture;
#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod scaling_tests;
#[cfg(test)]
mod stop_tests;
#[cfg(test)]
mod tests;

pub use capacity_chart::{CapacityChart, CapacityStep};
pub use compare::{PLAIN_DELTA, render_comparison};
pub use model::{FORMAT_VERSION, ReportModel};
pub use recovery_chart::{FaultBand, RecoveryRow};
pub use runs::runs_table;
pub use soak_chart::{SoakTrend, TrendFit};
pub use stop::{StopCause, StopInfo, StopKind};
pub use timeline::POINT_CAP;

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text for a terminal: verdict first, then findings and key figures.
    Terminal,
    /// Pretty-printed JSON of [`ReportModel`], described by `schema/report.schema.json`.
    Json,
    /// GitHub-flavoured Markdown for a pull-request comment or a CI job summary.
    Markdown,
    /// One self-contained HTML page with inline SVG charts; no script, no network.
    Html,
    /// JUnit XML: one suite per phase, one test case per criterion.
    Junit,
}

impl Format {
    /// All formats, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Terminal,
        Format::Json,
        Format::Markdown,
        Format::Html,
        Format::Junit,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Terminal => "terminal",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Junit => "junit",
        }
    }

    /// Parse a format name (`terminal`, `json`, `markdown`, `html`, `junit`; `text`,
    /// `md` and `xml` are accepted as aliases). Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "terminal" | "text" => Some(Format::Terminal),
            "json" => Some(Format::Json),
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "junit" | "xml" => Some(Format::Junit),
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
        Format::Html => html::render(model),
        Format::Junit => junit::render(model),
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

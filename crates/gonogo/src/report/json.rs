//! The JSON renderer: the report model, pretty-printed.
//!
//! Owns: nothing but the serialisation call; the shape is the model's and is described
//! by the committed `schema/report.schema.json`.

use super::ReportModel;

/// Pretty-printed JSON of the model, with a trailing newline.
pub(super) fn render(model: &ReportModel) -> String {
    match serde_json::to_string_pretty(model) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // The model has only string map keys and finite numbers, so serialisation
        // cannot fail; say so in JSON rather than panic if that ever changes.
        Err(error) => format!(
            "{}\n",
            serde_json::json!({ "error": format!("could not serialise the report: {error}") })
        ),
    }
}

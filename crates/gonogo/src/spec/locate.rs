//! Turning a `toml` parse or deserialization error into a [`Diagnostic`] with a
//! field path.
//!
//! Owns: finding which key a byte offset belongs to (by walking the spanned
//! document tree), and rewording serde's unknown-field and missing-field messages
//! into "what is wrong" + "what is allowed". Does not own: semantic checks.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Diagnostic, closest, tidy_serde_message};

/// A `toml` error as a diagnostic. `text` is the document the error came from.
pub fn from_toml_error(error: &toml::de::Error, text: &str) -> Diagnostic {
    let message = error.message().trim().to_string();
    let span = error.span();
    if DeTable::parse(text).is_err() {
        return Diagnostic {
            span,
            field: String::new(),
            message: format!("invalid TOML: {message}"),
            hint: Some("see https://toml.io for the syntax".to_string()),
        };
    }
    let mut path = match &span {
        Some(span) => field_path_at(text, span.start),
        None => String::new(),
    };
    if let Some((field, allowed)) = parse_unknown_field(&message) {
        let mut hint = match allowed.as_slice() {
            [] => "this table takes no fields".to_string(),
            names => format!("allowed fields here: {}", names.join(", ")),
        };
        let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
        if let Some(near) = closest(&field, &names) {
            hint = format!("did you mean `{near}`? {hint}");
        }
        return Diagnostic {
            span,
            field: path,
            message: format!("unknown field `{field}`"),
            hint: Some(hint),
        };
    }
    if let Some(field) = parse_missing_field(&message) {
        // A missing top-level field comes with an empty span at offset 0: it has
        // no place in the file. Nested ones point at their table's header.
        let top_level = span.as_ref().is_none_or(|s| s.is_empty());
        let span = if top_level {
            path.clear();
            None
        } else {
            span
        };
        push_key(&mut path, &field);
        return Diagnostic {
            span,
            field: path,
            message: format!("missing required field `{field}`"),
            hint: None,
        };
    }
    let hint = (message.ends_with("expected a string") && is_duration_field(&path))
        .then(|| "durations are strings with a unit, e.g. \"30s\" or \"250ms\"".to_string());
    Diagnostic {
        span,
        field: path,
        message: tidy_serde_message(&message),
        hint,
    }
}

/// Whether the last key of `path` names a duration field.
fn is_duration_field(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    matches!(
        last,
        "duration" | "warmup" | "drain" | "timeout" | "interval" | "sample_interval" | "grace"
    )
}

/// `unknown field `x`, expected one of `a`, `b`` → (`x`, [a, b]).
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let allowed = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field.to_string(), allowed))
}

fn parse_missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    let (field, _) = rest.split_once('`')?;
    Some(field.to_string())
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// The field path (`phase[1].rate`) of the innermost key or value at byte
/// `offset`, or an empty string when the text does not parse or nothing matches.
pub fn field_path_at(text: &str, offset: usize) -> String {
    let Ok(root) = DeTable::parse(text) else {
        return String::new();
    };
    let mut best: Option<(usize, String)> = None;
    visit_table(root.get_ref(), "", offset, &mut best);
    best.map(|(_, path)| path).unwrap_or_default()
}

/// Whether `span` covers `offset` (an empty span covers its start).
fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// Keep the narrowest span covering `offset`; on equal width, the deeper path.
fn consider(span: &Range<usize>, path: &str, offset: usize, best: &mut Option<(usize, String)>) {
    if !covers(span, offset) {
        return;
    }
    let width = span.len();
    let better = match best {
        None => true,
        Some((w, p)) => width < *w || (width == *w && path.len() > p.len()),
    };
    if better {
        *best = Some((width, path.to_string()));
    }
}

fn visit_table(
    table: &DeTable<'_>,
    prefix: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    for (key, value) in table.iter() {
        let mut path = prefix.to_string();
        push_key(&mut path, key.get_ref());
        consider(&key.span(), &path, offset, best);
        visit_value(value, &path, offset, best);
    }
}

fn visit_value(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    consider(&value.span(), path, offset, best);
    match value.get_ref() {
        DeValue::Table(table) => visit_table(table, path, offset, best),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                visit_value(item, &format!("{path}[{i}]"), offset, best);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name = \"x\"\n[service]\nready = { http = \"u\" }\n\n[[phase]]\nname = \"a\"\n\n[[phase]]\nname = \"b\"\nrate = 5\n";

    #[test]
    fn paths_name_tables_array_items_and_inline_keys() {
        let at = |needle: &str| field_path_at(DOC, DOC.find(needle).unwrap_or(usize::MAX));
        assert_eq!(at("\"x\""), "name");
        assert_eq!(at("[service]"), "service");
        assert_eq!(at("http"), "service.ready.http");
        assert_eq!(at("\"u\""), "service.ready.http");
        assert_eq!(at("rate"), "phase[1].rate");
        assert_eq!(at("5"), "phase[1].rate");
        assert_eq!(at("name = \"b\""), "phase[1].name");
        let second_header = DOC.rfind("[[phase]]").unwrap_or(0);
        assert_eq!(field_path_at(DOC, second_header), "phase[1]");
    }

    #[test]
    fn unparsable_text_has_no_path() {
        assert_eq!(field_path_at("a = [", 2), "");
    }
}

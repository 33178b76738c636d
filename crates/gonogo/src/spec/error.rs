//! Spec errors: [`Diagnostic`] (a problem at a byte span, produced by parsing and by
//! `plan::resolve`) and [`SpecError`] (the same problem placed at file:line:column,
//! what users see).
//!
//! Owns: byte offset → line/column conversion and the wording of serde's generic
//! messages. Does not own: deciding what is wrong (that is `raw`, `locate` and
//! `plan::resolve`).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem found in a spec text, located by byte span. Converted to a
/// [`SpecError`] once the file name and text are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the spec text; `None` when the problem has no place (e.g. a
    /// required top-level table is missing).
    pub span: Option<Range<usize>>,
    /// Field path such as `phase[1].rate` (indices are 0-based); may be empty.
    pub field: String,
    /// What is wrong, lowercase.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A problem at `span` in `field`.
    pub fn new(span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            span: Some(span),
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// Attach advice.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Place this diagnostic in `file`, whose contents are `text`.
    pub fn into_spec_error(self, file: &Path, text: &str) -> SpecError {
        let (line, column) = match self.span {
            Some(span) => line_column(text, span.start),
            None => (0, 0),
        };
        SpecError {
            file: file.to_path_buf(),
            line,
            column,
            field: self.field,
            message: self.message,
            hint: self.hint,
        }
    }
}

/// An invalid spec, placed in its file. Displays as
/// `examples/demo.toml:14:8: phase[1].rate: <message> (hint: <hint>)`; the
/// `line:column` part is left out when the line is unknown (0), the field part
/// when there is no field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct SpecError {
    pub file: PathBuf,
    /// 1-based; 0 when unknown.
    pub line: usize,
    /// 1-based, in characters; 0 when unknown.
    pub column: usize,
    /// Field path such as `phase[1].rate`; empty when the problem is the whole file.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl SpecError {
    fn render(&self) -> String {
        let mut out = self.file.display().to_string();
        if self.line > 0 {
            out.push_str(&format!(":{}:{}", self.line, self.column));
        }
        out.push_str(": ");
        if !self.field.is_empty() {
            out.push_str(&self.field);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        if let Some(hint) = &self.hint {
            out.push_str(&format!(" (hint: {hint})"));
        }
        out
    }
}

/// 1-based line and character column of byte `offset` in `text`. Offsets past the
/// end or inside a character are clamped; never panics.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Serde's type names (`f64`, `i64`) reworded for people writing TOML.
pub(crate) fn tidy_serde_message(message: &str) -> String {
    let mut out = message.to_string();
    for (from, to) in [
        ("expected f64", "expected a number"),
        ("expected i64", "expected an integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected struct ", "expected a table "),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// Display helper: `a, b, c` from a list of names.
pub(crate) struct ListOf<'a, T>(pub &'a [T]);

impl<T: fmt::Display> fmt::Display for ListOf<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none)");
        }
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be
/// a likely typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (1, 5));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters.
        assert_eq!(line_column(text, 12), (2, 6));
        // Inside the two-byte `é`, and past the end: clamped.
        assert_eq!(line_column(text, 8), (2, 2));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn display_has_location_field_message_and_hint() {
        let error = SpecError {
            file: PathBuf::from("examples/demo.toml"),
            line: 14,
            column: 8,
            field: "phase[1].rate".into(),
            message: "must be greater than 0".into(),
            hint: Some("write a rate such as 500".into()),
        };
        assert_eq!(
            error.to_string(),
            "examples/demo.toml:14:8: phase[1].rate: must be greater than 0 (hint: write a rate such as 500)"
        );
        let unplaced = SpecError {
            line: 0,
            column: 0,
            field: String::new(),
            hint: None,
            ..error
        };
        assert_eq!(
            unplaced.to_string(),
            "examples/demo.toml: must be greater than 0"
        );
    }

    #[test]
    fn closest_suggests_only_near_misses() {
        assert_eq!(closest("rat", &["rate", "name"]), Some("rate"));
        assert_eq!(
            closest("latency.p98", &["latency.p99", "lag.p99"]),
            Some("latency.p99")
        );
        assert_eq!(closest("zzzz", &["rate", "name"]), None);
    }
}

//! A plain-text table with aligned columns, for the terminal renderer.
//!
//! Owns: column widths (in characters, not bytes, so `µs` aligns), alignment, and
//! fitting a width: a table too wide wraps its last column, or else stacks each row
//! as `header: value` lines. Every cell is made printable (control characters
//! escaped), since names and texts come from specs and services.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

/// Rows of cells under a header, rendered with two spaces between columns.
#[derive(Debug)]
pub(super) struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(super) fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row; missing cells are blank, extra cells are dropped.
    pub(super) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .iter()
                .map(|c| crate::units::format::printable(c))
                .collect(),
        );
    }

    /// [`Table::render`] when every line fits `max` characters; otherwise the last
    /// column wrapped under itself when it is left-aligned and the others leave it
    /// room; otherwise each row stacked: its first cell, then `header: value` lines.
    pub(super) fn render_fit(&self, indent: &str, max: usize) -> String {
        let plain = self.render(indent);
        if plain.lines().all(|l| l.chars().count() <= max) {
            return plain;
        }
        let widths = self.widths();
        let last = self.columns.len().saturating_sub(1);
        let before: usize =
            indent.chars().count() + widths[..last].iter().map(|w| w + 2).sum::<usize>();
        if last > 0 && self.columns[last].1 == Align::Left && before + 24 <= max {
            return self.render_wrapped(indent, before, max);
        }
        self.render_stacked(indent, max)
    }

    /// Every column but the last as in [`Table::render`]; the last wrapped to `max`,
    /// its continuation lines starting at column `at`.
    fn render_wrapped(&self, indent: &str, at: usize, max: usize) -> String {
        let widths = self.widths();
        let last = self.columns.len() - 1;
        let mut out = String::new();
        for cells in std::iter::once(&self.header()).chain(&self.rows) {
            let lead = format!("{}  ", self.line(indent, cells, &widths[..last]));
            let text = cells.get(last).map_or("", String::as_str);
            out.push_str(&super::text::wrap(text, &lead, &" ".repeat(at), max));
        }
        out
    }

    /// Each row as its first cell, then one `header: value` line per other cell.
    fn render_stacked(&self, indent: &str, max: usize) -> String {
        let mut out = String::new();
        let deeper = format!("{indent}    ");
        for cells in &self.rows {
            let first = cells.first().map_or("", String::as_str);
            let title = if first.is_empty() {
                &self.columns[0].0
            } else {
                first
            };
            out.push_str(&super::text::wrap(title, indent, &deeper, max));
            for ((name, _), cell) in self.columns.iter().zip(cells).skip(1) {
                let lead = format!("{indent}  {name}: ");
                out.push_str(&super::text::wrap(cell, &lead, &deeper, max));
            }
        }
        out
    }

    fn widths(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| cell.chars().count())
                    .chain([name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Render every line with `indent` in front and trailing spaces trimmed.
    pub(super) fn render(&self, indent: &str) -> String {
        let widths = self.widths();
        let mut out = String::new();
        for cells in std::iter::once(&self.header()).chain(&self.rows) {
            out.push_str(self.line(indent, cells, &widths).trim_end());
            out.push('\n');
        }
        out
    }

    fn header(&self) -> Vec<String> {
        self.columns.iter().map(|(name, _)| name.clone()).collect()
    }

    /// One row's cells padded to `widths` (as many columns as `widths` has), untrimmed.
    fn line(&self, indent: &str, cells: &[String], widths: &[usize]) -> String {
        let mut line = String::from(indent);
        for (i, ((_, align), width)) in self.columns.iter().zip(widths).enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            if i > 0 {
                line.push_str("  ");
            }
            match align {
                Align::Left => line.push_str(&format!("{cell}{pad}")),
                Align::Right => line.push_str(&format!("{pad}{cell}")),
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters() {
        let mut table = Table::new(&[("name", Align::Left), ("value", Align::Right)]);
        table.row(vec!["p50".into(), "900 µs".into()]);
        table.row(vec!["p99.9".into(), "12.0 ms".into()]);
        let text = table.render("  ");
        assert_eq!(
            text,
            "  name     value\n  p50     900 µs\n  p99.9  12.0 ms\n"
        );
    }
}

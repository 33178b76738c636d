//! A small SVG frame for the HTML report's analysis charts (capacity steps, soak
//! trends, recovery times): a plot area with a value axis in a unit, grid lines,
//! labelled ticks and axis titles.
//!
//! Owns: the geometry and markup those charts share. Every label drawn is escaped
//! here. Does not own: the time charts on the run's shared axis (`svg`), nor what a
//! chart plots (`capacity_chart`, `soak_chart`, `recovery_chart`).

use std::fmt::Write;

use super::html::escape;
use super::svg::{Scale, grid_line, unit_title, value_label, value_step};

/// Width of every analysis chart's view box.
pub(super) const WIDTH: f64 = 960.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

/// A plot area of `height` pixels with a vertical value axis from 0 (or `y_min`) to a
/// round number above `y_max`, in `unit`.
pub(super) struct Frame {
    pub height: f64,
    pub unit: String,
    pub y: Scale,
    y_step: f64,
    y_top: f64,
    y_min: f64,
}

impl Frame {
    /// A frame whose value axis covers `[y_min, y_max]` (`y_min` is usually 0).
    pub(super) fn new(height: f64, unit: &str, y_min: f64, y_max: f64) -> Frame {
        let span = (y_max - y_min).max(0.0);
        let y_step = value_step(super::svg::unit_of(unit), span);
        let y_min = if y_min > 0.0 {
            (y_min / y_step).floor() * y_step
        } else {
            y_min
        };
        let y_top = if y_max > y_min {
            y_min + ((y_max - y_min) / y_step).ceil() * y_step
        } else {
            y_min + y_step
        };
        Frame {
            height,
            unit: unit.to_string(),
            y: Scale::new((y_min, y_top), (height - BOTTOM, TOP)),
            y_step,
            y_top,
            y_min,
        }
    }

    /// The horizontal pixel range of the plot area.
    pub(super) fn x_range(&self) -> (f64, f64) {
        (LEFT, WIDTH - RIGHT)
    }

    /// The vertical pixel range of the plot area, top first.
    pub(super) fn y_range(&self) -> (f64, f64) {
        (TOP, self.height - BOTTOM)
    }

    /// Open the `<svg>` and draw the value axis, its grid and its title.
    pub(super) fn open(&self, out: &mut String, id: &str, label: &str) {
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart {}" viewBox="0 0 {WIDTH} {}" role="img" aria-label="{}">"#,
            escape(id),
            self.height,
            escape(label)
        );
        let mut v = self.y_min;
        let mut guard = 0;
        while v <= self.y_top * (1.0 + 1e-9) + 1e-12 && guard < 24 {
            let py = self.y.map(v);
            grid_line(out, self.x_range(), py, &value_label(&self.unit, v));
            v += self.y_step;
            guard += 1;
        }
        let base = self.height - BOTTOM;
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{base}" y2="{base}" class="axisline"/><text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle" class="axis">{}</text>"#,
            WIDTH - RIGHT,
            (TOP + base) / 2.0,
            unit_title(&self.unit)
        );
    }

    /// A tick label under the plot area at pixel `px`.
    pub(super) fn x_tick(&self, out: &mut String, px: f64, label: &str) {
        let base = self.height - BOTTOM;
        let _ = write!(
            out,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="{base}" y2="{}" class="axisline"/><text x="{px:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
            base + 4.0,
            base + 16.0,
            escape(label)
        );
    }

    /// The title of the horizontal axis and the closing tag.
    pub(super) fn close(&self, out: &mut String, x_title: &str) {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" class="axis">{}</text></svg>"#,
            WIDTH - RIGHT,
            self.height - 4.0,
            escape(x_title)
        );
    }
}

/// A polyline through `points` (already in pixels).
pub(super) fn polyline(out: &mut String, points: &[(f64, f64)], class: &str, colour: &str) {
    if points.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<polyline class="{class}" fill="none" stroke="{colour}" points=""#
    );
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{x:.1},{y:.1}");
    }
    out.push_str(r#""/>"#);
}

/// An analysis section of the HTML page, `<section class="{class}"><h2>{title}</h2>`,
/// with `figure` writing each item's figure; nothing without items.
pub(super) fn section<T>(
    out: &mut String,
    class: &str,
    title: &str,
    items: &[T],
    mut figure: impl FnMut(&T, &mut String),
) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "<section class=\"{class}\"><h2>{title}</h2>");
    for item in items {
        figure(item, out);
    }
    out.push_str("</section>\n");
}

/// A legend of `(colour, name)` swatches.
pub(super) fn legend(out: &mut String, items: &[(&str, &str)]) {
    out.push_str("<ul class=\"legend\">");
    for (colour, name) in items {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            escape(colour),
            escape(name)
        );
    }
    out.push_str("</ul>");
}

/// `text` with its first letter in upper case (a caption that starts a sentence).
pub(super) fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_axis_starts_at_a_round_number_and_covers_the_maximum() {
        let frame = Frame::new(200.0, "seconds", 0.0, 0.047);
        assert!(
            frame.y_top >= 0.047 && frame.y_top <= 0.06,
            "{}",
            frame.y_top
        );
        let frame = Frame::new(200.0, "bytes", 10.0 * 1048576.0, 12.5 * 1048576.0);
        assert!(frame.y_min <= 10.0 * 1048576.0 && frame.y_min > 0.0);
        let mut out = String::new();
        frame.open(&mut out, "soak-<x>", "a \"label\"");
        frame.close(&mut out, "time");
        assert!(out.contains("MiB") && out.ends_with("</svg>"));
        assert!(!out.contains("<x>") && !out.contains("\"label\""));
    }
}

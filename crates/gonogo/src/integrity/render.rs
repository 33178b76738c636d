//! Rendering a workload template for one integrity operation on a known key.
//!
//! Owns: [`render_kv`], the one place where an integrity client turns a template
//! into text. Does not own: choosing keys or values (the integrity phase), nor the
//! load driver's per-request rendering (`load::request`).

use crate::plan::{Segment, Template};

/// Render `template` for an integrity operation: `{port}` is `port`, `{key}` is
/// `key`. `{seq}` and `{random}` mean nothing for a single known key and render as
/// nothing. `{value}` is `value`, the value being written (empty for reads).
pub fn render_kv(template: &Template, port: u16, key: &str, value: &str) -> String {
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Port => out.push_str(&port.to_string()),
            Segment::Key => out.push_str(key),
            Segment::Value => out.push_str(value),
            Segment::Seq | Segment::Random => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_port_are_filled_in() {
        let template = Template {
            segments: vec![
                Segment::Literal("k:".into()),
                Segment::Key,
                Segment::Literal("@".into()),
                Segment::Port,
                Segment::Seq,
                Segment::Random,
            ],
        };
        assert_eq!(render_kv(&template, 6379, "w-1", "v"), "k:w-1@6379");
    }
}

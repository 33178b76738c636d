//! Data as Markdown: every string of a Markdown report that came from the spec, the
//! service or the store (names, descriptions, criteria, finding texts, what the
//! service answered or wrote, event texts, units) goes through one of these, so that a
//! CommonMark or GFM renderer (a CI job summary, a pull-request comment) makes no raw
//! HTML, image, link, footnote, emphasis, code or table cell from it, and it reads as
//! written.
//!
//! Owns: [`inline`] and [`cell`] (text), [`code`] (a code span) and [`block`] (the
//! lines of a fenced block). Escaping is by backslash, and only where a character
//! could be markup where it stands, so ordinary text (`latency.p99 <= 50ms`,
//! `[1.00 ms, 2.00 ms]`, `grow#2`) stays as it was. `report::safety_tests` checks the
//! rendered reports with two parsers (pulldown-cmark, and comrak for GFM's autolinks).

use crate::units::format;

/// Data as Markdown inline text that reads as written and makes no markup: on one line
/// (a line break would end a table row or a list item), control characters in Rust's
/// escaped form (`\u{1b}`), and backslash-escaped each character that CommonMark or GFM
/// could read as markup where it stands:
///
/// - always: `\`, `` ` ``, `*`, `~`, `|`, `@` (GFM's email autolinks);
/// - `_` but inside a word (`snake_case` makes no emphasis);
/// - `<` before anything that could open a tag or an autolink (not `<=`, `< 5`);
/// - `&` before a letter, digit or `#` (an entity);
/// - `[` that a `]` and `(` or `[` could close into a link or an image, or that opens a
///   footnote (`[^`), or that nothing closes (text may follow);
/// - the `:` of `://` and the `.` of `www.` (GFM's bare autolinks);
/// - a trailing run of `#` (it would close a heading);
/// - at the start, which may be a block's: `-`, `+`, `#`, `>`, `[`, `1.`, `1)`.
pub(super) fn inline(data: &str) -> String {
    escape(data, true)
}

/// Data as a table cell: [`inline`] text, less the escaping of a block marker at the
/// start, which a cell cannot hold (so `-` and `1.00 ms` stay as they are).
pub(super) fn cell(data: &str) -> String {
    escape(data, false)
}

/// Data as a code span that shows it exactly: on one line, control characters
/// escaped, between backtick fences longer than any run of backticks inside; with a
/// space each side (which CommonMark strips) where it starts or ends with a backtick
/// or a space.
pub(super) fn code(data: &str) -> String {
    let text = format::printable(&one_line(data));
    let fence = "`".repeat(1 + longest_run(&text, '`'));
    let edge = |c: char| c == '`' || c == ' ';
    if text.is_empty() || text.starts_with(edge) || text.ends_with(edge) {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Data as the lines of a fenced code block: line breaks kept, other control
/// characters in Rust's escaped form.
pub(super) fn block(data: &str) -> String {
    data.replace("\r\n", "\n")
        .split('\n')
        .map(format::printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest run of `c` in `text`, so a fence can be longer than any inside it.
pub(super) fn longest_run(text: &str, c: char) -> usize {
    text.split(|ch| ch != c).map(str::len).max().unwrap_or(0)
}

fn one_line(data: &str) -> String {
    data.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

/// [`inline`]; the start's block marker is escaped only when `block_start`.
fn escape(data: &str, block_start: bool) -> String {
    let chars: Vec<char> = format::printable(&one_line(data)).chars().collect();
    let marker = block_start.then(|| block_marker(&chars)).flatten();
    let brackets = link_openers(&chars);
    let mut out = String::with_capacity(chars.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        if Some(i) == marker || brackets.contains(&i) || is_markup(&chars, i) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether `chars[i]` could be markup where it stands (brackets and the start's block
/// marker aside).
fn is_markup(chars: &[char], i: usize) -> bool {
    let at = |j: usize| chars.get(j).copied();
    let alnum = |j: Option<usize>| j.and_then(at).is_some_and(char::is_alphanumeric);
    match chars[i] {
        '\\' | '`' | '*' | '~' | '|' | '@' => true,
        '_' => !(alnum(i.checked_sub(1)) && alnum(Some(i + 1))),
        '<' => at(i + 1).is_some_and(|c| !(c.is_whitespace() || c == '=' || c.is_ascii_digit())),
        '&' => at(i + 1).is_some_and(|c| c.is_ascii_alphanumeric() || c == '#'),
        ':' => at(i + 1) == Some('/') && at(i + 2) == Some('/'),
        '.' => i >= 3 && chars[i - 3..i].iter().all(|c| c.eq_ignore_ascii_case(&'w')),
        '#' => chars[i..].iter().all(|c| *c == '#' || *c == ' '),
        _ => false,
    }
}

/// The `[` that could open a link, an image or a footnote: as CommonMark matches
/// brackets, each `]` closes the nearest open `[`; when it is followed by `(` or `[`
/// (an inline or reference link), every `[` still open is escaped, since with the
/// nearest one escaped the `]` would close the next. `[^` is escaped, and so is each
/// `[` left open at the end, which the text after the data might close.
fn link_openers(chars: &[char]) -> Vec<usize> {
    let mut open = Vec::new();
    let mut escaped = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '[' if chars.get(i + 1) == Some(&'^') => escaped.push(i),
            '[' => open.push(i),
            ']' if matches!(chars.get(i + 1), Some('(' | '[')) => escaped.append(&mut open),
            ']' => {
                open.pop();
            }
            _ => {}
        }
    }
    escaped.append(&mut open);
    escaped
}

/// The index of the character that would make the start of `chars` a list item, a
/// thematic break, a heading, a quote or a link reference definition (`- x`, `---`,
/// `+ x`, `# x`, `> x`, `[x]: url`, `1. x`, `2) x`), after any spaces; `None` when it
/// starts otherwise.
fn block_marker(chars: &[char]) -> Option<usize> {
    let start = chars.iter().position(|c| *c != ' ')?;
    match chars[start] {
        '-' | '+' | '#' | '>' | '[' => Some(start),
        c if c.is_ascii_digit() => {
            let digits = chars[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let end = start + digits;
            let marker = matches!(chars.get(end), Some('.' | ')'));
            let then_space = chars.get(end + 1).is_none_or(|c| *c == ' ');
            (digits <= 9 && marker && then_space).then_some(end)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_stays_as_it_was() {
        for text in [
            "latency.p99 <= 50ms",
            "2.00 MiB/h, 95% CI [1.00 MiB/h, 3.00 MiB/h]",
            "grow#2",
            "error_rate >= 1% & p < 0.0001",
            "http is fine, so is a: b",
        ] {
            assert_eq!(cell(text), text);
        }
        assert_eq!(inline("1.5 ms"), "1.5 ms");
    }

    #[test]
    fn markup_is_escaped_where_it_would_act() {
        assert_eq!(inline("<b>x</b>"), "\\<b>x\\</b>");
        assert_eq!(inline("[a [b] c](u)"), "\\[a [b] c](u)");
        assert_eq!(inline("![x](y) [^1]"), "!\\[x](y) \\[^1]");
        assert_eq!(inline("x [open"), "x \\[open");
        assert_eq!(
            inline("http://e.x www.e.x a@b"),
            "http\\://e.x www\\.e.x a\\@b"
        );
        assert_eq!(inline("&amp; &#60;"), "\\&amp; \\&#60;");
        assert_eq!(inline("_a_ b_c"), "\\_a\\_ b_c");
        assert_eq!(inline("- x"), "\\- x");
        assert_eq!(inline("12) x"), "12\\) x");
        assert_eq!(cell("- x"), "- x");
        assert_eq!(inline("title ##"), "title \\#\\#");
        assert_eq!(inline("a\nb\r\nc\u{1b}"), "a b c\\\\u{1b}");
    }

    #[test]
    fn code_spans_and_blocks_keep_the_text() {
        assert_eq!(code("a`b``c"), "```a`b``c```");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(block("a\r\nb\u{1b}"), "a\nb\\u{1b}");
    }
}

//! What a renderer would make of a report built from hostile data.
//!
//! Markdown: every raw HTML fragment, image, link and footnote a renderer would
//! produce, found by two parsers — pulldown-cmark
//! (CommonMark with the GFM tables, strikethrough, task lists and footnotes) and
//! comrak (a port of cmark-gfm, GitHub's own renderer, with the autolink extension that
//! turns a bare `http://…`, `www.…` or `a@b.c` into a link, which pulldown-cmark lacks) —
//! plus what no parser reports: control characters, and table rows whose cell count
//! differs from their header's.
//!
//! HTML: every element the page's template does not write, every event-handler
//! attribute, every URL that is not a link inside the page (`#…`), and a missing
//! Content-Security-Policy, read from the tags as a browser would split them.
//!
//! Owns: [`markdown_problems`], [`html_problems`], [`rendered_text`] and the list of
//! hostile strings. Shared by the
//! report's unit tests (which include this file by path) and the `it` binary, so it uses
//! nothing of either.

use comrak::nodes::NodeValue;
use pulldown_cmark::{Event, Options, Parser, Tag};

/// Strings that would become HTML, an image, a link, emphasis, a code span, a table
/// cell or a new line if a Markdown report pasted them unescaped.
pub const HOSTILE: [&str; 22] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![x](http://evil/x.png)",
    "[click](javascript:alert(1))",
    "<http://evil>",
    "http://evil.example/a",
    "www.evil.example",
    "mail@evil.example",
    "`tick` ``two``",
    "*star* _under_ **bold** ~~gone~~",
    "a | b",
    "line\nbreak\r\nthere",
    "\u{1b}[2J",
    "&lt;b&gt; &#60;i&#62;",
    "[ref]: http://evil/ref",
    "\\<b>x</b>",
    "- dash",
    "+ plus",
    "1. one",
    "# hash #",
    "> quote",
    "--- ===",
];

/// The hostile strings joined by spaces, starting at the `shift`-th: a field given
/// `hostile(i)` starts with a different one for each `i`, since some (a link reference
/// definition, a list marker) only act at the start of a block.
pub fn hostile(shift: usize) -> String {
    let n = HOSTILE.len();
    (0..n)
        .map(|i| HOSTILE[(i + shift) % n])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hostile strings without a control character (a line break, an ESC), which
/// names in a spec cannot have, joined by spaces from the `shift`-th.
pub fn hostile_name(shift: usize) -> String {
    let names = names();
    (0..names.len())
        .map(|i| names[(i + shift) % names.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hostile strings a name may hold: those without a control character.
pub fn names() -> Vec<&'static str> {
    HOSTILE
        .into_iter()
        .filter(|h| !h.chars().any(char::is_control))
        .collect()
}

/// How each hostile string must read once rendered: as written, on one line, with
/// control characters in Rust's escaped form.
pub fn as_text(hostile: &str) -> String {
    let one_line = hostile.replace("\r\n", " ").replace(['\n', '\r'], " ");
    one_line
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The HTML the Markdown template writes itself; any other is from data.
const TEMPLATE_HTML: [&str; 4] = [
    "<sub>",
    "</sub>",
    "<details><summary>How each finding was decided</summary>",
    "</details>",
];

fn template_html(html: &str) -> bool {
    TEMPLATE_HTML.contains(&html.trim())
}

/// Everything in `markdown` that a renderer would turn into live HTML, an image, a
/// link or a footnote without the template having written it (the template writes no
/// link, image or footnote), any control character but a newline, and every table row
/// whose cells do not match its header; empty when there is none.
pub fn markdown_problems(markdown: &str) -> Vec<String> {
    let mut found = pulldown(markdown);
    found.extend(comrak_gfm(markdown));
    for (n, line) in markdown.lines().enumerate() {
        if line.chars().any(|c| c.is_control() && c != '\t') {
            found.push(format!("line {}: a control character: {line:?}", n + 1));
        }
    }
    found.extend(tables(markdown));
    found
}

fn pulldown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM
}

fn pulldown(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for event in Parser::new_ext(markdown, pulldown_options()) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) if !template_html(&html) => {
                found.push(format!("pulldown-cmark: raw HTML {:?}", &*html));
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                found.push(format!("pulldown-cmark: an image of {:?}", &*dest_url));
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                found.push(format!("pulldown-cmark: a link to {:?}", &*dest_url));
            }
            Event::FootnoteReference(name) => {
                found.push(format!("pulldown-cmark: a footnote reference {:?}", &*name));
            }
            _ => {}
        }
    }
    found
}

fn comrak_options() -> comrak::Options<'static> {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options
}

fn comrak_gfm(markdown: &str) -> Vec<String> {
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, markdown, &comrak_options());
    let mut found = Vec::new();
    for node in root.descendants() {
        match &node.data.borrow().value {
            NodeValue::HtmlBlock(block) if !template_html(&block.literal) => {
                found.push(format!("comrak: raw HTML {:?}", block.literal));
            }
            NodeValue::HtmlInline(html) if !template_html(html) => {
                found.push(format!("comrak: raw HTML {html:?}"));
            }
            NodeValue::Image(link) => found.push(format!("comrak: an image of {:?}", link.url)),
            NodeValue::Link(link) => found.push(format!("comrak: a link to {:?}", link.url)),
            NodeValue::FootnoteReference(note) => {
                found.push(format!("comrak: a footnote reference {:?}", note.name));
            }
            _ => {}
        }
    }
    found
}

/// The cells of a table line: its `|` not escaped by a backslash, less the outer two.
fn cell_count(line: &str) -> usize {
    let mut pipes: usize = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => pipes += 1,
            _ => {}
        }
    }
    pipes.saturating_sub(1)
}

/// Table rows (lines starting with `|`) whose cell count differs from their table's
/// first line; a line break inside a cell would also end the table early, leaving its
/// remaining rows as paragraphs, which [`rendered_text`] checks.
fn tables(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut header: Option<usize> = None;
    for (n, line) in markdown.lines().enumerate() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let cells = cell_count(line);
        match header {
            None => header = Some(cells),
            Some(expected) if cells != expected => found.push(format!(
                "line {}: a table row of {cells} cells under a header of {expected}: {line}",
                n + 1
            )),
            Some(_) => {}
        }
    }
    found
}

/// The text a reader sees, as pulldown-cmark reads it: every text and code span in
/// order, each table cell and block followed by a newline.
pub fn rendered_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, pulldown_options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak => text.push(' '),
            Event::End(_) | Event::HardBreak => text.push('\n'),
            _ => {}
        }
    }
    text
}

/// How many rows (header included) each table of `markdown` has, as pulldown-cmark
/// reads them.
pub fn table_rows(markdown: &str) -> Vec<usize> {
    let mut rows = Vec::new();
    for event in Parser::new_ext(markdown, pulldown_options()) {
        match event {
            Event::Start(Tag::Table(_)) => rows.push(0),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                if let Some(last) = rows.last_mut() {
                    *last += 1;
                }
            }
            _ => {}
        }
    }
    rows
}

/// The elements the HTML template writes (page, tables, inline SVG charts); any other
/// is from data, or new in the template and to be added here.
const TEMPLATE_ELEMENTS: [&str; 48] = [
    "a",
    "body",
    "br",
    "circle",
    "code",
    "dd",
    "defs",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "g",
    "h1",
    "h2",
    "h3",
    "h4",
    "head",
    "header",
    "html",
    "li",
    "line",
    "main",
    "meta",
    "ol",
    "p",
    "path",
    "pattern",
    "polygon",
    "polyline",
    "pre",
    "rect",
    "section",
    "span",
    "strong",
    "style",
    "svg",
    "table",
    "tbody",
    "td",
    "text",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
];

/// Attributes that load or run something wherever they appear.
const URL_ATTRIBUTES: [&str; 9] = [
    "src",
    "srcset",
    "srcdoc",
    "action",
    "formaction",
    "poster",
    "background",
    "data",
    "ping",
];

/// The page's policy: nothing is loaded or run but inline style and `data:` images.
pub const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
                       style-src 'unsafe-inline'; img-src data:\">";

/// Everything in `html` that could run or fetch something or that the template does
/// not write: an unknown element, an `on…` attribute, an `href` that leaves the page,
/// a URL attribute, a `url(` in a style, an `http-equiv` other than the policy; and
/// the policy itself when it is missing. Empty when there is none.
pub fn html_problems(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    if !html.contains(CSP) {
        found.push("the Content-Security-Policy meta is missing".to_string());
    }
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            found.push("a `<` that no `>` closes".to_string());
            break;
        };
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with(['!', '/']) {
            continue;
        }
        let (element, attributes) = parse_tag(tag);
        if !TEMPLATE_ELEMENTS.contains(&element.as_str()) {
            found.push(format!("an element the template does not write: <{tag}>"));
        }
        for (name, value) in attributes {
            if let Some(problem) = attribute_problem(&name, &value) {
                found.push(format!("{problem} in <{tag}>"));
            }
        }
        if element == "style" {
            // The stylesheet is the template's; its selectors may hold `>`.
            rest = rest.find("</style>").map_or("", |i| &rest[i..]);
        }
    }
    found
}

fn attribute_problem(name: &str, value: &str) -> Option<&'static str> {
    let value = value.trim().to_ascii_lowercase();
    if name.starts_with("on") {
        Some("an event handler")
    } else if (name == "href" || name == "xlink:href") && !value.starts_with('#') {
        Some("a link out of the page")
    } else if URL_ATTRIBUTES.contains(&name) {
        Some("a URL attribute")
    } else if name == "style" && (value.contains("url(") || value.contains("expression(")) {
        Some("a style that fetches")
    } else if name == "http-equiv" && value != "content-security-policy" {
        Some("an http-equiv other than the policy")
    } else {
        None
    }
}

/// A start tag's element name and attributes (names lowercase, values unquoted), as
/// a browser splits them.
fn parse_tag(tag: &str) -> (String, Vec<(String, String)>) {
    let tag: Vec<char> = tag.chars().collect();
    let mut i = 0;
    let word = |i: &mut usize, stop: &dyn Fn(char) -> bool| {
        let start = *i;
        while *i < tag.len() && !stop(tag[*i]) {
            *i += 1;
        }
        tag[start..*i]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let element = word(&mut i, &|c| c.is_whitespace() || c == '/');
    let mut attributes = Vec::new();
    loop {
        while i < tag.len() && (tag[i].is_whitespace() || tag[i] == '/') {
            i += 1;
        }
        if i >= tag.len() {
            break;
        }
        let name = word(&mut i, &|c| c.is_whitespace() || c == '=' || c == '/');
        let mut value = String::new();
        if i < tag.len() && tag[i] == '=' {
            i += 1;
            match tag.get(i) {
                Some(&quote) if quote == '"' || quote == '\'' => {
                    i += 1;
                    value = word(&mut i, &|c| c == quote);
                    i += 1;
                }
                _ => value = word(&mut i, &char::is_whitespace),
            }
        }
        attributes.push((name, value));
    }
    (element, attributes)
}

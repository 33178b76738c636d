//! Templates (`{port}`, `{key}`, `{seq}`, `{random}`, `{value}`, with `{{`/`}}` escapes) and
//! the shape of URLs and TCP addresses.
//!
//! Owns: splitting a string into [`Segment`]s once, which placeholders each place
//! may use, and the authority rules (http only, a literal host, `{port}` only in
//! the port position). Does not own: rendering (that is `Template` in `plan`).

use toml::Spanned;

use super::Diagnostic;
use crate::plan::{PortChoice, Segment, Template};

/// Where a template is used, which decides the placeholders it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Service command, environment, ready probe: only `{port}`.
    Service,
    /// Workload URL, headers, body, Redis command, PostgreSQL params: all placeholders.
    Request,
    /// A Redis address or PostgreSQL connection string: only `{port}`.
    Connection,
}

const ALLOWED: &str = "{port}, {key}, {seq}, {random}, {value}";
const ESCAPE_HINT: &str =
    "write {{ and }} for literal braces (e.g. a JSON body: '{{\"id\": \"{key}\"}}')";

/// Split `value` into segments, or say which placeholder is not allowed here.
pub(super) fn parse(
    value: &Spanned<String>,
    field: &str,
    scope: Scope,
) -> Result<Template, Diagnostic> {
    parse_text(value.get_ref(), scope)
        .map_err(|(message, hint)| Diagnostic::new(value.span(), field, message).hint(hint))
}

/// The parser proper: `Err((message, hint))`.
fn parse_text(text: &str, scope: Scope) -> Result<Template, (String, String)> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find(['{', '}']) {
        literal.push_str(&rest[..pos]);
        let at = &rest[pos..];
        if let Some(after) = at.strip_prefix("{{") {
            literal.push('{');
            rest = after;
            continue;
        }
        if let Some(after) = at.strip_prefix("}}") {
            literal.push('}');
            rest = after;
            continue;
        }
        let Some(inner) = at.strip_prefix('{') else {
            return Err(("unmatched `}`".to_string(), ESCAPE_HINT.to_string()));
        };
        let Some(end) = inner.find('}') else {
            return Err(("unclosed `{`".to_string(), ESCAPE_HINT.to_string()));
        };
        let name = &inner[..end];
        let segment = placeholder(name, scope)?;
        if !literal.is_empty() {
            segments.push(Segment::Literal(std::mem::take(&mut literal)));
        }
        segments.push(segment);
        rest = &inner[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() || segments.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(Template { segments })
}

fn placeholder(name: &str, scope: Scope) -> Result<Segment, (String, String)> {
    let segment = match name {
        "port" => Segment::Port,
        "key" => Segment::Key,
        "seq" => Segment::Seq,
        "random" => Segment::Random,
        "value" => Segment::Value,
        _ => {
            return Err((
                format!("unknown placeholder `{{{name}}}` (allowed: {ALLOWED})"),
                ESCAPE_HINT.to_string(),
            ));
        }
    };
    if scope == Scope::Service && segment != Segment::Port {
        return Err((
            format!("`{{{name}}}` is not available here; the service command, env and ready probe only know {{port}}"),
            "{key}, {seq} and {random} vary per request: use them in workload urls, headers and bodies".to_string(),
        ));
    }
    if scope == Scope::Connection && segment != Segment::Port {
        return Err((
            format!("`{{{name}}}` is not available here; a connection address only knows {{port}}"),
            "{key}, {seq} and {random} vary per request: use them in the redis command or the postgres params".to_string(),
        ));
    }
    Ok(segment)
}

/// Check that `value` is an `http://host[:port]/…` URL whose host is literal and
/// whose port is a number or `{port}` (required when the port is chosen at start).
pub(super) fn check_http_url(
    value: &Spanned<String>,
    field: &str,
    port: PortChoice,
) -> Result<(), Diagnostic> {
    let text = value.get_ref();
    let error = |message: String| Diagnostic::new(value.span(), field, message);
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(error("https is not supported yet".to_string())
            .hint("target the service's plain-http listener: http://127.0.0.1:{port}/…"));
    }
    if !lower.starts_with("http://") {
        return Err(error(format!("`{text}` is not an http:// url"))
            .hint("write e.g. \"http://127.0.0.1:{port}/path\""));
    }
    let after_scheme = &text["http://".len()..];
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    check_authority(&after_scheme[..end], port).map_err(|(message, hint)| error(message).hint(hint))
}

/// Check that `value` is a `host:port` address, the port a number or `{port}`.
pub(super) fn check_tcp_address(
    value: &Spanned<String>,
    field: &str,
    port: PortChoice,
) -> Result<(), Diagnostic> {
    let text = value.get_ref();
    let error =
        |message: String, hint: String| Diagnostic::new(value.span(), field, message).hint(hint);
    if text.contains("://") {
        return Err(error(
            format!("`{text}` is a url; a tcp probe takes host:port"),
            "write e.g. \"127.0.0.1:{port}\"".to_string(),
        ));
    }
    match split_host_port(text) {
        Some((_, Some(_))) => {}
        _ => {
            return Err(error(
                format!("`{text}` is not a host:port address"),
                "write e.g. \"127.0.0.1:{port}\" or \"[::1]:8080\"".to_string(),
            ));
        }
    }
    check_authority(text, port).map_err(|(message, hint)| error(message, hint))
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` → (host, port). `None` when the
/// brackets are unbalanced or an IPv6 address is not bracketed.
pub(super) fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, rest) = authority.split_at(close + 1);
        if rest.is_empty() {
            return Some((host, None));
        }
        return rest.strip_prefix(':').map(|port| (host, Some(port)));
    }
    match authority.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => None,
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

fn check_authority(authority: &str, choice: PortChoice) -> Result<(), (String, String)> {
    if authority.contains('@') {
        return Err((
            "credentials in the address are not supported".to_string(),
            "send credentials in a header instead, e.g. headers = { authorization = \"…\" }"
                .to_string(),
        ));
    }
    let Some((host, port)) = split_host_port(authority) else {
        return Err((
            format!("cannot read a host and port in `{authority}`"),
            "write IPv6 addresses in brackets, e.g. [::1]:{port}".to_string(),
        ));
    };
    if host.is_empty() || host == "[]" {
        return Err((
            "the address has no host".to_string(),
            "write e.g. 127.0.0.1:{port}".to_string(),
        ));
    }
    if host.contains(['{', '}']) {
        return Err((
            format!("placeholders are not allowed in the host `{host}`"),
            "only {port} may appear, in the port position".to_string(),
        ));
    }
    match port {
        Some("{port}") => Ok(()),
        Some(_) | None if choice == PortChoice::Auto => Err((
            "the port is chosen at start (port = \"auto\"), so this address must use {port} as its port"
                .to_string(),
            format!("write {host}:{{port}}"),
        )),
        None => Ok(()),
        Some(number) => match number.parse::<u16>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err((
                format!("`{number}` is not a port number"),
                "a port is 1..=65535 or {port}".to_string(),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(text: &str) -> Vec<Segment> {
        parse_text(text, Scope::Request)
            .map(|t| t.segments)
            .unwrap_or_default()
    }

    #[test]
    fn placeholders_split_into_segments() {
        assert_eq!(
            segments("http://127.0.0.1:{port}/kv/{key}?s={seq}&r={random}"),
            vec![
                Segment::Literal("http://127.0.0.1:".into()),
                Segment::Port,
                Segment::Literal("/kv/".into()),
                Segment::Key,
                Segment::Literal("?s=".into()),
                Segment::Seq,
                Segment::Literal("&r=".into()),
                Segment::Random,
            ]
        );
        assert_eq!(segments("plain"), vec![Segment::Literal("plain".into())]);
        assert_eq!(segments(""), vec![Segment::Literal(String::new())]);
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(
            segments("{{\"k\": \"{key}\"}}"),
            vec![
                Segment::Literal("{\"k\": \"".into()),
                Segment::Key,
                Segment::Literal("\"}".into()),
            ]
        );
    }

    #[test]
    fn bad_placeholders_are_named() {
        let err = |text: &str, scope| parse_text(text, scope).err().map(|(m, _)| m);
        assert_eq!(
            err("/{name}", Scope::Request),
            Some(
                "unknown placeholder `{name}` (allowed: {port}, {key}, {seq}, {random}, {value})"
                    .into()
            )
        );
        assert_eq!(err("a}b", Scope::Request), Some("unmatched `}`".into()));
        assert_eq!(err("a{b", Scope::Request), Some("unclosed `{`".into()));
        assert!(
            err("--id={seq}", Scope::Service)
                .is_some_and(|m| m.starts_with("`{seq}` is not available here"))
        );
        assert!(err("--port={port}", Scope::Service).is_none());
    }

    #[test]
    fn authorities_split_into_host_and_port() {
        assert_eq!(
            split_host_port("127.0.0.1:80"),
            Some(("127.0.0.1", Some("80")))
        );
        assert_eq!(
            split_host_port("[::1]:{port}"),
            Some(("[::1]", Some("{port}")))
        );
        assert_eq!(split_host_port("[::1]"), Some(("[::1]", None)));
        assert_eq!(split_host_port("localhost"), Some(("localhost", None)));
        assert_eq!(split_host_port("::1:80"), None);
        assert_eq!(split_host_port("[::1"), None);
    }

    #[test]
    fn urls_need_http_a_literal_host_and_a_usable_port() {
        let check = |url: &str, port| {
            check_http_url(&Spanned::new(0..1, url.to_string()), "u", port).map_err(|d| d.message)
        };
        assert!(check("http://127.0.0.1:{port}/kv/{key}", PortChoice::Auto).is_ok());
        assert!(check("http://localhost:8080", PortChoice::Fixed(8080)).is_ok());
        assert_eq!(
            check("https://127.0.0.1:{port}/", PortChoice::Auto),
            Err("https is not supported yet".into())
        );
        assert!(check("ftp://x/", PortChoice::Auto).is_err());
        assert!(check("http://{key}.local:{port}/", PortChoice::Auto).is_err());
        assert!(check("http://127.0.0.1:8080/", PortChoice::Auto).is_err());
        assert!(check("http://127.0.0.1:99999/", PortChoice::Fixed(80)).is_err());
        assert!(check("http://u:p@127.0.0.1:{port}/", PortChoice::Auto).is_err());
    }
}

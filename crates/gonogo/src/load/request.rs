//! Turning a workload's templates into the bytes of HTTP/1.1 requests.
//!
//! Owns: the target address and Host of a workload, and rendering `{key}`, `{seq}`
//! and `{random}` per request. Checked once per phase, so a bad template is a clear
//! error before any load is sent, not a storm of failed requests. A workload without
//! per-request placeholders is rendered once and its bytes reused for every request.
//! Also rendering a template for one key-value operation on a known key and value
//! ([`KvFill`], for integrity reads and writes), apart from that hot path.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use http::header::{HeaderName, HeaderValue};
use http::{Method, Uri};
use rand::Rng;

use crate::plan::{Segment, Template, WorkloadPlan};
#[derive(Debug, thiserror::Error)]
pub enum RequestBuildError {
    #[error("workload {workload}: url {url:?} is not a valid http:// URL: {reason}")]
    BadUrl {
        workload: String,
        url: String,
        reason: String,
    },
    #[error(
        "workload {workload}: placeholders may only appear after the host and port in the url (got {url:?})"
    )]
    PlaceholderInAuthority { workload: String, url: String },
    #[error("workload {workload}: cannot resolve {authority}: {reason}")]
    Resolve {
        workload: String,
        authority: String,
        reason: String,
    },
    #[error("workload {workload}: invalid {what}: {reason}")]
    Invalid {
        workload: String,
        what: String,
        reason: String,
    },
}

/// Values for the per-request placeholders.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fill {
    key: u64,
    seq: u64,
    random: u64,
}

/// Fresh `{key}`, `{seq}` and `{random}` values for a workload's requests, shared by
/// its workers (the Redis and PostgreSQL clients; HTTP keeps its own in
/// [`RequestFactory`]).
#[derive(Debug)]
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(super) struct Placeholders {
    keys: u64,
    seq: AtomicU64,
}

#[cfg(any(feature = "redis", feature = "postgres"))]
impl Placeholders {
    /// Keys drawn from `key-0` .. `key-{keys-1}`.
    pub(super) fn new(keys: u64) -> Self {
        Placeholders {
            keys: keys.max(1),
            seq: AtomicU64::new(0),
        }
    }

    /// Let the next request's `{seq}` be `seq` (and count on from there).
    pub(super) fn start_seq_at(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
    }

    /// The next request's values.
    pub(super) fn next(&self, rng: &mut impl Rng) -> Fill {
        Fill {
            key: rng.random_range(0..self.keys),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            random: rng.random(),
        }
    }
}

/// Append `template` rendered with `port` and `fill` to `out`.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(super) fn render_arg(out: &mut Vec<u8>, template: &Template, port: u16, fill: Fill) {
    render_into(out, template, port, fill);
}

/// Values for one key-value operation: `{key}` and `{value}` as given (`{value}`
/// empty for reads); `{seq}` and `{random}` as `numbers` gives them, or nothing.
#[derive(Debug, Clone, Copy)]
pub struct KvFill<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub numbers: Option<(u64, u64)>,
}

/// Append `template` rendered for one key-value operation to `out`.
pub(super) fn render_kv(out: &mut Vec<u8>, template: &Template, port: u16, fill: KvFill<'_>) {
    for segment in &template.segments {
        // Writing to a Vec cannot fail.
        let _ = match (segment, fill.numbers) {
            (Segment::Literal(text), _) => out.write_all(text.as_bytes()),
            (Segment::Port, _) => write!(out, "{port}"),
            (Segment::Key, _) => out.write_all(fill.key.as_bytes()),
            (Segment::Value, _) => out.write_all(fill.value.as_bytes()),
            (Segment::Seq, Some((seq, _))) => write!(out, "{seq}"),
            (Segment::Random, Some((_, random))) => write!(out, "{random}"),
            (Segment::Seq | Segment::Random, None) => Ok(()),
        };
    }
}

/// [`render_kv`] as text (templates are UTF-8, and so are keys and values).
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(super) fn render_kv_text(template: &Template, port: u16, fill: KvFill<'_>) -> String {
    let mut out = Vec::new();
    render_kv(&mut out, template, port, fill);
    String::from_utf8_lossy(&out).into_owned()
}

/// A workload ready to produce requests against a service on a known port.
#[derive(Debug)]
pub struct RequestFactory {
    /// Request line up to the path: `GET `.
    method: String,
    /// The path (and query) template.
    path: Template,
    /// `Host` and the workload's headers, each rendered as `Name: value\r\n`.
    headers: Template,
    body: Option<Template>,
    /// Whether the method's requests carry a `Content-Length` even when empty.
    length_always: bool,
    /// The whole request when no template has a per-request placeholder.
    fixed: Option<Vec<u8>>,
    is_head: bool,
    keys: u64,
    seq: AtomicU64,
    pub addr: SocketAddr,
}

fn has_placeholder(template: &Template) -> bool {
    template
        .segments
        .iter()
        .any(|s| matches!(s, Segment::Key | Segment::Seq | Segment::Random))
}

fn render_into(out: &mut Vec<u8>, template: &Template, port: u16, fill: Fill) {
    for segment in &template.segments {
        // Writing to a Vec cannot fail.
        let _ = match segment {
            Segment::Literal(text) => out.write_all(text.as_bytes()),
            Segment::Port => write!(out, "{port}"),
            Segment::Key => write!(out, "key-{}", fill.key),
            Segment::Seq => write!(out, "{}", fill.seq),
            Segment::Random => write!(out, "{}", fill.random),
            // Only integrity phases give `{value}` (the spec refuses it elsewhere).
            Segment::Value => Ok(()),
        };
    }
}

fn render(template: &Template, port: u16, fill: Fill) -> String {
    let mut out = Vec::new();
    render_into(&mut out, template, port, fill);
    String::from_utf8_lossy(&out).into_owned()
}

fn with_port(template: &Template, port: u16) -> Template {
    let segments = template
        .segments
        .iter()
        .map(|s| match s {
            Segment::Port => Segment::Literal(port.to_string()),
            other => other.clone(),
        })
        .collect();
    Template { segments }
}

/// The part of `url` after its origin (`http://host:port`), as segments; `/` when empty.
fn path_of(url: &Template, origin: &str) -> Template {
    let mut skip = origin.len();
    let mut segments = Vec::new();
    for segment in &url.segments {
        match segment {
            // The origin has no placeholders (checked), so it lies in literals.
            Segment::Literal(text) if skip > 0 => {
                let cut = skip.min(text.len());
                skip -= cut;
                if let Some(rest) = text.get(cut..).filter(|r| !r.is_empty()) {
                    segments.push(Segment::Literal(rest.to_string()));
                }
            }
            other => segments.push(other.clone()),
        }
    }
    if !matches!(segments.first(), Some(Segment::Literal(t)) if t.starts_with('/')) {
        segments.insert(0, Segment::Literal("/".into()));
    }
    Template { segments }
}

const ZERO: Fill = Fill {
    key: 0,
    seq: 0,
    random: 0,
};

impl RequestFactory {
    /// Check the workload's templates against `port` and resolve its address.
    pub async fn new(workload: &WorkloadPlan, port: u16) -> Result<Self, RequestBuildError> {
        let name = workload.name.clone();
        let invalid = |what: &str, reason: String| RequestBuildError::Invalid {
            workload: name.clone(),
            what: what.to_string(),
            reason,
        };
        let url = with_port(&workload.url, port);
        let sample = render(&url, port, ZERO);
        let uri: Uri =
            sample
                .parse()
                .map_err(|e: http::uri::InvalidUri| RequestBuildError::BadUrl {
                    workload: name.clone(),
                    url: sample.clone(),
                    reason: e.to_string(),
                })?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(RequestBuildError::BadUrl {
                workload: name,
                url: sample,
                reason: "it needs a scheme and a host, like http://127.0.0.1:{port}/".into(),
            });
        };
        if scheme != "http" {
            return Err(RequestBuildError::BadUrl {
                workload: name,
                url: sample,
                reason: "only http:// is supported".into(),
            });
        }
        let origin = format!("http://{authority}");
        let other = render(
            &url,
            port,
            Fill {
                key: 1,
                seq: 1,
                random: 1,
            },
        );
        if !other.starts_with(&origin) || !sample.starts_with(&origin) {
            return Err(RequestBuildError::PlaceholderInAuthority {
                workload: name,
                url: sample,
            });
        }
        // `host()` keeps IPv6 brackets, which is the form lookup_host expects.
        let lookup = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let addr = tokio::net::lookup_host(lookup.as_str())
            .await
            .map_err(|e| e.to_string())
            .and_then(|mut addrs| addrs.next().ok_or_else(|| "no address".to_string()))
            .map_err(|reason| RequestBuildError::Resolve {
                workload: name.clone(),
                authority: authority.to_string(),
                reason,
            })?;
        let mut headers = vec![Segment::Literal(format!("Host: {authority}\r\n"))];
        for (header, value) in &workload.headers {
            let header = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| invalid(&format!("header name {header:?}"), e.to_string()))?;
            let value = with_port(value, port);
            // Placeholders render as digits, so checking one rendering checks them all.
            HeaderValue::from_str(&render(&value, port, ZERO))
                .map_err(|e| invalid(&format!("value of header {header}"), e.to_string()))?;
            headers.push(Segment::Literal(format!("{header}: ")));
            headers.extend(value.segments);
            headers.push(Segment::Literal("\r\n".into()));
        }
        let method = workload.method.clone();
        let path = path_of(&url, &origin);
        // The path must not break the request line (the URI parse above rejects
        // spaces and control characters, but be explicit).
        if render(&path, port, ZERO).bytes().any(|b| b <= b' ') {
            return Err(RequestBuildError::BadUrl {
                workload: name,
                url: sample,
                reason: "the path contains spaces or control characters".into(),
            });
        }
        let headers = Template { segments: headers };
        let body = workload.body.as_ref().map(|b| with_port(b, port));
        let dynamic = has_placeholder(&path)
            || has_placeholder(&headers)
            || body.as_ref().is_some_and(has_placeholder);
        let mut factory = RequestFactory {
            length_always: matches!(method, Method::POST | Method::PUT | Method::PATCH),
            is_head: method == Method::HEAD,
            method: format!("{method} "),
            path,
            headers,
            body,
            keys: workload.keys.max(1),
            seq: AtomicU64::new(0),
            fixed: None,
            addr,
        };
        if !dynamic {
            let mut fixed = Vec::new();
            factory.render_with(&mut fixed, |out, t| render_into(out, t, port, ZERO));
            factory.fixed = Some(fixed);
        }
        Ok(factory)
    }

    /// Let the next request's `{seq}` be `seq` (and count on from there).
    pub fn start_seq_at(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
    }

    /// Whether requests are `HEAD` (their responses have no body).
    pub fn is_head(&self) -> bool {
        self.is_head
    }

    /// The next request's bytes, with fresh `{key}`, `{seq}` and `{random}` values;
    /// rendered into `scratch` unless the request never changes.
    pub fn request<'a>(
        &'a self,
        port: u16,
        rng: &mut impl Rng,
        scratch: &'a mut Vec<u8>,
    ) -> &'a [u8] {
        if let Some(fixed) = &self.fixed {
            return fixed;
        }
        let fill = Fill {
            key: rng.random_range(0..self.keys),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            random: rng.random(),
        };
        scratch.clear();
        self.render_with(scratch, |out, t| render_into(out, t, port, fill));
        scratch
    }

    /// The request of one key-value operation, rendered into `out` (cleared first).
    pub fn kv_request(&self, port: u16, fill: KvFill<'_>, out: &mut Vec<u8>) {
        out.clear();
        self.render_with(out, |out, t| render_kv(out, t, port, fill));
    }

    /// The whole request, each template rendered by `part`.
    fn render_with(&self, out: &mut Vec<u8>, mut part: impl FnMut(&mut Vec<u8>, &Template)) {
        out.extend_from_slice(self.method.as_bytes());
        part(out, &self.path);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        part(out, &self.headers);
        let head_len = out.len();
        if let Some(body) = &self.body {
            part(out, body);
        }
        let body_len = out.len() - head_len;
        let mut length = Vec::new();
        if body_len > 0 || self.length_always {
            // Writing to a Vec cannot fail.
            let _ = write!(length, "Content-Length: {body_len}\r\n");
        }
        length.extend_from_slice(b"\r\n");
        out.splice(head_len..head_len, length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn workload(url: Vec<Segment>) -> WorkloadPlan {
        WorkloadPlan {
            name: "w".into(),
            method: Method::PUT,
            url: Template { segments: url },
            headers: vec![(
                "x-seq".into(),
                Template {
                    segments: vec![Segment::Seq],
                },
            )],
            body: Some(Template {
                segments: vec![Segment::Literal("v-".into()), Segment::Seq],
            }),
            expect_status: vec![204],
            timeout: Duration::from_secs(1),
            keys: 10,
            weight: 1,
            protocol: crate::plan::Protocol::Http,
        }
    }

    /// The factory of a [`workload`] sending `method` to the fixed `url`, with no
    /// headers and no body, on port 9.
    async fn bare_factory(method: Method, url: &str) -> RequestFactory {
        let w = WorkloadPlan {
            method,
            headers: Vec::new(),
            body: None,
            ..workload(vec![Segment::Literal(url.into())])
        };
        RequestFactory::new(&w, 9).await.expect("valid workload")
    }

    #[tokio::test]
    async fn renders_placeholders_per_request() {
        let w = workload(vec![
            Segment::Literal("http://127.0.0.1:".into()),
            Segment::Port,
            Segment::Literal("/kv/".into()),
            Segment::Key,
        ]);
        let factory = RequestFactory::new(&w, 8080).await.expect("valid workload");
        assert_eq!(factory.addr, "127.0.0.1:8080".parse().expect("addr"));
        let mut rng = rand::rng();
        let mut scratch = Vec::new();
        let first = String::from_utf8(factory.request(8080, &mut rng, &mut scratch).to_vec())
            .expect("ascii");
        let second = String::from_utf8(factory.request(8080, &mut rng, &mut scratch).to_vec())
            .expect("ascii");
        assert!(first.starts_with("PUT /kv/key-"), "{first}");
        assert!(
            first.contains(" HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nx-seq: 0\r\n"),
            "{first}"
        );
        assert!(first.ends_with("Content-Length: 3\r\n\r\nv-0"), "{first}");
        assert!(second.contains("x-seq: 1\r\n"), "{second}");
        assert!(second.ends_with("\r\n\r\nv-1"), "{second}");
    }

    #[tokio::test]
    async fn a_request_without_placeholders_is_rendered_once() {
        let factory = bare_factory(Method::GET, "http://localhost:9/").await;
        let mut scratch = Vec::new();
        let request = factory.request(9, &mut rand::rng(), &mut scratch).to_vec();
        assert_eq!(request, b"GET / HTTP/1.1\r\nHost: localhost:9\r\n\r\n");
        assert!(scratch.is_empty(), "the fixed bytes are reused");
    }

    #[tokio::test]
    async fn an_empty_path_is_the_root_and_queries_are_kept() {
        let factory = bare_factory(Method::POST, "http://127.0.0.1:9").await;
        let request = factory
            .request(9, &mut rand::rng(), &mut Vec::new())
            .to_vec();
        assert_eq!(
            request,
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Length: 0\r\n\r\n"
        );
        let w = workload(vec![
            Segment::Literal("http://127.0.0.1:9/q?id=".into()),
            Segment::Seq,
        ]);
        let factory = RequestFactory::new(&w, 9).await.expect("valid workload");
        let request = factory
            .request(9, &mut rand::rng(), &mut Vec::new())
            .to_vec();
        assert!(request.starts_with(b"PUT /q?id=0 HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn key_value_requests_carry_the_given_key_value_and_numbers() {
        let mut w = workload(vec![
            Segment::Literal("http://127.0.0.1:".into()),
            Segment::Port,
            Segment::Literal("/kv/".into()),
            Segment::Key,
        ]);
        w.body = Some(Template {
            segments: vec![Segment::Value, Segment::Literal("/".into()), Segment::Seq],
        });
        let factory = RequestFactory::new(&w, 9).await.expect("valid workload");
        let mut out = b"stale".to_vec();
        let fill = KvFill {
            key: "gng-ab-3",
            value: "ab-3-000001",
            numbers: Some((3, 7)),
        };
        factory.kv_request(9, fill, &mut out);
        let text = String::from_utf8(out).expect("ascii");
        assert!(text.starts_with("PUT /kv/gng-ab-3 HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("x-seq: 3\r\n"), "{text}");
        assert!(
            text.ends_with("Content-Length: 13\r\n\r\nab-3-000001/3"),
            "{text}"
        );
        let mut bare = Vec::new();
        let template = Template {
            segments: vec![Segment::Key, Segment::Seq, Segment::Random, Segment::Port],
        };
        render_kv(
            &mut bare,
            &template,
            6379,
            KvFill {
                numbers: None,
                ..fill
            },
        );
        assert_eq!(
            bare, b"gng-ab-36379",
            "no numbers: seq and random render as nothing"
        );
    }

    #[tokio::test]
    async fn rejects_placeholders_in_the_host() {
        let w = workload(vec![
            Segment::Literal("http://host-".into()),
            Segment::Seq,
            Segment::Literal(":80/".into()),
        ]);
        let err = RequestFactory::new(&w, 80).await.expect_err("must fail");
        assert!(
            matches!(err, RequestBuildError::PlaceholderInAuthority { .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn rejects_https() {
        let w = workload(vec![Segment::Literal("https://127.0.0.1:1/".into())]);
        let err = RequestFactory::new(&w, 1).await.expect_err("must fail");
        assert!(err.to_string().contains("only http://"), "{err}");
    }
}

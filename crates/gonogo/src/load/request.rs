//! Turning a workload's templates into concrete HTTP requests.
//!
//! Owns: the target address and Host of a workload, and rendering `{key}`, `{seq}`
//! and `{random}` per request. Checked once per phase, so a bad template is a clear
//! error before any load is sent, not a storm of failed requests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::header::{HOST, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::Full;
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
struct Fill {
    key: u64,
    seq: u64,
    random: u64,
}

/// A workload ready to produce requests against a service on a known port.
#[derive(Debug)]
pub struct RequestFactory {
    workload: String,
    method: Method,
    /// The URL template with `{port}` already substituted.
    url: Template,
    /// `http://host:port`, the part of the rendered URL before the path.
    origin: String,
    host: HeaderValue,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
    keys: u64,
    seq: AtomicU64,
    pub addr: SocketAddr,
}

fn render(template: &Template, port: u16, fill: Fill) -> String {
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Port => out.push_str(&port.to_string()),
            Segment::Key => {
                out.push_str("key-");
                out.push_str(&fill.key.to_string());
            }
            Segment::Seq => out.push_str(&fill.seq.to_string()),
            Segment::Random => out.push_str(&fill.random.to_string()),
        }
    }
    out
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
        let sample = render(
            &url,
            port,
            Fill {
                key: 0,
                seq: 0,
                random: 0,
            },
        );
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
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| invalid("host", e.to_string()))?;
        let mut headers = Vec::new();
        for (header, value) in &workload.headers {
            let header = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| invalid(&format!("header name {header:?}"), e.to_string()))?;
            headers.push((header, with_port(value, port)));
        }
        let method = Method::from_bytes(workload.method.as_bytes())
            .map_err(|e| invalid("method", e.to_string()))?;
        let factory = RequestFactory {
            workload: workload.name.clone(),
            method,
            url,
            origin,
            host,
            headers,
            body: workload.body.as_ref().map(|b| with_port(b, port)),
            keys: workload.keys.max(1),
            seq: AtomicU64::new(0),
            addr,
        };
        // Build one request now so that header values are checked before the load starts.
        factory.build_with(
            port,
            Fill {
                key: 0,
                seq: 0,
                random: 0,
            },
        )?;
        Ok(factory)
    }

    /// The next request, with fresh `{key}`, `{seq}` and `{random}` values.
    pub fn build(
        &self,
        port: u16,
        rng: &mut impl Rng,
    ) -> Result<Request<Full<Bytes>>, RequestBuildError> {
        let fill = Fill {
            key: rng.random_range(0..self.keys),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            random: rng.random(),
        };
        self.build_with(port, fill)
    }

    fn build_with(&self, port: u16, fill: Fill) -> Result<Request<Full<Bytes>>, RequestBuildError> {
        let invalid = |what: &str, reason: String| RequestBuildError::Invalid {
            workload: self.workload.clone(),
            what: what.to_string(),
            reason,
        };
        let url = render(&self.url, port, fill);
        let path = url.strip_prefix(&self.origin).unwrap_or("/");
        let path = if path.is_empty() { "/" } else { path };
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(path)
            .header(HOST, self.host.clone());
        for (name, value) in &self.headers {
            let value = HeaderValue::from_str(&render(value, port, fill))
                .map_err(|e| invalid(&format!("value of header {name}"), e.to_string()))?;
            builder = builder.header(name, value);
        }
        let body = match &self.body {
            Some(body) => Bytes::from(render(body, port, fill)),
            None => Bytes::new(),
        };
        builder
            .body(Full::new(body))
            .map_err(|e| invalid("request", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn workload(url: Vec<Segment>) -> WorkloadPlan {
        WorkloadPlan {
            name: "w".into(),
            method: "PUT".into(),
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
        }
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
        let first = factory.build(8080, &mut rng).expect("request");
        let second = factory.build(8080, &mut rng).expect("request");
        assert!(first.uri().path().starts_with("/kv/key-"));
        assert_eq!(first.headers()["host"], "127.0.0.1:8080");
        assert_eq!(first.headers()["x-seq"], "0");
        assert_eq!(second.headers()["x-seq"], "1");
        assert_eq!(first.method(), Method::PUT);
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

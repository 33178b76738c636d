//! The HTTP protocol client of integrity phases ([`HttpKv`]), built on hyper's
//! HTTP/1.1 client connection.
//!
//! Owns: rendering a workload's url, headers and body with the write's `{key}`,
//! `{value}` and `{seq}`, one keep-alive connection (opened again after it broke or
//! after a call was cut short by the caller's timeout), and mapping answers to
//! [`WriteOutcome`] and [`ReadOutcome`] as the contract in [`super::kv`] says. Not on
//! the load's hot path, so clarity wins over speed. Does not own: scheduling or
//! judging.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rand::Rng;

use super::kv::{KvError, ReadOutcome};
use crate::model::WriteOutcome;
use crate::plan::{Segment, Template, WorkloadPlan};

/// Largest response body read (a value, or a key listing); a larger one is an error,
/// so a hostile service cannot make gonogo hold an unbounded answer.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What fills a template's per-request placeholders.
#[derive(Debug, Clone, Copy)]
struct Fill<'a> {
    key: &'a str,
    value: &'a str,
    seq: u64,
}

/// One workload's request, ready to render.
#[derive(Debug, Clone)]
struct RequestPlan {
    name: String,
    method: Method,
    url: Template,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
    expect_status: Vec<u16>,
}

impl RequestPlan {
    fn new(workload: &WorkloadPlan) -> Result<Self, KvError> {
        let setup = |reason: String| KvError::Setup {
            workload: workload.name.clone(),
            reason,
        };
        let method = workload.method.clone();
        let headers = workload
            .headers
            .iter()
            .map(|(name, value)| {
                HeaderName::from_bytes(name.as_bytes())
                    .map(|name| (name, value.clone()))
                    .map_err(|e| setup(format!("invalid header name {name:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(RequestPlan {
            name: workload.name.clone(),
            method,
            url: workload.url.clone(),
            headers,
            body: workload.body.clone(),
            expect_status: workload.expect_status.clone(),
        })
    }

    fn request(&self, port: u16, fill: Fill<'_>) -> Result<Request<Full<Bytes>>, String> {
        let uri: Uri = render(&self.url, port, fill)
            .parse()
            .map_err(|e| format!("workload {}: invalid url: {e}", self.name))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let body = self
            .body
            .as_ref()
            .map(|b| render(b, port, fill))
            .unwrap_or_default();
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(path)
            .header(http::header::HOST, host);
        for (name, value) in &self.headers {
            let value = HeaderValue::from_str(&render(value, port, fill))
                .map_err(|e| format!("workload {}: header {name}: {e}", self.name))?;
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("workload {}: {e}", self.name))
    }
}

fn render(template: &Template, port: u16, fill: Fill<'_>) -> String {
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Port => out.push_str(&port.to_string()),
            Segment::Key => out.push_str(fill.key),
            Segment::Value => out.push_str(fill.value),
            Segment::Seq => out.push_str(&fill.seq.to_string()),
            Segment::Random => out.push_str(&rand::rng().random::<u64>().to_string()),
        }
    }
    out
}

/// Why an exchange produced no answer.
#[derive(Debug)]
enum Failure {
    /// Nothing was sent: the connection could not be opened, or the request
    /// could not be built.
    NotSent(String),
    /// Sent (or possibly sent), then the connection broke.
    Lost(String),
}

/// Integrity reads and writes over HTTP/1.1 (see the contract in [`super::kv`]).
#[derive(Debug)]
pub struct HttpKv {
    write: RequestPlan,
    read: RequestPlan,
    list: Option<RequestPlan>,
    port: u16,
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// True while a call is under way; still true at the next call when the
    /// caller's timeout cut the last one short, whose connection is then dropped.
    busy: bool,
}

impl HttpKv {
    /// A client for `write` and `read` against the service on `port`; connects on
    /// first use.
    pub async fn connect(
        write: &WorkloadPlan,
        read: &WorkloadPlan,
        port: u16,
    ) -> Result<Self, KvError> {
        let write_plan = RequestPlan::new(write)?;
        let sample = render(
            &write.url,
            port,
            Fill {
                key: "k",
                value: "v",
                seq: 0,
            },
        );
        let setup = |reason: String| KvError::Setup {
            workload: write.name.clone(),
            reason,
        };
        let uri: Uri = sample
            .parse()
            .map_err(|e| setup(format!("invalid url {sample:?}: {e}")))?;
        let authority = uri
            .authority()
            .ok_or_else(|| setup(format!("url {sample:?} has no host")))?;
        let target = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        let addr = tokio::net::lookup_host(target.as_str())
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| KvError::Connect {
                target: target.clone(),
                reason: "the host does not resolve".into(),
            })?;
        Ok(HttpKv {
            write: write_plan,
            read: RequestPlan::new(read)?,
            list: None,
            port,
            addr,
            sender: None,
            busy: false,
        })
    }

    /// Use `list` (a GET whose body lists keys, one per line) for [`HttpKv::list`].
    pub fn with_list(mut self, list: Option<&WorkloadPlan>) -> Result<Self, KvError> {
        self.list = list.map(RequestPlan::new).transpose()?;
        Ok(self)
    }

    /// PUT (or the write workload's method) `value` under `key`.
    pub async fn write(&mut self, key: &str, value: &str) -> WriteOutcome {
        let fill = Fill {
            key,
            value,
            seq: seq_in(key),
        };
        match self.exchange(Which::Write, fill).await {
            Ok((status, _)) if self.write.expect_status.contains(&status) => {
                WriteOutcome::Acknowledged
            }
            Ok(_) | Err(Failure::NotSent(_)) => WriteOutcome::Failed,
            Err(Failure::Lost(_)) => WriteOutcome::Indeterminate,
        }
    }

    /// Read `key`: 404 is missing, an expected status is the body, anything else
    /// an error.
    pub async fn read(&mut self, key: &str) -> ReadOutcome {
        let fill = Fill {
            key,
            value: "",
            seq: seq_in(key),
        };
        match self.exchange(Which::Read, fill).await {
            Ok((404, _)) => ReadOutcome::Missing,
            Ok((status, body)) if self.read.expect_status.contains(&status) => {
                ReadOutcome::Found(body.to_vec())
            }
            Ok((status, _)) => ReadOutcome::Error(format!("status {status}")),
            Err(Failure::NotSent(reason) | Failure::Lost(reason)) => ReadOutcome::Error(reason),
        }
    }

    /// Keys starting with `prefix` from the list workload (its `{key}` renders as
    /// the prefix); `Ok(None)` without one.
    pub async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError> {
        if self.list.is_none() {
            return Ok(None);
        }
        let fill = Fill {
            key: prefix,
            value: "",
            seq: 0,
        };
        match self.exchange(Which::List, fill).await {
            Ok((status, body)) if (200..300).contains(&status) => Ok(Some(
                String::from_utf8_lossy(&body)
                    .lines()
                    .map(str::trim)
                    .filter(|k| k.starts_with(prefix))
                    .map(str::to_string)
                    .collect(),
            )),
            Ok((status, _)) => Err(KvError::List(format!("the listing answered {status}"))),
            Err(Failure::NotSent(reason) | Failure::Lost(reason)) => Err(KvError::List(reason)),
        }
    }

    async fn exchange(&mut self, which: Which, fill: Fill<'_>) -> Result<(u16, Bytes), Failure> {
        let plan = match which {
            Which::Write => &self.write,
            Which::Read => &self.read,
            Which::List => self.list.as_ref().unwrap_or(&self.read),
        };
        let request = plan.request(self.port, fill).map_err(Failure::NotSent)?;
        if std::mem::replace(&mut self.busy, true) {
            // The last call was cut short mid-exchange: its connection is unusable.
            self.sender = None;
        }
        let result = self.send(request).await;
        if result.is_err() {
            self.sender = None;
        }
        self.busy = false;
        result
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(u16, Bytes), Failure> {
        let kept = match self.sender.take() {
            Some(mut sender) if !sender.is_closed() => {
                sender.ready().await.is_ok().then_some(sender)
            }
            _ => None,
        };
        let mut sender = match kept {
            Some(sender) => sender,
            None => self.open().await?,
        };
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| Failure::Lost(e.to_string()))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| Failure::Lost(format!("reading the response body: {e}")))?
            .to_bytes();
        self.sender = Some(sender);
        Ok((status, body))
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| Failure::NotSent(format!("cannot connect to {}: {e}", self.addr)))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Failure::NotSent(format!("http handshake with {}: {e}", self.addr)))?;
        // The connection task ends when the connection closes or the sender is dropped.
        tokio::spawn(connection);
        Ok(sender)
    }
}

#[derive(Debug, Clone, Copy)]
enum Which {
    Write,
    Read,
    List,
}

/// The sequence number at the end of an integrity key, for `{seq}` (0 otherwise).
fn seq_in(key: &str) -> u64 {
    key.rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_the_write_key_value_and_seq() {
        let template = Template {
            segments: vec![
                Segment::Literal("http://127.0.0.1:".into()),
                Segment::Port,
                Segment::Literal("/kv/".into()),
                Segment::Key,
                Segment::Literal("?v=".into()),
                Segment::Value,
                Segment::Literal("&s=".into()),
                Segment::Seq,
            ],
        };
        let fill = Fill {
            key: "gng-ab-3",
            value: "ab-3-000001",
            seq: seq_in("gng-ab-3"),
        };
        assert_eq!(
            render(&template, 8080, fill),
            "http://127.0.0.1:8080/kv/gng-ab-3?v=ab-3-000001&s=3"
        );
    }
}

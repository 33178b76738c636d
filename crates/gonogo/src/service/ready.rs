//! Readiness probes: one attempt of an HTTP GET (any 2xx is ready) or a TCP connect.
//!
//! Owns: parsing the rendered probe target and performing one bounded attempt.
//! Does not own: the polling loop, timeouts of the whole wait, or what happens to
//! the service when it never becomes ready (that is the parent module).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ServiceError;
use crate::plan::ReadyKind;

/// The most bytes read while looking for the HTTP status line.
const STATUS_LINE_LIMIT: usize = 1024;

/// A readiness probe with its target rendered for the service's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Probe {
    Http {
        url: String,
        /// `host:port` to connect to (port 80 added when the URL has none).
        connect: String,
        /// `Host` header value: the URL's authority as written.
        host: String,
        path: String,
    },
    Tcp {
        address: String,
    },
}

impl Probe {
    /// Render the probe for `port` and check that its target can be used.
    pub(super) fn new(kind: &ReadyKind, port: u16) -> Result<Probe, ServiceError> {
        match kind {
            ReadyKind::Http { url } => parse_http(&url.render_with_port(port)),
            ReadyKind::Tcp { address } => Ok(Probe::Tcp {
                address: address.render_with_port(port),
            }),
        }
    }

    /// One attempt, bounded by `timeout`. `Err` says why the service is not ready yet.
    pub(super) async fn attempt(&self, timeout: Duration) -> Result<(), String> {
        match tokio::time::timeout(timeout, self.attempt_unbounded()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {timeout:?}")),
        }
    }

    async fn attempt_unbounded(&self) -> Result<(), String> {
        match self {
            Probe::Tcp { address } => TcpStream::connect(address.as_str())
                .await
                .map(drop)
                .map_err(|e| format!("connect failed: {e}")),
            Probe::Http {
                connect,
                host,
                path,
                ..
            } => http_get_status(connect, host, path)
                .await
                .and_then(|status| {
                    if (200..300).contains(&status) {
                        Ok(())
                    } else {
                        Err(format!("answered status {status}"))
                    }
                }),
        }
    }

    /// What the probe does, for messages: `GET http://…` or `TCP connect to …`.
    pub(super) fn describe(&self) -> String {
        match self {
            Probe::Http { url, .. } => format!("GET {url}"),
            Probe::Tcp { address } => format!("TCP connect to {address}"),
        }
    }
}

fn parse_http(url: &str) -> Result<Probe, ServiceError> {
    let bad = |reason: &str| ServiceError::BadProbeUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(bad(&format!(
                "scheme `{scheme}` is not supported; use http:// or a tcp probe"
            )));
        }
        None => return Err(bad("it does not start with http://")),
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(char::is_whitespace) || path.contains(' ') {
        return Err(bad("it has no host, or contains spaces"));
    }
    let has_port = match authority.rfind(']') {
        // IPv6 literal: a port follows the closing bracket.
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    };
    let connect = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok(Probe::Http {
        url: url.to_string(),
        connect,
        host: authority.to_string(),
        path: path.to_string(),
    })
}

/// Send a minimal `GET` and return the status code of the response.
async fn http_get_status(connect: &str, host: &str, path: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(connect)
        .await
        .map_err(|e| format!("connect failed: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gonogo-ready-probe\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the request failed: {e}"))?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < STATUS_LINE_LIMIT {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    parse_status_line(&buf)
}

fn parse_status_line(buf: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(buf);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") && code.len() == 3 => code
            .parse()
            .map_err(|_| format!("malformed status line `{line}`")),
        _ if buf.is_empty() => Err("the connection closed without a response".to_string()),
        _ => Err(format!("malformed status line `{}`", line.trim())),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests {
    use super::*;
    use crate::plan::Template;
    use tokio::net::TcpListener;

    fn http(url: &str) -> Result<Probe, ServiceError> {
        Probe::new(
            &ReadyKind::Http {
                url: Template::literal(url),
            },
            0,
        )
    }

    #[test]
    fn http_url_is_split_into_connect_address_host_and_path() {
        let probe = http("http://127.0.0.1:8080/health?x=1").unwrap();
        assert_eq!(
            probe,
            Probe::Http {
                url: "http://127.0.0.1:8080/health?x=1".into(),
                connect: "127.0.0.1:8080".into(),
                host: "127.0.0.1:8080".into(),
                path: "/health?x=1".into(),
            }
        );
    }

    #[test]
    fn http_url_without_port_or_path_defaults_to_80_and_root() {
        let Probe::Http { connect, path, .. } = http("http://localhost").unwrap() else {
            panic!("expected an http probe");
        };
        assert_eq!(connect, "localhost:80");
        assert_eq!(path, "/");
        let Probe::Http { connect, .. } = http("http://[::1]/x").unwrap() else {
            panic!("expected an http probe");
        };
        assert_eq!(connect, "[::1]:80");
        let Probe::Http { connect, .. } = http("http://[::1]:9/x").unwrap() else {
            panic!("expected an http probe");
        };
        assert_eq!(connect, "[::1]:9");
    }

    #[test]
    fn unsupported_urls_are_rejected_with_a_reason() {
        let err = http("https://127.0.0.1/").unwrap_err().to_string();
        assert!(err.contains("https"), "{err}");
        let err = http("127.0.0.1:80/health").unwrap_err().to_string();
        assert!(err.contains("http://"), "{err}");
        assert!(http("http:///health").is_err());
    }

    #[test]
    fn status_line_parsing() {
        assert_eq!(parse_status_line(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
        assert_eq!(parse_status_line(b"HTTP/1.0 503\r\n"), Ok(503));
        assert!(parse_status_line(b"").unwrap_err().contains("closed"));
        assert!(
            parse_status_line(b"SSH-2.0\r\n")
                .unwrap_err()
                .contains("malformed")
        );
    }

    /// A one-shot server answering every connection with `response`.
    async fn serve(response: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn http_attempt_is_ready_only_on_2xx() {
        let ok = serve("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let probe = http(&format!("http://127.0.0.1:{ok}/health")).unwrap();
        assert_eq!(probe.attempt(Duration::from_secs(2)).await, Ok(()));

        let unavailable = serve("HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        let probe = http(&format!("http://127.0.0.1:{unavailable}/")).unwrap();
        let why = probe.attempt(Duration::from_secs(2)).await.unwrap_err();
        assert!(why.contains("503"), "{why}");
    }

    #[tokio::test]
    async fn attempts_against_a_closed_port_fail_with_a_reason() {
        let port = super::super::pick_free_port().unwrap();
        let tcp = Probe::Tcp {
            address: format!("127.0.0.1:{port}"),
        };
        let why = tcp.attempt(Duration::from_secs(2)).await.unwrap_err();
        assert!(why.contains("connect failed"), "{why}");
    }

    #[tokio::test]
    async fn a_silent_server_makes_the_attempt_time_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let probe = http(&format!("http://127.0.0.1:{port}/")).unwrap();
        let why = probe.attempt(Duration::from_millis(200)).await.unwrap_err();
        assert!(why.contains("no answer"), "{why}");
        drop(listener);
    }
}

//! Which hosts a plan would send traffic to that are not this machine's loopback.
//!
//! Owns: [`Plan::remote_targets`] and the loopback test. Does not own: refusing
//! to run (the CLI decides, with `--allow-remote`).

use std::net::IpAddr;
#[cfg(feature = "postgres")]
use std::str::FromStr;

use super::template::split_host_port;
use crate::plan::{Plan, Protocol, ReadyKind, Template, WorkloadPlan};

impl Plan {
    /// Hosts in the workload targets (HTTP URLs, Redis addresses, PostgreSQL
    /// connection strings) and the ready probe that are not loopback (127.0.0.0/8,
    /// ::1, `localhost`; a PostgreSQL Unix socket is local too), each once, in the
    /// order they appear (workloads first, then the probe). A target whose host
    /// cannot be read is reported whole: anything not provably loopback counts as
    /// remote.
    pub fn remote_targets(&self) -> Vec<String> {
        let urls = self.workloads.iter().flat_map(|w| w.target_hosts(1));
        let probe = match &self.service.ready.kind {
            ReadyKind::Http { url } => host_of_url(url),
            ReadyKind::Tcp { address } => host_of_authority(&render(address)),
        };
        let mut remote: Vec<String> = Vec::new();
        for host in urls.chain(std::iter::once(probe)) {
            if !is_loopback_host(&host) && !remote.contains(&host) {
                remote.push(host);
            }
        }
        remote
    }
}

impl WorkloadPlan {
    /// The hosts this workload sends to, with `port` for `{port}`, as written
    /// (IPv6 in brackets for HTTP and Redis). A PostgreSQL Unix socket directory is
    /// reported as `localhost`.
    pub fn target_hosts(&self, port: u16) -> Vec<String> {
        match &self.protocol {
            Protocol::Http => vec![host_of_url_with(&self.url, port)],
            Protocol::Redis { address, .. } => {
                vec![host_of_authority(&address.render_with_port(port))]
            }
            Protocol::Postgres { config, .. } => postgres_hosts(&config.render_with_port(port)),
        }
    }
}

/// Without the `postgres` feature no plan has a PostgreSQL workload; the string
/// stands for its host.
#[cfg(not(feature = "postgres"))]
fn postgres_hosts(config: &str) -> Vec<String> {
    vec![config.to_string()]
}

#[cfg(feature = "postgres")]
fn postgres_hosts(config: &str) -> Vec<String> {
    let Ok(parsed) = tokio_postgres::Config::from_str(config) else {
        return vec![config.to_string()];
    };
    let hosts = parsed.get_hosts().iter().map(|host| match host {
        tokio_postgres::config::Host::Tcp(name) => name.clone(),
        tokio_postgres::config::Host::Unix(_) => "localhost".to_string(),
    });
    let addrs = parsed.get_hostaddrs().iter().map(IpAddr::to_string);
    hosts.chain(addrs).collect()
}

/// Render with a stand-in port: only the host matters here.
fn render(template: &Template) -> String {
    template.render_with_port(1)
}

fn host_of_url(url: &Template) -> String {
    host_of_url_with(url, 1)
}

fn host_of_url_with(url: &Template, port: u16) -> String {
    let text = url.render_with_port(port);
    let Some(scheme_end) = text.find("://") else {
        return text;
    };
    let after = &text[scheme_end + 3..];
    let authority = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    host_of_authority(authority)
}

fn host_of_authority(authority: &str) -> String {
    match split_host_port(authority) {
        Some((host, _)) => host.to_string(),
        None => authority.to_string(),
    }
}

/// Whether `host` (as written in a URL: brackets allowed around IPv6) is loopback:
/// 127.0.0.0/8, ::1, an IPv4-mapped loopback, or `localhost`.
pub(super) fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.254",
            "[::1]",
            "::1",
            "localhost",
            "LOCALHOST",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback_host(host), "{host} should be loopback");
        }
        for host in [
            "10.0.0.1",
            "128.0.0.1",
            "example.com",
            "[::2]",
            "localhost.example.com",
            "0.0.0.0",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host} should not be loopback");
        }
    }
}

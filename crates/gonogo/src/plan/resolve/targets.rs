//! Which hosts a plan would send traffic to that are not this machine's loopback.
//!
//! Owns: [`Plan::remote_targets`] and the loopback test. Does not own: refusing
//! to run (the CLI decides, with `--allow-remote`).

use std::net::IpAddr;

use super::template::split_host_port;
use crate::plan::{Plan, ReadyKind, Template};

impl Plan {
    /// Hosts in the workload URLs and the ready probe that are not loopback
    /// (127.0.0.0/8, ::1, `localhost`), each once, in the order they appear
    /// (workloads first, then the probe). A target whose host cannot be read is
    /// reported whole: anything not provably loopback counts as remote.
    pub fn remote_targets(&self) -> Vec<String> {
        let urls = self.workloads.iter().map(|w| host_of_url(&w.url));
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

/// Render with a stand-in port: only the host matters here.
fn render(template: &Template) -> String {
    template.render_with_port(1)
}

fn host_of_url(url: &Template) -> String {
    let text = render(url);
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

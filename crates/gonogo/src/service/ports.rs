//! Who listens on a TCP port: the listening sockets of `/proc/net/tcp` and
//! `/proc/net/tcp6` (gonogo's network namespace), matched by socket inode against
//! the `/proc/<pid>/fd` links of processes, and the process trees they are read in.
//!
//! Owns: refusing a fixed port that is already taken before the service starts, and
//! checking after readiness that what listens on the service's port is the service.
//! Does not own: the probe itself (`ready`), nor stopping the service (the parent).

use std::collections::{HashMap, HashSet};
use std::fmt;

use procfs::net::{TcpNetEntry, TcpState};
use procfs::process::{FDTarget, Process};

use super::ServiceError;

/// The longest command line quoted in a message.
const COMMAND_LIMIT: usize = 120;

/// A process that holds a listening socket, as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// `None` when no visible process has the socket open (another user's process
    /// without the rights to read its fds, or another PID namespace).
    pub pid: Option<u32>,
    /// Its command line, shortened (empty when `pid` is `None`).
    pub command: String,
    /// The socket's owner, from the socket table.
    pub uid: u32,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid} (`{}`)", self.command),
            None => write!(
                f,
                "a process gonogo cannot see (socket owned by uid {})",
                self.uid
            ),
        }
    }
}

/// The listening TCP sockets (IPv4 and IPv6, any address) on `port`. A socket table
/// that cannot be read counts as empty: there is nothing to check against.
fn listeners(port: u16) -> Vec<TcpNetEntry> {
    let v4 = procfs::net::tcp().unwrap_or_default();
    let v6 = procfs::net::tcp6().unwrap_or_default();
    v4.into_iter()
        .chain(v6)
        .filter(|e| e.state == TcpState::Listen && e.local_address.port() == port)
        .collect()
}

/// For each of `inodes`, the pids (ascending) among `pids` that have it open.
fn holders(inodes: &HashSet<u64>, pids: impl Iterator<Item = i32>) -> HashMap<u64, Vec<u32>> {
    let mut found: HashMap<u64, Vec<u32>> = HashMap::new();
    for pid in pids {
        let Ok(fds) = Process::new(pid).and_then(|p| p.fd()) else {
            continue;
        };
        for fd in fds.flatten() {
            if let FDTarget::Socket(inode) = fd.target
                && inodes.contains(&inode)
            {
                found.entry(inode).or_default().push(pid as u32);
            }
        }
    }
    for pids in found.values_mut() {
        pids.sort_unstable();
        pids.dedup();
    }
    found
}

/// Every visible pid.
fn all_pids() -> Vec<i32> {
    procfs::process::all_processes()
        .map(|all| all.flatten().map(|p| p.pid).collect())
        .unwrap_or_default()
}

/// `root` and every live descendant, from the parent links in `/proc/<pid>/stat`.
pub(super) fn process_tree(root: u32) -> HashSet<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(all) = procfs::process::all_processes() {
        for stat in all.flatten().filter_map(|p| p.stat().ok()) {
            children
                .entry(stat.ppid as u32)
                .or_default()
                .push(stat.pid as u32);
        }
    }
    let mut tree = HashSet::from([root]);
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if tree.insert(child) {
                pending.push(child);
            }
        }
    }
    tree
}

/// The process holding `entry`'s socket, named from a scan of every visible process.
fn name_holder(entry: &TcpNetEntry) -> Holder {
    let inodes = HashSet::from([entry.inode]);
    let pid = holders(&inodes, all_pids().into_iter())
        .remove(&entry.inode)
        .and_then(|pids| pids.first().copied());
    Holder {
        pid,
        command: pid.map(command_line).unwrap_or_default(),
        uid: entry.uid,
    }
}

/// A process's command line on one line, shortened to [`COMMAND_LIMIT`] characters.
fn command_line(pid: u32) -> String {
    let Ok(args) = Process::new(pid as i32).and_then(|p| p.cmdline()) else {
        return "?".to_string();
    };
    let text = args
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() <= COMMAND_LIMIT {
        return text;
    }
    let short: String = text.chars().take(COMMAND_LIMIT).collect();
    format!("{short}…")
}

/// Refuse a fixed `port` that something already listens on: the service could not
/// bind it, and the probe and the load would reach that other process.
pub(super) fn ensure_free(port: u16) -> Result<(), ServiceError> {
    match listeners(port).first() {
        None => Ok(()),
        Some(entry) => Err(ServiceError::PortInUse {
            port,
            holder: name_holder(entry),
        }),
    }
}

/// Check that every socket listening on `port` is held by a process of `root`'s tree
/// (the service and its descendants). Nothing listening is not an error: the probe
/// may target another address than `{port}`.
pub(super) fn ensure_owned(port: u16, root: u32) -> Result<(), ServiceError> {
    let entries = listeners(port);
    if entries.is_empty() {
        return Ok(());
    }
    let inodes: HashSet<u64> = entries.iter().map(|e| e.inode).collect();
    let tree = process_tree(root);
    let owned = holders(&inodes, tree.iter().map(|&pid| pid as i32));
    match entries.iter().find(|e| !owned.contains_key(&e.inode)) {
        None => Ok(()),
        Some(foreign) => Err(ServiceError::NotTheService {
            port,
            holder: name_holder(foreign),
        }),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::process::Command;

    #[test]
    fn a_free_port_passes_and_a_held_one_names_this_process() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = ensure_free(port).unwrap_err();
        let ServiceError::PortInUse { holder, .. } = &err else {
            panic!("expected PortInUse, got {err}");
        };
        assert_eq!(holder.pid, Some(std::process::id()));
        assert!(err.to_string().contains(&format!("port {port}")), "{err}");
        drop(listener);
        ensure_free(port).unwrap();
    }

    #[test]
    fn a_listener_outside_the_tree_is_not_the_service() {
        let listener = TcpListener::bind("[::1]:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut other = Command::new("sleep").arg("30").spawn().unwrap();
        let err = ensure_owned(port, other.id()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        // This process's own tree holds it.
        ensure_owned(port, std::process::id()).unwrap();
        other.kill().unwrap();
        other.wait().unwrap();
    }

    #[test]
    fn the_tree_holds_children_and_the_command_is_one_short_line() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let tree = process_tree(std::process::id());
        assert!(tree.contains(&child.id()), "{tree:?}");
        assert_eq!(command_line(child.id()), "sleep 30");
        child.kill().unwrap();
        child.wait().unwrap();
        let hidden = Holder {
            pid: None,
            command: String::new(),
            uid: 7,
        };
        assert!(hidden.to_string().contains("cannot see"), "{hidden}");
    }
}

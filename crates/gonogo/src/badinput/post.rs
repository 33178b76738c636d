//! The post-conditions of a bad-input phase: a before/after snapshot of the watched
//! directories, the service's resources, its ready probe and the `post_check`
//! command.
//!
//! Owns: observing; whether an observation fails the phase is
//! `evaluate::bad_input`'s to say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::model::{EscapedPath, PostCheck};
use crate::plan::{ReadyKind, ReadyProbe};

/// Most entries a snapshot records; a tree larger than this is cut (and said so).
const MAX_ENTRIES: usize = 200_000;

/// Size, modification time and kind of every entry under the watched roots.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    entries: BTreeMap<PathBuf, (u64, Option<SystemTime>, bool)>,
}

/// Snapshot every root (symbolic links are recorded, not followed).
pub fn snapshot(roots: &[PathBuf]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    let mut stack: Vec<PathBuf> = roots.to_vec();
    while let Some(path) = stack.pop() {
        if snapshot.entries.len() >= MAX_ENTRIES {
            break;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let dir = meta.is_dir();
        snapshot
            .entries
            .insert(path.clone(), (meta.len(), meta.modified().ok(), dir));
        if dir && let Ok(read) = std::fs::read_dir(&path) {
            stack.extend(read.flatten().map(|entry| entry.path()));
        }
    }
    snapshot
}

/// Whether `path` is `dir` or under it.
fn within(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir)
}

/// Files created, changed or removed between `before` and `after` outside every
/// allowed directory (directories whose only change is their listing are left out:
/// the file that changed them is named).
pub fn escaped(before: &Snapshot, after: &Snapshot, allowed: &[PathBuf]) -> Vec<EscapedPath> {
    let outside = |path: &Path| !allowed.iter().any(|dir| within(path, dir));
    let mut out = Vec::new();
    for (path, now) in &after.entries {
        if !outside(path) {
            continue;
        }
        let change = match before.entries.get(path) {
            None => "created",
            Some(then) if then != now && !now.2 => "changed",
            Some(_) => continue,
        };
        out.push(EscapedPath {
            path: path.to_string_lossy().into_owned(),
            change: change.to_string(),
        });
    }
    for path in before.entries.keys() {
        if outside(path) && !after.entries.contains_key(path) {
            out.push(EscapedPath {
                path: path.to_string_lossy().into_owned(),
                change: "removed".to_string(),
            });
        }
    }
    out
}

/// One attempt of the service's ready probe; the error in words.
pub async fn probe(ready: &ReadyProbe, port: u16, wait: Duration) -> Result<(), String> {
    match &ready.kind {
        ReadyKind::Tcp { address } => {
            let address = address.render_with_port(port);
            match timeout(wait, TcpStream::connect(&address)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(err)) => Err(format!("connect to {address}: {err}")),
                Err(_) => Err(format!("connect to {address}: no answer within {wait:?}")),
            }
        }
        ReadyKind::Http { url } => {
            let url = url.render_with_port(port);
            match timeout(wait, http_get(&url)).await {
                Ok(result) => result,
                Err(_) => Err(format!("GET {url}: no answer within {wait:?}")),
            }
        }
    }
}

/// A GET of `url` (`http://host:port/path`) answered with a 2xx.
async fn http_get(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url} is not an http:// URL"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let connect = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(&connect)
        .await
        .map_err(|e| format!("connect to {connect}: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream
        .read(&mut head)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let line = String::from_utf8_lossy(&head[..n]);
    let status = line.split(' ').nth(1).unwrap_or("");
    if status.starts_with('2') && status.len() == 3 {
        Ok(())
    } else {
        Err(format!(
            "GET {url}: answered `{}`",
            line.lines().next().unwrap_or("")
        ))
    }
}

/// Run the `post_check` command in `dir`, killed at `limit`.
pub async fn post_check(command: &[String], dir: &Path, limit: Duration) -> PostCheck {
    let mut out = PostCheck {
        command: command.to_vec(),
        status: None,
        detail: String::new(),
    };
    let Some((program, args)) = command.split_first() else {
        out.detail = "empty command".to_string();
        return out;
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match timeout(limit, child).await {
        Ok(Ok(output)) => {
            out.status = output.status.code();
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            let start = text.len().saturating_sub(500);
            let start = (start..text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            out.detail = text[start..].trim().to_string();
            if out.status.is_none() {
                out.detail = format!("killed by a signal; {}", out.detail);
            }
        }
        Ok(Err(err)) => out.detail = format!("cannot run {program}: {err}"),
        Err(_) => out.detail = format!("still running after {limit:?}; killed"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_outside_the_allowed_directory_is_named_and_inside_is_not() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(root.path().join("kept"), b"a").unwrap();
        let before = snapshot(&[root.path().to_path_buf()]);
        std::fs::write(data.join("inside"), b"x").unwrap();
        std::fs::write(root.path().join("escaped\nname"), b"x").unwrap();
        std::fs::remove_file(root.path().join("kept")).unwrap();
        let after = snapshot(&[root.path().to_path_buf()]);
        let found = escaped(&before, &after, &[data]);
        let names: Vec<(String, &str)> = found
            .iter()
            .map(|e| {
                (
                    e.path.rsplit('/').next().unwrap().to_string(),
                    e.change.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("escaped\nname".to_string(), "created"),
                ("kept".to_string(), "removed")
            ]
        );
    }
}

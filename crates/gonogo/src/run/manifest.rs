//! The run manifest: what gonogo records about itself, the spec and the host
//! before a run starts.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::model::{HostFacts, RunManifest};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// SHA-256 of the spec text, lowercase hex.
pub fn spec_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Host name, logical CPUs, total memory and kernel, from /proc.
pub fn host_facts() -> HostFacts {
    use procfs::Current;
    let memory_bytes = procfs::Meminfo::current().map(|m| m.mem_total).unwrap_or(0);
    let kernel = match (
        read_trimmed("/proc/sys/kernel/ostype"),
        read_trimmed("/proc/sys/kernel/osrelease"),
    ) {
        (Some(os), Some(release)) => format!("{os} {release}"),
        _ => "unknown".to_string(),
    };
    HostFacts {
        hostname: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_else(|| "unknown".into()),
        cores: std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1),
        memory_bytes,
        kernel,
    }
}

/// `git describe --always --dirty --abbrev=40` of `dir`, when it is in a repository.
pub fn git_commit(dir: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .args(["describe", "--always", "--dirty", "--abbrev=40"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// The manifest for a run of `name` from the spec at `spec_path`.
pub fn build(name: &str, spec_path: &Path, spec_text: &str) -> RunManifest {
    RunManifest {
        name: name.to_string(),
        started_at_ms: now_ms(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        spec_path: spec_path.display().to_string(),
        spec_text: spec_text.to_string(),
        spec_hash: spec_hash(spec_text),
        host: host_facts(),
        git_commit: git_commit(spec_path.parent().unwrap_or(Path::new("."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_hash_is_sha256_hex() {
        assert_eq!(
            spec_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn host_facts_are_read_from_proc() {
        let host = host_facts();
        assert!(host.cores >= 1);
        assert!(host.memory_bytes > 0);
        assert!(host.kernel.starts_with("Linux"), "{}", host.kernel);
    }
}

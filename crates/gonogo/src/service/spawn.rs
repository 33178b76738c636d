//! Building and spawning the service's process: rendered command and environment,
//! working directory, log files, its own process group and the parent-death signal,
//! under a guard when there can be one.
//!
//! Owns: everything between a [`ServicePlan`] and a running [`Child`]. Does not own:
//! waiting for the child, readiness or stopping (that is the parent module).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::Signal;
use tokio::process::{Child, Command};

use super::guarded::{Guarded, spawn_guarded};
use super::{ExitInfo, ServiceError, guard};
use crate::plan::{ServicePlan, Template};

/// File name of the service's standard output log inside the log directory.
pub const STDOUT_LOG: &str = "service-stdout.log";
/// File name of the service's standard error log inside the log directory.
pub const STDERR_LOG: &str = "service-stderr.log";

/// The service's command line with `{port}` substituted, ready to spawn.
#[derive(Debug, Clone)]
pub(super) struct Rendered {
    /// Program and arguments as rendered (the program as the spec wrote it).
    pub command: Vec<String>,
    /// The program to execute: resolved against `cwd` when it contains a '/'.
    pub program: PathBuf,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl Rendered {
    /// Render the plan's command and environment for `port`.
    pub(super) fn new(
        plan: &ServicePlan,
        port: u16,
        spec_dir: &Path,
    ) -> Result<Rendered, ServiceError> {
        let command: Vec<String> = plan
            .command
            .iter()
            .map(|t| t.render_with_port(port))
            .collect();
        let Some(first) = command.first() else {
            return Err(ServiceError::EmptyCommand);
        };
        let cwd = plan.cwd.clone().unwrap_or_else(|| spec_dir.to_path_buf());
        // The child resolves a relative program after changing into `cwd`, so both
        // must be absolute: `examples/../bin` run from `examples` would not exist.
        let cwd = if cwd.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            cwd
        };
        let cwd = std::path::absolute(&cwd).unwrap_or(cwd);
        let program = if first.contains('/') {
            cwd.join(first)
        } else {
            PathBuf::from(first)
        };
        let env = plan
            .env
            .iter()
            .map(|(name, value)| (name.clone(), value.render_with_port(port)))
            .collect();
        Ok(Rendered {
            command,
            program,
            env,
            cwd,
        })
    }
}

/// The service's two log files, opened for appending (a restart adds to them).
#[derive(Debug)]
pub(super) struct LogFiles {
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
    pub(super) stdout: File,
    pub(super) stderr: File,
}

impl LogFiles {
    /// Create `log_dir` if needed and open both logs in append mode.
    pub(super) fn open(log_dir: &Path) -> Result<LogFiles, ServiceError> {
        std::fs::create_dir_all(log_dir).map_err(|source| ServiceError::LogDir {
            path: log_dir.to_path_buf(),
            source,
        })?;
        let stdout_path = log_dir.join(STDOUT_LOG);
        let stderr_path = log_dir.join(STDERR_LOG);
        let stdout = open_append(&stdout_path)?;
        let stderr = open_append(&stderr_path)?;
        Ok(LogFiles {
            stdout_path,
            stderr_path,
            stdout,
            stderr,
        })
    }
}

fn open_append(path: &Path) -> Result<File, ServiceError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ServiceError::LogFile {
            path: path.to_path_buf(),
            source,
        })
}

/// A spawned service: its pid, the root of the tree that must hold its listening
/// socket, and the process to wait for.
#[derive(Debug)]
pub(super) struct Spawned {
    pub service_pid: u32,
    /// The guard's pid when there is one (its tree holds everything the service
    /// forked, reparented orphans included), else the service's.
    pub tree_root: u32,
    pub process: ServiceProcess,
}

/// What the supervisor waits on for the service's exit.
#[derive(Debug)]
pub(super) enum ServiceProcess {
    /// The service is gonogo's child (no guard available: a library or unit test).
    Direct(Child),
    /// The service is the guard's child; the guard reports its exit.
    Guarded(Guarded),
}

impl ServiceProcess {
    /// Wait for the service's exit (with a guard: once all its descendants are gone).
    pub(super) async fn wait(&mut self) -> ExitInfo {
        match self {
            ServiceProcess::Direct(child) => match child.wait().await {
                Ok(status) => ExitInfo::from(status),
                // wait(2) failed: the status is lost, but the process is not ours.
                Err(_) => ExitInfo::UNKNOWN,
            },
            ServiceProcess::Guarded(guarded) => guarded.wait().await,
        }
    }
}

/// Spawn the service in its own process group with stdin closed and output going
/// to the log files: under a guard (`gonogo __guard`, see [`super::guard`]) when
/// this executable is gonogo, else directly.
///
/// Must be called from async code running on a runtime thread, never from
/// `spawn_blocking`: the parent-death signal set here fires when the *thread* that
/// spawned the child exits, and blocking-pool threads exit when idle, which would
/// SIGKILL a healthy service. Runtime worker threads live as long as the runtime.
pub(super) async fn spawn(rendered: &Rendered, logs: LogFiles) -> Result<Spawned, ServiceError> {
    if guard::available() {
        return spawn_guarded(rendered, logs).await;
    }
    let mut child = spawn_direct(rendered, logs)?;
    let Some(pid) = child.id() else {
        // Reap what there is; the process is already gone.
        let _ = child.wait().await;
        return Err(ServiceError::NoPid);
    };
    Ok(Spawned {
        service_pid: pid,
        tree_root: pid,
        process: ServiceProcess::Direct(child),
    })
}

fn spawn_direct(rendered: &Rendered, logs: LogFiles) -> Result<Child, ServiceError> {
    let mut command = Command::new(&rendered.program);
    command
        .args(rendered.command.iter().skip(1))
        .envs(rendered.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(&rendered.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(logs.stdout))
        .stderr(Stdio::from(logs.stderr))
        .process_group(0)
        .kill_on_drop(true);
    set_parent_death_signal(command.as_std_mut(), Signal::SIGKILL);
    command.spawn().map_err(|source| ServiceError::Spawn {
        program: rendered.command.first().cloned().unwrap_or_default(),
        cwd: rendered.cwd.clone(),
        source,
    })
}

/// Ask the kernel to send `signal` to the child when its parent thread dies, so a
/// crashed or killed parent never leaves it running.
#[expect(
    unsafe_code,
    reason = "pre_exec is the only way to run prctl(PR_SET_PDEATHSIG) in the child before exec"
)]
pub(super) fn set_parent_death_signal(command: &mut std::process::Command, signal: Signal) {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe functions may be called. It calls prctl(2) and getppid(2)
    // (both plain system calls), and builds io::Error from a raw errno, which does
    // not allocate. It touches no locks and no memory shared with other threads.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(signal).map_err(io::Error::from)?;
            // The parent may have died before prctl took effect: then the signal
            // will never come, so give up instead of running orphaned.
            if nix::unistd::getppid() != parent {
                return Err(io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
}

/// A warning when the service's command looks like it hands the real service to
/// something gonogo does not supervise (`docker run -d`, `systemctl start`,
/// `nohup … &`): that process is not a descendant, so gonogo can neither measure
/// nor stop it. `None` for an ordinary command. For `gonogo check`.
pub fn detached_warning(command: &[Template]) -> Option<String> {
    let line: Vec<String> = command.iter().map(|t| t.render_with_port(0)).collect();
    let words: Vec<&str> = line.iter().flat_map(|t| t.split_whitespace()).collect();
    let after = |first: &'static str| words.iter().skip_while(move |w| !w.ends_with(first));
    let docker = ["docker", "podman"].iter().any(|tool| {
        let mut rest = after(tool).skip_while(|w| **w != "run");
        rest.any(|w| *w == "-d" || w.starts_with("--detach"))
    });
    let systemctl = after("systemctl").any(|w| *w == "start" || *w == "restart");
    let nohup = words.iter().any(|w| w.ends_with("nohup"));
    let looks_like = match (docker, systemctl, nohup) {
        (true, _, _) => "docker run -d",
        (_, true, _) => "systemctl start",
        (_, _, true) => "nohup … &",
        _ => return None,
    };
    Some(format!(
        "the service command looks like `{looks_like}`: the process it starts is not a \
         descendant of gonogo, which can then neither sample nor stop it, nor clean it up \
         (hint: run the service in the foreground, e.g. `docker run --rm` without -d, or \
         the server binary itself)"
    ))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests {
    use super::*;

    fn warning(command: &[&str]) -> Option<String> {
        let command: Vec<Template> = command.iter().map(|c| Template::literal(*c)).collect();
        detached_warning(&command)
    }

    #[test]
    fn detaching_commands_are_warned_about() {
        let docker = warning(&["docker", "run", "--rm", "-d", "img"]).unwrap();
        assert!(docker.contains("docker run -d"), "{docker}");
        assert!(warning(&["sh", "-c", "podman run --detach x"]).is_some());
        assert!(warning(&["/bin/systemctl", "start", "app"]).is_some());
        assert!(warning(&["sh", "-c", "nohup ./server &"]).is_some());
        assert_eq!(warning(&["docker", "run", "--rm", "img"]), None);
        assert_eq!(warning(&["./server", "--listen", "127.0.0.1:1"]), None);
    }
}

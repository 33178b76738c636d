//! Building and spawning the service's process: rendered command and environment,
//! working directory, log files, its own process group and the parent-death signal.
//!
//! Owns: everything between a [`ServicePlan`] and a running [`Child`]. Does not own:
//! waiting for the child, readiness or stopping (that is the parent module).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::Signal;
use tokio::process::{Child, Command};

use super::ServiceError;
use crate::plan::ServicePlan;

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
    stdout: File,
    stderr: File,
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

/// Spawn the service in its own process group with stdin closed and output going
/// to the log files.
///
/// Must be called from async code running on a runtime thread, never from
/// `spawn_blocking`: the parent-death signal set here fires when the *thread* that
/// spawned the child exits, and blocking-pool threads exit when idle, which would
/// SIGKILL a healthy service. Runtime worker threads live as long as the runtime.
pub(super) fn spawn(rendered: &Rendered, logs: LogFiles) -> Result<Child, ServiceError> {
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
    set_parent_death_signal(&mut command);
    command.spawn().map_err(|source| ServiceError::Spawn {
        program: rendered.command.first().cloned().unwrap_or_default(),
        cwd: rendered.cwd.clone(),
        source,
    })
}

/// Ask the kernel to SIGKILL the child when its parent thread dies, so a crashed
/// or killed gonogo never leaves the service running.
#[expect(
    unsafe_code,
    reason = "pre_exec is the only way to run prctl(PR_SET_PDEATHSIG) in the child before exec"
)]
fn set_parent_death_signal(command: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe functions may be called. It calls prctl(2) and getppid(2)
    // (both plain system calls), and builds io::Error from a raw errno, which does
    // not allocate. It touches no locks and no memory shared with other threads.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
            // The parent may have died before prctl took effect: then the signal
            // will never come, so give up instead of running orphaned.
            if nix::unistd::getppid() != parent {
                return Err(io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
}

//! The supervisor's side of the guard: start `gonogo __guard …` with the rendered
//! command, read the service's pid and, later, its exit from the report socket.
//!
//! Owns: the guard's process and the socket to it. Does not own: what the guard
//! does (`guard`), nor signalling the service (the parent module signals the
//! service's own process group, which the guard is not a member of).

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::kill;
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

use super::guard::{GUARD_ARG, GUARD_STOP};
use super::spawn::{LogFiles, Rendered, ServiceProcess, Spawned, set_parent_death_signal};
use super::{ExitInfo, ServiceError};

/// The longest the guard may take to start the service and say so.
const START_LIMIT: Duration = Duration::from_secs(10);

/// A running guard. Dropped before it exited, it is told to stop (and then kills
/// everything the service started).
#[derive(Debug)]
pub(super) struct Guarded {
    guard: Child,
    report: BufReader<UnixStream>,
}

/// Start the guard, which starts the service, and wait for the service's pid.
pub(super) async fn spawn_guarded(
    rendered: &Rendered,
    logs: LogFiles,
) -> Result<Spawned, ServiceError> {
    let guard_error = |why: String| ServiceError::Guard { why };
    let (ours, theirs) = StdUnixStream::pair()
        .map_err(|e| guard_error(format!("could not create its report socket: {e}")))?;
    // The command (and with it the guard's end of the socket) is dropped at once, so
    // the guard's death reads as the end of the stream.
    let guard = guard_command(rendered, logs, OwnedFd::from(theirs))
        .spawn()
        .map_err(|e| guard_error(format!("could not be started: {e}")))?;
    let tree_root = guard.id().unwrap_or_default();
    let report = ours
        .set_nonblocking(true)
        .and_then(|()| UnixStream::from_std(ours))
        .map_err(|e| guard_error(format!("its report socket failed: {e}")))?;
    let mut guarded = Guarded {
        guard,
        report: BufReader::new(report),
    };
    let line = match tokio::time::timeout(START_LIMIT, guarded.next_line()).await {
        Ok(line) => line,
        Err(_) => format!("said nothing within {START_LIMIT:?}"),
    };
    match line.split_once(' ') {
        Some(("started", pid)) if pid.parse::<u32>().is_ok() => Ok(Spawned {
            service_pid: pid.parse().unwrap_or_default(),
            tree_root,
            process: ServiceProcess::Guarded(guarded),
        }),
        Some(("spawn-failed", errno)) => {
            let _ = guarded.guard.wait().await;
            Err(ServiceError::Spawn {
                program: rendered.command.first().cloned().unwrap_or_default(),
                cwd: rendered.cwd.clone(),
                source: io::Error::from_raw_os_error(errno.parse().unwrap_or(0)),
            })
        }
        _ => Err(guard_error(format!("did not start the service: {line}"))),
    }
}

/// `/proc/self/exe __guard --cwd DIR [--env K=V]… [--nofile-soft N] -- PROGRAM [ARG]…`, in its own
/// process group, with SIGTERM as its parent-death signal.
fn guard_command(rendered: &Rendered, logs: LogFiles, report: OwnedFd) -> Command {
    let mut command = Command::new("/proc/self/exe");
    command
        .arg0("gonogo")
        .arg(GUARD_ARG)
        .arg("--cwd")
        .arg(&rendered.cwd);
    for (name, value) in &rendered.env {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    if let Some(soft) = super::fd_limit::soft_before() {
        command.arg("--nofile-soft").arg(soft.to_string());
    }
    command
        .arg("--")
        .arg(&rendered.program)
        .args(rendered.command.iter().skip(1))
        .stdin(Stdio::from(report))
        .stdout(Stdio::from(logs.stdout))
        .stderr(Stdio::from(logs.stderr))
        .process_group(0)
        .kill_on_drop(false);
    set_parent_death_signal(command.as_std_mut(), GUARD_STOP);
    command
}

impl Guarded {
    /// The next report line, trimmed; what went wrong when there is none.
    async fn next_line(&mut self) -> String {
        let mut line = String::new();
        match self.report.read_line(&mut line).await {
            Ok(0) => "the guard exited without a word".to_string(),
            Ok(_) => line.trim().to_string(),
            Err(e) => format!("reading its report failed: {e}"),
        }
    }

    /// The service's exit as the guard reports it, once every descendant is gone;
    /// the guard's own end when it could not report (it was killed).
    pub(super) async fn wait(&mut self) -> ExitInfo {
        let line = self.next_line().await;
        let own = self.guard.wait().await;
        let number = |text: &str| text.parse::<i32>().ok();
        if let Some(code) = line.strip_prefix("exited code ") {
            return ExitInfo {
                code: number(code),
                signal: None,
            };
        }
        if let Some(signal) = line.strip_prefix("exited signal ") {
            return ExitInfo {
                code: None,
                signal: number(signal),
            };
        }
        if line == "exited unknown" {
            return ExitInfo::UNKNOWN;
        }
        own.map(ExitInfo::from).unwrap_or(ExitInfo::UNKNOWN)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Still running (not reaped): ask it to clean up; it SIGKILLs the service.
        if let Some(pid) = self.guard.id() {
            let _ = kill(Pid::from_raw(pid as i32), GUARD_STOP);
        }
    }
}

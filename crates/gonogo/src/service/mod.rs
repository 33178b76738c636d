//! The service supervisor: starts the service under test in its own process group
//! (under a subreaper guard when this is the gonogo binary, see [`guard`]), refuses a
//! fixed port another process listens on, waits until it is ready and checks that
//! the service itself holds its port, watches for its exit, and stops it (signal,
//! grace, then SIGKILL of the whole group; the guard then kills every descendant).
//!
//! Owns: the service's process and its log files, and the `service_*` events and log
//! artifacts it sends on the record stream. Does not own: deciding when to start or
//! stop (that is the conductor), nor measuring the process tree (that is `sample`).
//!
//! Exactly one `ServiceExited` event is sent per process exit: by the background
//! waiter with `expected: false` when the service exited on its own, or by
//! [`RunningService::stop`] with `expected: true` when gonogo asked it to stop.

mod fd_limit;
pub mod guard;
mod guarded;
mod ports;
mod ready;
mod spawn;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests;

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::watch;

use crate::model::{Artifact, EventKind, Record, RecordSender, RunClock};
use crate::plan::{PortChoice, ServicePlan};

pub use fd_limit::{FdLimits, raise_fd_limit};
pub use ports::Holder;
pub use spawn::{STDERR_LOG, STDOUT_LOG, detached_warning};

use ready::Probe;
use spawn::{LogFiles, Rendered, ServiceProcess};

/// How long to wait for the process to go away after SIGKILL before giving up.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// The longest a single readiness attempt may take.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(2);
/// Lines of the stderr log quoted when the service dies before it is ready.
const TAIL_LINES: usize = 20;
/// Bytes read from the end of the stderr log to find those lines.
const TAIL_BYTES: u64 = 64 * 1024;

/// What the supervisor needs from the run besides the plan.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    /// Directory of the spec file: the working directory when the plan has none.
    pub spec_dir: PathBuf,
    /// Where the service's stdout and stderr logs are written (created if missing).
    pub log_dir: PathBuf,
    pub clock: RunClock,
    pub records: RecordSender,
}

/// How the service's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// Exit code, when it exited normally.
    pub code: Option<i32>,
    /// Signal number, when a signal killed it.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// The status could not be learnt (wait failed, or the guard was killed).
    pub const UNKNOWN: ExitInfo = ExitInfo {
        code: None,
        signal: None,
    };
}

impl From<ExitStatus> for ExitInfo {
    fn from(status: ExitStatus) -> Self {
        ExitInfo {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        describe_exit(self.code, self.signal).fmt(f)
    }
}

fn describe_exit(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(name) => format!("killed by signal {signal} ({name})"),
            Err(_) => format!("killed by signal {signal}"),
        },
        (None, None) => "exit status unknown".to_string(),
    }
}

/// Why the service could not be started, made ready or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the service command is empty (hint: give `command` at least a program)")]
    EmptyCommand,
    #[error("could not pick a free loopback port: {source} (hint: set a fixed `port`)")]
    PickPort {
        #[source]
        source: std::io::Error,
    },
    #[error("stop signal {signal} is not a signal this system knows (hint: use e.g. SIGTERM)")]
    BadSignal { signal: i32 },
    #[error("readiness probe URL `{url}` cannot be used: {reason}")]
    BadProbeUrl { url: String, reason: String },
    #[error("could not create the service log directory {path}: {source}")]
    LogDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not open the service log {path}: {source}")]
    LogFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "could not start `{program}` in {cwd}: {source} (hint: check that the program exists \
         and is executable; a program path containing '/' is taken relative to the working \
         directory, a bare name is looked up in PATH)"
    )]
    Spawn {
        program: String,
        cwd: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the service was spawned but reported no process id (it exited at once)")]
    NoPid,
    #[error(
        "could not start the service: {} before it was ready (hint: read why in its \
         stderr; a service must keep running and answer its probe); last lines of {}:\n\
         {stderr_tail}",
        describe_early_exit(*.code, *.signal), .stderr_log.display()
    )]
    ExitedBeforeReady {
        code: Option<i32>,
        signal: Option<i32>,
        stderr_log: PathBuf,
        /// The last lines of the stderr log (empty when it wrote nothing).
        stderr_tail: String,
    },
    #[error(
        "the service was not ready after {timeout:?} ({probe}: {last}); it was killed \
         (hint: raise `ready.timeout`, check the probe address, or read the logs in {})",
        .log_dir.display()
    )]
    NotReady {
        timeout: Duration,
        /// The probe, e.g. `GET http://127.0.0.1:4000/health`.
        probe: String,
        /// Why the last attempt failed.
        last: String,
        log_dir: PathBuf,
    },
    #[error(
        "port {port} is already in use: {holder} listens on it, so the service could not \
         bind it and the probe and the load would reach that process instead; nothing was \
         started (hint: stop that process, choose another fixed `port`, or use port = \"auto\")"
    )]
    PortInUse { port: u16, holder: Holder },
    #[error(
        "the service looked ready, but port {port} is answered by {holder}, which is not \
         the service nor one of its processes; the service was stopped and no load was sent \
         (hint: stop that process, or choose another `port`)"
    )]
    NotTheService { port: u16, holder: Holder },
    #[error(
        "gonogo's guard for the service (`gonogo {}`) {why} (hint: check the limits on \
         processes and open files; the service's logs may say more)",
        guard::GUARD_ARG
    )]
    Guard { why: String },
    #[error("could not send {signal} to the service's process group {pgid}: {source}")]
    Signal {
        signal: Signal,
        pgid: u32,
        #[source]
        source: Errno,
    },
    #[error(
        "the service (pid {pid}) did not exit within {KILL_WAIT:?} of SIGKILL \
         (hint: it may be stuck in the kernel; check `ps -o stat -p {pid}`)"
    )]
    StopTimedOut { pid: u32 },
}

/// How a service that ended before it was ready ended, for [`ServiceError::ExitedBeforeReady`].
fn describe_early_exit(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("service exited with status {code}"),
        (None, Some(_)) => format!("service was {}", describe_exit(code, signal)),
        (None, None) => "service exited (status unknown)".to_string(),
    }
}

/// Pick a free port on 127.0.0.1 by binding port 0 and releasing it.
pub fn pick_free_port() -> Result<u16, ServiceError> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|source| ServiceError::PickPort { source })?;
    let port = listener
        .local_addr()
        .map_err(|source| ServiceError::PickPort { source })?
        .port();
    Ok(port)
}

/// Lifecycle of one process, shared by the waiter task and [`RunningService`] so that
/// exactly one of them reports the exit.
const RUNNING: u8 = 0;
/// [`RunningService`] asked the process to stop; it reports the exit as expected.
const STOP_REQUESTED: u8 = 1;
/// The process exited on its own; the waiter reported it as unexpected.
const EXITED_ON_ITS_OWN: u8 = 2;

/// A started service. Dropping it SIGKILLs its process group if it still runs.
#[derive(Debug)]
pub struct RunningService {
    pid: u32,
    /// The tree that must hold the socket listening on `port`: the guard's when
    /// there is one (it holds the service and what the service forked), else `pid`.
    tree_root: u32,
    port: u16,
    stop_signal: Signal,
    grace: Duration,
    state: Arc<AtomicU8>,
    exit: watch::Receiver<Option<ExitInfo>>,
    /// Set once [`RunningService::stop`] has finished: later calls return it.
    stopped: Option<ExitInfo>,
    clock: RunClock,
    records: RecordSender,
}

/// Start the service, wait until its readiness probe passes, and return it.
///
/// Sends `ServiceStarted`, two log artifacts and `ServiceReady` on the record stream.
/// Must be awaited on a runtime thread, never inside `spawn_blocking`: the service
/// gets SIGKILL as its parent-death signal, and Linux sends it when the *thread*
/// that spawned it exits; idle blocking-pool threads exit, runtime workers do not.
/// Dropping the returned value (or this future, before it resolves) kills the
/// service's process group.
pub async fn start(
    plan: &ServicePlan,
    ctx: &ServiceContext,
) -> Result<RunningService, ServiceError> {
    let port = match plan.port {
        PortChoice::Auto => pick_free_port()?,
        PortChoice::Fixed(port) => {
            ports::ensure_free(port)?;
            port
        }
    };
    let stop_signal = Signal::try_from(plan.stop.signal).map_err(|_| ServiceError::BadSignal {
        signal: plan.stop.signal,
    })?;
    let probe = Probe::new(&plan.ready.kind, port)?;
    let rendered = Rendered::new(plan, port, &ctx.spec_dir)?;
    let logs = LogFiles::open(&ctx.log_dir)?;
    let (stdout_path, stderr_path) = (logs.stdout_path.clone(), logs.stderr_path.clone());

    let spawned_at = Instant::now();
    let spawned = spawn::spawn(&rendered, logs).await?;
    let pid = spawned.service_pid;
    announce(
        ctx,
        pid,
        port,
        &rendered.command,
        [&stdout_path, &stderr_path],
    );

    let state = Arc::new(AtomicU8::new(RUNNING));
    let (exit_tx, exit_rx) = watch::channel(None);
    let waiter = WaiterContext {
        pid,
        clock: ctx.clock,
        records: ctx.records.clone(),
    };
    let process = spawned.process;
    tokio::spawn(watch_exit(process, Arc::clone(&state), exit_tx, waiter));
    let mut service = RunningService {
        pid,
        tree_root: spawned.tree_root,
        port,
        stop_signal,
        grace: plan.stop.grace,
        state,
        exit: exit_rx,
        stopped: None,
        clock: ctx.clock,
        records: ctx.records.clone(),
    };
    service
        .become_ready(&probe, plan, spawned_at, ctx, stderr_path)
        .await?;
    Ok(service)
}

/// Send `ServiceStarted` and the two log artifacts.
fn announce(ctx: &ServiceContext, pid: u32, port: u16, command: &[String], logs: [&Path; 2]) {
    let command = command.to_vec();
    let started = EventKind::ServiceStarted { pid, port, command };
    send(&ctx.records, ctx.clock.event(started));
    for (name, path) in ["service-stdout", "service-stderr"].into_iter().zip(logs) {
        let artifact = Artifact {
            name: name.to_string(),
            path: path.display().to_string(),
        };
        send(&ctx.records, Record::Artifact(artifact));
    }
}

/// Why the readiness wait ended without success.
enum Unready {
    Exited(ExitInfo),
    /// Why the last attempt failed.
    TimedOut(String),
}

/// Background task: reap the child, report an exit nobody asked for, publish it.
async fn watch_exit(
    mut process: ServiceProcess,
    state: Arc<AtomicU8>,
    exit_tx: watch::Sender<Option<ExitInfo>>,
    ctx: WaiterContext,
) {
    let info = process.wait().await;
    let unasked = state
        .compare_exchange(
            RUNNING,
            EXITED_ON_ITS_OWN,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_ok();
    if unasked {
        // Leftover members of the group (grandchildren) go with their leader.
        let _ = signal_group(ctx.pid, Signal::SIGKILL);
        send(
            &ctx.records,
            ctx.clock.event(EventKind::ServiceExited {
                code: info.code,
                signal: info.signal,
                expected: false,
            }),
        );
    }
    exit_tx.send_replace(Some(info));
}

/// The part of [`ServiceContext`] the waiter task keeps.
#[derive(Debug, Clone)]
struct WaiterContext {
    /// The service's pid, which is also its process group id.
    pid: u32,
    clock: RunClock,
    records: RecordSender,
}

impl RunningService {
    /// Process id of the service's main process (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port the service was started with (`{port}`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A receiver that holds `Some` once the main process has exited, for any reason.
    pub fn exited(&self) -> watch::Receiver<Option<ExitInfo>> {
        self.exit.clone()
    }

    /// Stop the service: the plan's stop signal to the whole process group, up to
    /// the grace period for the main process to exit, then SIGKILL of the group.
    ///
    /// Idempotent: later calls return the first call's result. When the service had
    /// already exited on its own, returns that exit (reported then as unexpected).
    pub async fn stop(&mut self) -> Result<ExitInfo, ServiceError> {
        if let Some(info) = self.stopped {
            return Ok(info);
        }
        let info = self.terminate(self.stop_signal, self.grace).await?;
        self.stopped = Some(info);
        Ok(info)
    }

    /// Kill the service at once (SIGKILL to the group), as a fault: the exit is
    /// reported as expected, since gonogo caused it. Idempotent like [`Self::stop`].
    pub async fn kill(&mut self) -> Result<ExitInfo, ServiceError> {
        if let Some(info) = self.stopped {
            return Ok(info);
        }
        let info = self.terminate(Signal::SIGKILL, Duration::ZERO).await?;
        self.stopped = Some(info);
        Ok(info)
    }

    /// Freeze the whole process group (SIGSTOP), as a fault.
    pub fn pause(&self) -> Result<(), ServiceError> {
        self.signal(Signal::SIGSTOP)
    }

    /// Thaw the process group after [`Self::pause`] (SIGCONT).
    pub fn resume(&self) -> Result<(), ServiceError> {
        self.signal(Signal::SIGCONT)
    }

    /// Send `signal` to the group, wait up to `grace`, SIGKILL the group, and report
    /// the exit as expected (unless the waiter already reported it as unexpected).
    async fn terminate(
        &mut self,
        signal: Signal,
        grace: Duration,
    ) -> Result<ExitInfo, ServiceError> {
        let requested = self
            .state
            .compare_exchange(RUNNING, STOP_REQUESTED, Ordering::AcqRel, Ordering::Acquire)
            .map_or_else(|current| current == STOP_REQUESTED, |_| true);
        if !requested {
            // It exited on its own: the waiter reported it and killed the rest of
            // the group right away, so the (possibly reused) pid is left alone here.
            return self
                .wait_exit(KILL_WAIT)
                .await
                .ok_or(ServiceError::StopTimedOut { pid: self.pid });
        }
        let mut info = None;
        if self.current_exit().is_none() {
            self.signal(signal)?;
            // A paused service must run to act on the signal.
            self.signal(Signal::SIGCONT)?;
            info = self.wait_exit(grace).await;
        }
        // SIGKILL the group even when the leader obeyed: grandchildren may linger.
        self.signal(Signal::SIGKILL)?;
        let info = match info {
            Some(info) => info,
            None => self
                .wait_exit(KILL_WAIT)
                .await
                .ok_or(ServiceError::StopTimedOut { pid: self.pid })?,
        };
        send(
            &self.records,
            self.clock.event(EventKind::ServiceExited {
                code: info.code,
                signal: info.signal,
                expected: true,
            }),
        );
        Ok(info)
    }

    fn current_exit(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    /// Signal the process group; a group that is already gone is not an error.
    fn signal(&self, signal: Signal) -> Result<(), ServiceError> {
        match signal_group(self.pid, signal) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(source) => Err(ServiceError::Signal {
                signal,
                pgid: self.pid,
                source,
            }),
        }
    }

    /// The exit, once it happens within `limit`.
    async fn wait_exit(&mut self, limit: Duration) -> Option<ExitInfo> {
        let exit = tokio::time::timeout(limit, self.exit.wait_for(Option::is_some)).await;
        match exit {
            Ok(Ok(info)) => *info,
            // Timed out, or the waiter task is gone without publishing.
            Ok(Err(_)) | Err(_) => None,
        }
    }

    /// Wait for readiness and send `ServiceReady`; on failure, make sure nothing of
    /// the service is left and say why.
    async fn become_ready(
        &mut self,
        probe: &Probe,
        plan: &ServicePlan,
        spawned_at: Instant,
        ctx: &ServiceContext,
        stderr_log: PathBuf,
    ) -> Result<(), ServiceError> {
        match self.wait_ready(probe, plan, spawned_at).await {
            Ok(after) => {
                if let Err(err) = ports::ensure_owned(self.port, self.tree_root) {
                    self.stop().await?;
                    return Err(err);
                }
                send(
                    &self.records,
                    self.clock.event(EventKind::ServiceReady { after }),
                );
                Ok(())
            }
            // The waiter already reported the exit and killed the rest of the group.
            Err(Unready::Exited(info)) => Err(ServiceError::ExitedBeforeReady {
                code: info.code,
                signal: info.signal,
                stderr_tail: tail_lines(&stderr_log, TAIL_LINES),
                stderr_log,
            }),
            Err(Unready::TimedOut(last)) => {
                self.terminate(Signal::SIGKILL, Duration::ZERO).await?;
                Err(ServiceError::NotReady {
                    timeout: plan.ready.timeout,
                    probe: probe.describe(),
                    last,
                    log_dir: ctx.log_dir.clone(),
                })
            }
        }
    }

    /// Probe until ready, the process exits, or the plan's timeout passes. Returns
    /// the time from spawn to ready.
    async fn wait_ready(
        &mut self,
        probe: &Probe,
        plan: &ServicePlan,
        spawned_at: Instant,
    ) -> Result<Duration, Unready> {
        let deadline = spawned_at + plan.ready.timeout;
        let mut last = "no attempt was made".to_string();
        loop {
            if let Some(info) = self.current_exit() {
                return Err(Unready::Exited(info));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Unready::TimedOut(last));
            }
            match probe.attempt(ATTEMPT_LIMIT.min(deadline - now)).await {
                Ok(()) => return Ok(spawned_at.elapsed()),
                Err(why) => last = why,
            }
            let pause = plan
                .ready
                .interval
                .min(deadline.saturating_duration_since(Instant::now()));
            // Wake early when the process exits; the loop head reports it.
            let _ = tokio::time::timeout(pause, self.exit.wait_for(Option::is_some)).await;
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if self.stopped.is_none() && self.current_exit().is_none() {
            // Best effort: the group may be exiting at this very moment.
            let _ = signal_group(self.pid, Signal::SIGKILL);
        }
    }
}

fn signal_group(pgid: u32, signal: Signal) -> Result<(), Errno> {
    let pgid = i32::try_from(pgid).map_err(|_| Errno::ESRCH)?;
    killpg(Pid::from_raw(pgid), signal)
}

/// Send a record; a closed stream means the conductor is gone, which is its concern.
fn send(records: &RecordSender, record: Record) {
    let _ = records.send(record);
}

/// The last `lines` lines of a (possibly large) log file; empty when unreadable.
fn tail_lines(path: &Path, lines: usize) -> String {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        Ok(buf)
    };
    let Ok(bytes) = read() else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

//! The guard: gonogo re-executed as `gonogo __guard …`, the service's parent. It is
//! a child subreaper, so whatever the service forks (a shell wrapper's server, a
//! double fork, a `setsid` child) stays its descendant, and it kills all of it:
//! when the service's main process exits, when it is told to stop (SIGTERM, SIGINT,
//! SIGHUP, SIGQUIT), and when gonogo dies (its parent-death signal is SIGTERM).
//!
//! Owns: the guard's side of the report socket (its stdin): one line
//! `started <pid>` or `spawn-failed <errno>`, then `exited code <n>`,
//! `exited signal <n>` or `exited unknown` once every descendant is gone.
//! Does not own: when to stop the service (the supervisor signals its group).
//!
//! Single-threaded on purpose: the signals it waits for are blocked in its one
//! thread and taken with `sigwait`, so none is lost between two waits.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::fd_limit::restore_soft;
use super::ports::process_tree;
use super::spawn::set_parent_death_signal;

/// The hidden first argument that makes gonogo a guard.
pub(super) const GUARD_ARG: &str = "__guard";
/// The signal the guard gets when gonogo dies, and that asks it to stop.
pub(super) const GUARD_STOP: Signal = Signal::SIGTERM;
/// The longest the guard keeps killing descendants that keep appearing.
const CLEANUP_LIMIT: Duration = Duration::from_secs(5);
/// Exit code of a guard that could not do its work (it says why on stderr).
const GUARD_FAILED: u8 = 70;

/// Whether this executable can be re-executed as a guard (set by [`enter`]).
static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether `service::start` runs the service under a guard.
pub(super) fn available() -> bool {
    AVAILABLE.load(Ordering::Relaxed)
}

/// Called first by the gonogo binary. Started as `gonogo __guard …`, be the guard
/// and return its exit code; otherwise note that this executable can be re-executed
/// as a guard (libraries and unit tests, which cannot, spawn the service directly)
/// and return `None`.
pub fn enter() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new(GUARD_ARG)) {
        AVAILABLE.store(true, Ordering::Relaxed);
        return None;
    }
    let code = match GuardArgs::parse(args) {
        Some(parsed) => run(parsed),
        None => {
            eprintln!(
                "gonogo guard: usage: gonogo {GUARD_ARG} --cwd DIR [--env K=V]… [--nofile-soft N] -- PROGRAM [ARG]…"
            );
            GUARD_FAILED
        }
    };
    Some(ExitCode::from(code))
}

/// What the supervisor passes on the guard's command line.
#[derive(Debug)]
struct GuardArgs {
    cwd: PathBuf,
    env: Vec<(OsString, OsString)>,
    /// The soft file-descriptor limit the service starts with (gonogo's before it
    /// raised its own, see `fd_limit`); `None` keeps the guard's.
    nofile_soft: Option<u64>,
    program: OsString,
    args: Vec<OsString>,
}

impl GuardArgs {
    fn parse(mut args: impl Iterator<Item = OsString>) -> Option<GuardArgs> {
        let (mut cwd, mut env, mut nofile_soft) = (None, Vec::new(), None);
        loop {
            let arg = args.next()?;
            match arg.to_str() {
                Some("--cwd") => cwd = Some(PathBuf::from(args.next()?)),
                Some("--env") => {
                    let pair = args.next()?.into_string().ok()?;
                    let (name, value) = pair.split_once('=')?;
                    env.push((name.into(), value.into()));
                }
                Some("--nofile-soft") => nofile_soft = Some(args.next()?.to_str()?.parse().ok()?),
                Some("--") => break,
                _ => return None,
            }
        }
        Some(GuardArgs {
            cwd: cwd?,
            env,
            nofile_soft,
            program: args.next()?,
            args: args.collect(),
        })
    }
}

/// The guard's life: set up, start the service, wait, kill everything, report.
fn run(parsed: GuardArgs) -> u8 {
    let report = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => UnixStream::from(fd),
        Err(err) => return fail(&format!("no report socket on stdin: {err}")),
    };
    if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
        return fail(&format!("could not become a child subreaper: {err}"));
    }
    let signals = waited_signals();
    if let Err(err) = signals.thread_block() {
        return fail(&format!("could not block signals: {err}"));
    }
    if let Some(soft) = parsed.nofile_soft
        && let Err(err) = restore_soft(soft)
    {
        return fail(&format!(
            "could not set the service's file-descriptor limit to {soft}: {err}"
        ));
    }
    let mut command = Command::new(&parsed.program);
    command
        .args(&parsed.args)
        .envs(parsed.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&parsed.cwd)
        .stdin(Stdio::null())
        .process_group(0);
    set_parent_death_signal(&mut command, Signal::SIGKILL);
    let service = match command.spawn() {
        Ok(child) => Pid::from_raw(child.id() as i32),
        Err(err) => {
            let errno = err.raw_os_error().unwrap_or(0);
            return say(&report, &format!("spawn-failed {errno}"));
        }
    };
    if say(&report, &format!("started {service}")) != 0 {
        // Nobody listens: gonogo is gone or gave up; take the service down.
        let _ = kill_everything(service, None);
        return GUARD_FAILED;
    }
    let status = wait_for_service(service, &signals);
    let status = kill_everything(service, status);
    say(&report, &describe(status))
}

/// SIGCHLD (a child exited) and the signals that ask the guard to stop.
fn waited_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [
        Signal::SIGCHLD,
        GUARD_STOP,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(signal);
    }
    set
}

/// Wait until the service exits (its status) or the guard is asked to stop (`None`).
/// Reparented descendants that exit meanwhile are reaped.
fn wait_for_service(service: Pid, signals: &SigSet) -> Option<WaitStatus> {
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => {
                if let Some(status) = reap(service) {
                    return Some(status);
                }
            }
            Ok(_) => return None,
            Err(_) => continue,
        }
    }
}

/// Reap every child that has exited; the service's status if it was among them.
fn reap(service: Pid) -> Option<WaitStatus> {
    let mut found = None;
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        match status {
            WaitStatus::StillAlive => break,
            WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) if pid == service => {
                found = Some(status);
            }
            _ => {}
        }
    }
    found
}

/// SIGKILL the service's group, then every descendant of the guard (reparented
/// ones included, whatever their session or group), until none is left. Returns the
/// service's status, reaped on the way when it was not yet.
fn kill_everything(service: Pid, mut status: Option<WaitStatus>) -> Option<WaitStatus> {
    let _ = killpg(service, Signal::SIGKILL);
    let me = std::process::id();
    let deadline = Instant::now() + CLEANUP_LIMIT;
    loop {
        let mut left = process_tree(me);
        left.remove(&me);
        if left.is_empty() {
            return status;
        }
        for pid in &left {
            let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
        }
        if let Some(reaped) = reap(service) {
            status = Some(reaped);
        }
        if Instant::now() >= deadline {
            eprintln!("gonogo guard: processes {left:?} survived SIGKILL for {CLEANUP_LIMIT:?}");
            return status;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The report line for the service's end.
fn describe(status: Option<WaitStatus>) -> String {
    match status {
        Some(WaitStatus::Exited(_, code)) => format!("exited code {code}"),
        Some(WaitStatus::Signaled(_, signal, _)) => format!("exited signal {}", signal as i32),
        _ => "exited unknown".to_string(),
    }
}

/// Write one report line; 0 when it went out, else the guard's failure code.
fn say(mut report: &UnixStream, line: &str) -> u8 {
    match writeln!(report, "{line}") {
        Ok(()) => 0,
        Err(_) => GUARD_FAILED,
    }
}

fn fail(why: &str) -> u8 {
    eprintln!("gonogo guard: {why}");
    GUARD_FAILED
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = OsString> {
        list.iter()
            .map(OsString::from)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn arguments_are_cwd_env_then_the_command() {
        let parsed = GuardArgs::parse(args(&[
            "--cwd", "/srv", "--env", "A=b=c", "--", "sh", "-c", "x",
        ]))
        .unwrap();
        assert_eq!(parsed.cwd, PathBuf::from("/srv"));
        assert_eq!(parsed.env, vec![("A".into(), "b=c".into())]);
        assert_eq!(parsed.program, "sh");
        assert_eq!(parsed.args, vec![OsString::from("-c"), "x".into()]);
        assert!(GuardArgs::parse(args(&["--", "sh"])).is_none(), "no cwd");
        assert!(GuardArgs::parse(args(&["--cwd", "/", "--"])).is_none());
        assert!(GuardArgs::parse(args(&["--cwd", "/", "--env", "A"])).is_none());
    }

    #[test]
    fn exits_are_reported_in_one_line() {
        let pid = Pid::from_raw(1);
        assert_eq!(describe(Some(WaitStatus::Exited(pid, 3))), "exited code 3");
        assert_eq!(
            describe(Some(WaitStatus::Signaled(pid, Signal::SIGKILL, false))),
            "exited signal 9"
        );
        assert_eq!(describe(None), "exited unknown");
    }
}

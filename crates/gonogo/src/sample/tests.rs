//! Tests of the sampler against real processes (`sh`, `sleep`, `python3`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::*;
use crate::model::channel;

const MIB: u64 = 1024 * 1024;

/// A child in its own process group, SIGKILLed (group and all) when dropped.
struct Spawned {
    child: Child,
}

impl Spawned {
    fn new(program: &str, args: &[&str]) -> Spawned {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        Spawned { child }
    }

    fn sh(script: &str) -> Spawned {
        Spawned::new("sh", &["-c", script])
    }

    fn python(code: &str) -> Spawned {
        Spawned::new("python3", &["-c", code])
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Block until the child prints a line to stdout; returns it.
    fn read_line(&mut self) -> String {
        let stdout: &mut ChildStdout = self.child.stdout.as_mut().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    }

    fn write_line(&mut self, text: &str) {
        let stdin: &mut ChildStdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Poll `read_tree(pid)` until `check` holds (or fail after 10 s); returns that sample.
fn tree_until(pid: u32, what: &str, check: impl Fn(&TreeSample) -> bool) -> TreeSample {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sample = read_tree(pid).unwrap();
        if check(&sample) {
            return sample;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {sample:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tree_includes_the_root_and_its_children() {
    let sh = Spawned::sh("sleep 30 & sleep 30");
    let sample = tree_until(sh.pid(), "sh and two sleeps", |s| s.processes >= 3);
    assert_eq!(sample.processes, 3, "{sample:?}");
    assert!(sample.rss_bytes > 0, "{sample:?}");
    assert!(sample.threads >= 3, "{sample:?}");
    // Each process has at least stdin, stdout and stderr open.
    assert!(sample.open_fds >= 9, "{sample:?}");
}

#[test]
fn the_children_files_and_the_full_scan_find_the_same_tree() {
    let sh = Spawned::sh("sleep 30 & sleep 30");
    let _ = tree_until(sh.pid(), "sh and two sleeps", |s| s.processes >= 3);
    let root = i32::try_from(sh.pid()).unwrap();
    let scanned = read_tree_by_scan(root).unwrap();
    assert_eq!(scanned.processes, 3, "{scanned:?}");
    let children_file = format!("/proc/{root}/task/{root}/children");
    if std::path::Path::new(&children_file).exists() {
        let walked = read_tree_by_children(root).expect("children files are readable");
        assert_eq!(walked.processes, scanned.processes, "{walked:?}");
        assert_eq!(walked.threads, scanned.threads, "{walked:?}");
    }
}

#[test]
fn tree_of_a_missing_root_is_empty() {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert_eq!(read_tree(pid).unwrap(), TreeSample::default());
    assert_eq!(read_tree(u32::MAX).unwrap(), TreeSample::default());
}

#[test]
fn allocated_memory_shows_in_rss() {
    let python = Spawned::python("x = bytearray(200 * 1024 * 1024)\nimport time\ntime.sleep(30)");
    let sample = tree_until(python.pid(), "200 MiB resident", |s| {
        s.rss_bytes >= 200 * MIB
    });
    // Only the one python process, and not wildly more than it allocated.
    assert_eq!(sample.processes, 1);
    assert!(sample.rss_bytes < 400 * MIB, "{sample:?}");
}

#[test]
fn opened_files_show_in_open_fds() {
    let mut python = Spawned::python(
        "import sys\nprint('ready', flush=True)\nsys.stdin.readline()\n\
         files = [open('/dev/null') for _ in range(50)]\nprint('opened', flush=True)\n\
         import time\ntime.sleep(30)",
    );
    assert_eq!(python.read_line().trim(), "ready");
    let before = read_tree(python.pid()).unwrap().open_fds;
    python.write_line("go");
    assert_eq!(python.read_line().trim(), "opened");
    let after = read_tree(python.pid()).unwrap().open_fds;
    assert_eq!(after, before + 50, "before {before}, after {after}");
}

#[test]
fn cpu_time_of_a_busy_process_grows() {
    let busy = Spawned::sh("while :; do :; done");
    let first = process_cpu_seconds(busy.pid()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_cpu_seconds(busy.pid()).unwrap() < first + 0.2 {
        assert!(Instant::now() < deadline, "the busy loop got no CPU");
        std::thread::sleep(Duration::from_millis(20));
    }
    let tree = read_tree(busy.pid()).unwrap();
    assert!(tree.cpu_seconds >= first + 0.2, "{tree:?}");
}

#[test]
fn cpu_time_of_reaped_children_still_counts() {
    // A child burns CPU for 0.5 s and exits; sh reaps it and then waits idle.
    let mut sh = Spawned::sh(
        "python3 -c 'import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass'\n\
         echo done\nexec sleep 30",
    );
    assert_eq!(sh.read_line().trim(), "done");
    let tree = read_tree(sh.pid()).unwrap();
    assert_eq!(tree.processes, 1, "{tree:?}");
    assert!(tree.cpu_seconds >= 0.5, "{tree:?}");
    // The sleep itself has used (almost) nothing.
    assert!(process_cpu_seconds(sh.pid()).unwrap() < 0.2);
}

#[test]
fn own_cpu_and_host_memory_are_readable() {
    assert!(process_cpu_seconds(std::process::id()).unwrap() >= 0.0);
    assert!(host_available_bytes().unwrap() > 0);
    let err = process_cpu_seconds(u32::MAX).unwrap_err();
    assert!(err.to_string().contains("/stat"), "{err}");
}

#[tokio::test]
async fn run_samples_at_the_interval_and_stops_on_cancel() {
    let sh = Spawned::sh("sleep 30 & sleep 30");
    tree_until(sh.pid(), "sh and two sleeps", |s| s.processes >= 3);
    let (root_tx, root_rx) = watch::channel(Some(sh.pid()));
    let (tx, mut rx) = channel();
    let cancel = CancellationToken::new();
    let clock = RunClock::new();
    let task = tokio::spawn(run(
        root_rx,
        Duration::from_millis(50),
        clock,
        tx,
        cancel.clone(),
    ));

    tokio::time::sleep(Duration::from_millis(500)).await;
    root_tx.send_replace(None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();

    let mut samples = Vec::new();
    while let Ok(record) = rx.try_recv() {
        let Record::Sample(sample) = record else {
            panic!("the sampler sent something else: {record:?}");
        };
        samples.push(sample);
    }
    // 700 ms at 50 ms: about 14, loosely.
    assert!(
        (6..=16).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    assert!(samples.windows(2).all(|w| w[0].at < w[1].at));
    let first = samples.first().unwrap();
    assert!(first.at < Duration::from_millis(100), "{first:?}");
    assert_eq!(first.processes, 3, "{first:?}");
    assert!(first.host_available_bytes > 0);
    let last = samples.last().unwrap();
    assert_eq!(last.processes, 0, "{last:?}");
    assert!(last.host_available_bytes > 0);
}

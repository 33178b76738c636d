//! Tests of the supervisor against real processes (`sh`, `sleep`, `python3`).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::*;
use crate::model::{Event, RecordReceiver, channel};
use crate::plan::{ReadyKind, ReadyProbe, Segment, StopPlan, Template};

/// A template from text, with `{port}` turned into a placeholder.
fn template(text: &str) -> Template {
    let mut segments = Vec::new();
    for (i, part) in text.split("{port}").enumerate() {
        if i > 0 {
            segments.push(Segment::Port);
        }
        if !part.is_empty() {
            segments.push(Segment::Literal(part.to_string()));
        }
    }
    Template { segments }
}

fn plan(command: &[&str], ready: ReadyKind) -> ServicePlan {
    ServicePlan {
        command: command.iter().map(|c| template(c)).collect(),
        port: PortChoice::Auto,
        env: Vec::new(),
        cwd: None,
        ready: ReadyProbe {
            kind: ready,
            timeout: Duration::from_secs(10),
            interval: Duration::from_millis(50),
        },
        stop: StopPlan {
            signal: Signal::SIGTERM as i32,
            grace: Duration::from_secs(5),
        },
        expected_rate: None,
    }
}

/// [`plan`] with `sh -c script` as the command.
fn shell(script: &str, ready: ReadyKind) -> ServicePlan {
    plan(&["sh", "-c", script], ready)
}

fn http_ready(url: &str) -> ReadyKind {
    ReadyKind::Http { url: template(url) }
}

fn tcp_ready(address: &str) -> ReadyKind {
    ReadyKind::Tcp {
        address: template(address),
    }
}

/// A listener owned by the test, so a service that listens on nothing can still be
/// "ready": the kernel completes connects to it from its backlog.
fn side_listener() -> (TcpListener, ReadyKind) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, tcp_ready(&format!("127.0.0.1:{port}")))
}

struct Harness {
    dir: TempDir,
    ctx: ServiceContext,
    records: RecordReceiver,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = channel();
    let ctx = ServiceContext {
        spec_dir: dir.path().to_path_buf(),
        log_dir: dir.path().join("logs"),
        clock: RunClock::new(),
        records: tx,
    };
    Harness {
        dir,
        ctx,
        records: rx,
    }
}

impl Harness {
    fn events(&mut self) -> Vec<EventKind> {
        let mut events = Vec::new();
        while let Ok(record) = self.records.try_recv() {
            if let Record::Event(Event { kind, .. }) = record {
                events.push(kind);
            }
        }
        events
    }

    fn exits(&mut self) -> Vec<(Option<i32>, Option<i32>, bool)> {
        self.events()
            .into_iter()
            .filter_map(|kind| match kind {
                EventKind::ServiceExited {
                    code,
                    signal,
                    expected,
                } => Some((code, signal, expected)),
                _ => None,
            })
            .collect()
    }
}

/// Pids of live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<i32> {
    procfs::process::all_processes()
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|p| p.stat().ok())
        .filter(|s| u32::try_from(s.pgrp).ok() == Some(pgid) && s.state != 'Z')
        .map(|s| s.pid)
        .collect()
}

/// Whether `pid` still names a live (non-zombie) process.
fn alive(pid: u32) -> bool {
    procfs::process::Process::new(pid as i32)
        .and_then(|p| p.stat())
        .is_ok_and(|s| s.state != 'Z')
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn python_http_server_becomes_ready_via_http_probe() {
    let mut h = harness();
    let plan = plan(
        &[
            "python3",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "{port}",
        ],
        http_ready("http://127.0.0.1:{port}/"),
    );
    let mut service = start(&plan, &h.ctx).await.unwrap();
    assert!(alive(service.pid()));

    let records: Vec<Record> = std::iter::from_fn(|| h.records.try_recv().ok()).collect();
    let started = records.iter().find_map(|r| match r {
        Record::Event(Event {
            kind: EventKind::ServiceStarted { pid, port, command },
            ..
        }) => Some((*pid, *port, command.clone())),
        _ => None,
    });
    let (pid, port, command) = started.unwrap();
    assert_eq!((pid, port), (service.pid(), service.port()));
    assert_eq!(command.last(), Some(&port.to_string()));
    let artifacts: Vec<&Artifact> = records
        .iter()
        .filter_map(|r| match r {
            Record::Artifact(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(artifacts.len(), 2);
    assert!(artifacts.iter().all(|a| Path::new(&a.path).is_file()));
    assert!(records.iter().any(|r| matches!(
        r,
        Record::Event(Event {
            kind: EventKind::ServiceReady { .. },
            ..
        })
    )));

    let info = service.stop().await.unwrap();
    assert_eq!(info.signal, Some(Signal::SIGTERM as i32));
    assert_eq!(h.exits(), vec![(None, Some(15), true)]);
    assert!(!alive(pid));
    // The server logged our probe's GET to its stderr.
    let log = std::fs::read_to_string(h.ctx.log_dir.join(STDERR_LOG)).unwrap();
    assert!(log.contains("GET / HTTP/1.1"), "{log}");
}

#[tokio::test]
async fn tcp_probe_waits_for_a_slow_listener() {
    let mut h = harness();
    // The server only starts listening after a pause; the probe must keep trying.
    let plan = shell(
        "sleep 0.3; exec python3 -m http.server --bind 127.0.0.1 {port}",
        tcp_ready("127.0.0.1:{port}"),
    );
    let mut service = start(&plan, &h.ctx).await.unwrap();
    let after = h.events().into_iter().find_map(|k| match k {
        EventKind::ServiceReady { after } => Some(after),
        _ => None,
    });
    assert!(after.unwrap() >= Duration::from_millis(300), "{after:?}");
    std::net::TcpStream::connect(("127.0.0.1", service.port())).unwrap();
    service.stop().await.unwrap();
}

/// Starting `sh -c script` fails as [`ServiceError::ExitedBeforeReady`]: its exit
/// code, stderr tail and message.
async fn exited_before_ready(script: &str, ready: ReadyKind) -> (Option<i32>, String, String) {
    let h = harness();
    let err = start(&shell(script, ready), &h.ctx).await.unwrap_err();
    let ServiceError::ExitedBeforeReady {
        code, stderr_tail, ..
    } = &err
    else {
        panic!("expected ExitedBeforeReady, got {err}");
    };
    (*code, stderr_tail.clone(), err.to_string())
}

#[tokio::test]
async fn command_exiting_at_once_reports_its_stderr() {
    let (code, stderr_tail, message) = exited_before_ready(
        "echo line-one >&2; echo boom-on-stderr >&2; exit 7",
        http_ready("http://127.0.0.1:{port}/health"),
    )
    .await;
    assert_eq!(code, Some(7));
    assert_eq!(stderr_tail, "line-one\nboom-on-stderr");
    assert!(
        message.contains("service exited with status 7 before it was ready"),
        "{message}"
    );
    assert!(message.contains("boom-on-stderr"), "{message}");
}

#[tokio::test]
async fn stderr_tail_keeps_only_the_last_lines() {
    let (_, stderr_tail, _) = exited_before_ready(
        "i=0; while [ $i -lt 50 ]; do echo line-$i >&2; i=$((i+1)); done; exit 1",
        http_ready("http://127.0.0.1:{port}/"),
    )
    .await;
    let lines: Vec<&str> = stderr_tail.lines().collect();
    assert_eq!(lines.len(), TAIL_LINES);
    assert_eq!(lines.first(), Some(&"line-30"));
    assert_eq!(lines.last(), Some(&"line-49"));
}

#[tokio::test]
async fn not_ready_in_time_kills_the_process() {
    let mut h = harness();
    let mut plan = plan(&["sleep", "300"], tcp_ready("127.0.0.1:{port}"));
    plan.ready.timeout = Duration::from_millis(500);
    let began = Instant::now();
    let err = start(&plan, &h.ctx).await.unwrap_err();
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "{:?}",
        began.elapsed()
    );
    let message = err.to_string();
    assert!(matches!(err, ServiceError::NotReady { .. }), "{message}");
    assert!(message.contains("ready.timeout"), "{message}");
    assert!(message.contains("TCP connect to 127.0.0.1:"), "{message}");

    let events = h.events();
    let pid = events.iter().find_map(|k| match k {
        EventKind::ServiceStarted { pid, .. } => Some(*pid),
        _ => None,
    });
    let pid = pid.unwrap();
    assert!(!alive(pid));
    assert!(group_members(pid).is_empty());
    let exits: Vec<_> = events
        .iter()
        .filter(|k| matches!(k, EventKind::ServiceExited { .. }))
        .collect();
    assert_eq!(exits.len(), 1, "{exits:?}");
}

#[tokio::test]
async fn stop_sends_the_signal_and_respects_a_cooperative_service() {
    let mut h = harness();
    let (_listener, ready) = side_listener();
    let mut service = start(&plan(&["sleep", "300"], ready), &h.ctx)
        .await
        .unwrap();
    let began = Instant::now();
    let info = service.stop().await.unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(
        info,
        ExitInfo {
            code: None,
            signal: Some(15)
        }
    );
    // Idempotent: the same answer, and no second event.
    assert_eq!(service.stop().await.unwrap(), info);
    assert_eq!(h.exits(), vec![(None, Some(15), true)]);
    assert_eq!(*service.exited().borrow(), Some(info));
}

#[tokio::test]
async fn a_service_ignoring_sigterm_is_killed_after_the_grace() {
    let mut h = harness();
    let (_listener, ready) = side_listener();
    let mut plan = shell(
        "trap '' TERM; echo trapped; while true; do sleep 0.1; done",
        ready,
    );
    plan.stop.grace = Duration::from_millis(600);
    let mut service = start(&plan, &h.ctx).await.unwrap();
    let stdout = h.ctx.log_dir.join(STDOUT_LOG);
    eventually("the trap to be set", || {
        std::fs::read_to_string(&stdout).is_ok_and(|s| s.contains("trapped"))
    })
    .await;
    let pid = service.pid();
    let began = Instant::now();
    let info = service.stop().await.unwrap();
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(550), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(info.signal, Some(9));
    assert!(!alive(pid));
    // The shell's `sleep` child gets the group's SIGKILL too, but on a loaded machine
    // it can take a moment to die after the shell's exit has been seen.
    eventually("the group to be empty", || group_members(pid).is_empty()).await;
    assert_eq!(h.exits(), vec![(None, Some(9), true)]);
}

#[tokio::test]
async fn stop_kills_grandchildren_of_the_group() {
    let h = harness();
    let (_listener, ready) = side_listener();
    let plan = shell("sleep 300 & sleep 300", ready);
    let mut service = start(&plan, &h.ctx).await.unwrap();
    let pgid = service.pid();
    eventually("sh and both sleeps", || group_members(pgid).len() >= 3).await;
    let members = group_members(pgid);
    service.stop().await.unwrap();
    eventually("the group to be empty", || group_members(pgid).is_empty()).await;
    assert!(members.iter().all(|&p| !alive(p as u32)), "{members:?}");
}

#[tokio::test]
async fn unexpected_exit_is_reported_once_as_unexpected() {
    let mut h = harness();
    let (_listener, ready) = side_listener();
    let plan = shell("sleep 0.3; exit 3", ready);
    let mut service = start(&plan, &h.ctx).await.unwrap();
    let mut exited = service.exited();
    let info = tokio::time::timeout(Duration::from_secs(5), exited.wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        info,
        ExitInfo {
            code: Some(3),
            signal: None
        }
    );
    assert_eq!(h.exits(), vec![(Some(3), None, false)]);
    // Stopping afterwards returns the same exit and reports nothing more.
    assert_eq!(service.stop().await.unwrap(), info);
    assert!(h.exits().is_empty());
}

#[tokio::test]
async fn dropping_the_service_kills_its_group() {
    let h = harness();
    let (_listener, ready) = side_listener();
    let service = start(&shell("sleep 300 & sleep 300", ready), &h.ctx)
        .await
        .unwrap();
    let pgid = service.pid();
    eventually("sh and both sleeps", || group_members(pgid).len() >= 3).await;
    drop(service);
    eventually("the group to be empty", || group_members(pgid).is_empty()).await;
}

#[tokio::test]
async fn missing_program_names_it_and_the_working_directory() {
    let h = harness();
    let (_listener, ready) = side_listener();
    let err = start(&plan(&["./no-such-program", "x"], ready), &h.ctx)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ServiceError::Spawn { .. }), "{message}");
    assert!(message.contains("./no-such-program"), "{message}");
    assert!(
        message.contains(&h.dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("hint"), "{message}");
}

#[tokio::test]
async fn env_cwd_and_relative_program_are_rendered() {
    let h = harness();
    let work = h.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // A symlink, not a written script: exec of a file just written can fail with
    // ETXTBSY while parallel tests fork.
    std::os::unix::fs::symlink("/bin/sh", work.join("my-sh")).unwrap();
    let (_listener, ready) = side_listener();
    let script = "echo \"$GONOGO_TEST_PORT $(pwd) $0\"; exec sleep 300";
    let mut plan = plan(&["./my-sh", "-c", script, "arg-{port}"], ready);
    plan.cwd = Some(work.clone());
    plan.port = PortChoice::Fixed(4321);
    plan.env = vec![("GONOGO_TEST_PORT".into(), template("p{port}"))];
    let mut service = start(&plan, &h.ctx).await.unwrap();
    assert_eq!(service.port(), 4321);
    let stdout = h.ctx.log_dir.join(STDOUT_LOG);
    eventually("the script's output", || {
        std::fs::read_to_string(&stdout).is_ok_and(|s| s.contains('\n'))
    })
    .await;
    let text = std::fs::read_to_string(&stdout).unwrap();
    assert_eq!(text.trim(), format!("p4321 {} arg-4321", work.display()));
    service.stop().await.unwrap();
}

#[tokio::test]
async fn logs_are_appended_across_starts() {
    let h = harness();
    let (_listener, ready) = side_listener();
    for word in ["first", "second"] {
        let plan = shell(&format!("echo {word}; exec sleep 300"), ready.clone());
        let mut service = start(&plan, &h.ctx).await.unwrap();
        let stdout = h.ctx.log_dir.join(STDOUT_LOG);
        eventually("the echo", || {
            std::fs::read_to_string(&stdout).is_ok_and(|s| s.contains(word))
        })
        .await;
        service.stop().await.unwrap();
    }
    let text = std::fs::read_to_string(h.ctx.log_dir.join(STDOUT_LOG)).unwrap();
    assert_eq!(text, "first\nsecond\n");
}

#[test]
fn invalid_stop_signal_is_rejected_before_spawning() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut h = harness();
    let (_listener, ready) = side_listener();
    let mut plan = plan(&["sleep", "300"], ready);
    plan.stop.signal = 4242;
    let err = runtime.block_on(start(&plan, &h.ctx)).unwrap_err();
    assert!(
        matches!(err, ServiceError::BadSignal { signal: 4242 }),
        "{err}"
    );
    assert!(h.events().is_empty());
}

#[test]
fn exit_info_describes_code_and_signal() {
    let code = ExitInfo {
        code: Some(2),
        signal: None,
    };
    let signal = ExitInfo {
        code: None,
        signal: Some(9),
    };
    assert_eq!(code.to_string(), "exit code 2");
    assert_eq!(signal.to_string(), "killed by signal 9 (SIGKILL)");
}

#[test]
fn free_ports_are_bindable() {
    let port = pick_free_port().unwrap();
    assert_ne!(port, 0);
    TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[test]
fn service_dies_with_the_thread_that_spawned_it() {
    let (listener, ready) = side_listener();
    let h = harness();
    let ctx = h.ctx.clone();
    let pid = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let service = runtime
            .block_on(start(&plan(&["sleep", "300"], ready), &ctx))
            .unwrap();
        let pid = service.pid();
        // Neither Drop nor kill_on_drop may run: only the parent-death signal is left.
        std::mem::forget(service);
        std::mem::forget(runtime);
        pid
    })
    .join()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "pid {pid} outlived its spawning thread"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(listener);
}

#[tokio::test]
async fn kill_is_an_expected_exit_and_pause_freezes_the_group_until_resumed() {
    let mut h = harness();
    let (_listener, ready) = side_listener();
    let mut service = start(&shell("sleep 300 & sleep 300", ready), &h.ctx)
        .await
        .unwrap();
    let pgid = service.pid();
    eventually("both sleeps started", || group_members(pgid).len() >= 3).await;

    service.pause().unwrap();
    let stopped = |pid: &i32| {
        procfs::process::Process::new(*pid)
            .and_then(|p| p.stat())
            .is_ok_and(|s| s.state == 'T')
    };
    eventually("every member stopped", || {
        group_members(pgid).iter().all(stopped)
    })
    .await;
    service.resume().unwrap();
    eventually("every member running again", || {
        !group_members(pgid).iter().any(stopped)
    })
    .await;

    let info = service.kill().await.unwrap();
    assert_eq!(info.signal, Some(Signal::SIGKILL as i32));
    eventually("the group is gone", || group_members(pgid).is_empty()).await;
    assert_eq!(
        h.exits(),
        vec![(None, Some(Signal::SIGKILL as i32), true)],
        "one exit, reported as caused by gonogo"
    );
}

#[tokio::test]
async fn a_paused_service_still_stops_gracefully() {
    let h = harness();
    let (_listener, ready) = side_listener();
    let mut service = start(&plan(&["sleep", "300"], ready), &h.ctx)
        .await
        .unwrap();
    service.pause().unwrap();
    let started = Instant::now();
    let info = service.stop().await.unwrap();
    assert_eq!(info.signal, Some(Signal::SIGTERM as i32), "{info:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "no wait for the grace"
    );
}

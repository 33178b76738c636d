//! A starved load generator is never reported as the service's limit (issue 25).
//!
//! gonogo's own process is starved of CPU three ways while the service (the testbed,
//! one worker thread, pinned to the other core) has CPU to spare: four busy loops at nice -10 pinned
//! on gonogo's core, cgroup CPU throttling (v1 `cpu.cfs_quota_us` at 10%, v2
//! `cpu.max`), and a SIGSTOP/SIGCONT duty cycle (stopped 50 ms of every 100 ms).
//! Each steady campaign must come out INCONCLUSIVE naming the starvation, never
//! NO-GO, and a ramp must give no capacity at a starved step. The same campaigns
//! unstarved keep their verdicts, and a really slow service is still NO-GO: the
//! meter does not excuse the service.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::spec::{Spec, criterion, get, service, steady};
use crate::support::{Campaign, assert_exit, describe, finding, processes_matching, testbed};
use gonogo::exit;
use gonogo::model::{Outcome, RunEvidence};

/// The words every starved finding must carry.
const STARVED: &str = "CPU starvation of the load generator, not the service";

/// The testbed, one worker thread, pinned to CPU 1 (gonogo runs on CPU 0 where
/// starved by a neighbour); `args` are added.
fn pinned_testbed(args: &[&str]) -> String {
    let mut command = vec![
        "taskset".to_string(),
        "-c".to_string(),
        "1".to_string(),
        testbed().display().to_string(),
        "--listen".to_string(),
        "127.0.0.1:{port}".to_string(),
        "--threads".to_string(),
        "1".to_string(),
    ];
    command.extend(args.iter().map(|a| a.to_string()));
    service(
        &command,
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }",
        "SIGTERM",
        "3s",
    )
    .to_string()
}

/// The starved campaigns' rate: enough that gonogo (a debug build) needs more than
/// the 10% CPU quota of the throttled cgroup.
const RATE: u32 = 3000;

/// A steady phase of `rate` requests/s over at most `max_connections` for 4 s after a
/// 1 s warm-up, judged on its latency p99 (<= 50 ms: the idle testbed answers in well
/// under 1 ms). Few connections is the case the send-delay self-check misses: after
/// each stall every connection is in flight, the requests due meanwhile wait for a
/// free one, and the stall shows as response time (NO-GO without the meter).
fn steady_campaign(testbed_args: &[&str], rate: u32, max_connections: u32) -> Campaign {
    let body = Spec::new()
        .with(get("2s"))
        .with(
            steady("steady", rate, "4s")
                .set("max_connections", max_connections)
                .set("warmup", "1s"),
        )
        .with(criterion("steady", "latency.p99", "<=", "50ms"));
    Campaign::with_service(&pinned_testbed(testbed_args), &body.to_string())
}

/// How gonogo's process is starved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Starver {
    None,
    /// Four busy loops pinned on gonogo's core, at nice -10.
    Busy,
    /// gonogo's cgroup allowed 10 ms of CPU every 100 ms.
    Throttle,
    /// SIGSTOP for 50 ms of every 100 ms, from `after` on.
    StopCont {
        after: Duration,
    },
}

/// `gonogo run campaign.toml --quiet`, starved by `starver` (pinned to CPU 0 then).
fn run_starved(campaign: &Campaign, starver: Starver) -> Output {
    // One campaign at a time: two of them pinned on one core starve each other.
    let _serial = crate::support::serial();
    let mut busy: Vec<Child> = Vec::new();
    if starver == Starver::Busy {
        for _ in 0..4 {
            busy.push(
                // At a higher priority than gonogo's (nice -10, as root): a neighbour
                // that takes the core whenever it wants, as a busy service unpinned
                // or a CI job of higher priority would.
                Command::new("nice")
                    .args([
                        "-n",
                        "-10",
                        "taskset",
                        "-c",
                        "0",
                        "sh",
                        "-c",
                        "while :; do :; done",
                    ])
                    .spawn()
                    .expect("nice, taskset and sh"),
            );
        }
    }
    let cgroup = (starver == Starver::Throttle).then(Throttle::create);
    // Starved, gonogo is pinned to CPU 0 (where the busy loops run); unstarved, it may
    // use every core, so that the other tests of the suite running beside it do not
    // starve the control (they would, and the meter would rightly say so).
    let mut command = if starver == Starver::None {
        Command::new(env!("CARGO_BIN_EXE_gonogo"))
    } else {
        let mut taskset = Command::new("taskset");
        taskset.args(["-c", "0", env!("CARGO_BIN_EXE_gonogo")]);
        taskset
    };
    let child = command
        .args(["run", "campaign.toml", "--quiet"])
        .current_dir(campaign.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("taskset and gonogo");
    // taskset execs gonogo: the child's pid is gonogo's either way.
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let stopper = match starver {
        Starver::StopCont { after } => {
            let done = Arc::clone(&done);
            Some(std::thread::spawn(move || stop_cont(pid, after, &done)))
        }
        _ => None,
    };
    if let Some(cgroup) = &cgroup {
        // Only gonogo: the guard and the service it starts stay outside.
        wait_for_guard(campaign);
        cgroup.enter(pid);
    }
    let output = child.wait_with_output().expect("gonogo ran");
    done.store(true, Ordering::Relaxed);
    if let Some(stopper) = stopper {
        stopper.join().expect("the stopper thread");
    }
    for mut process in busy {
        let _ = process.kill();
        let _ = process.wait();
    }
    drop(cgroup);
    output
}

/// Stop and continue `pid` (50 ms each) from `after` until `done`; ends continued.
fn stop_cont(pid: u32, after: Duration, done: &AtomicBool) {
    use nix::sys::signal::{Signal, kill};
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid"));
    let start = Instant::now();
    while !done.load(Ordering::Relaxed) && start.elapsed() < after {
        std::thread::sleep(Duration::from_millis(10));
    }
    while !done.load(Ordering::Relaxed) {
        if kill(pid, Signal::SIGSTOP).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
        let _ = kill(pid, Signal::SIGCONT);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait (at most 10 s) until gonogo has started its guard (the service's parent).
fn wait_for_guard(campaign: &Campaign) {
    let dir = campaign.dir.path().display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let guards = processes_matching("__guard");
        let ours = guards.iter().any(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&dir))
        });
        if ours {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("gonogo started no guard within 10 s");
}

/// A child cgroup that allows 10 ms of CPU every 100 ms, removed when dropped.
struct Throttle {
    dir: PathBuf,
    /// Where its processes go back to (the parent's `cgroup.procs`).
    parent_procs: PathBuf,
}

impl Throttle {
    /// The cgroup under v1's `cpu` controller (`cpu.cfs_quota_us`) or v2 (`cpu.max`);
    /// the test fails saying what it needs when neither can be made.
    fn create() -> Throttle {
        let name = format!("gonogo-test-{}", std::process::id());
        let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
        if v1.join("cpu.cfs_quota_us").exists() {
            let dir = v1.join(&name);
            let made = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join("cpu.cfs_period_us"), "100000"))
                .and_then(|()| std::fs::write(dir.join("cpu.cfs_quota_us"), "10000"));
            if let Err(e) = made {
                panic!(
                    "cannot make a throttled cgroup at {}: {e}; this test needs the cgroup v1 \
                     `cpu` controller writable (run as root) or cgroup v2 with `cpu.max`",
                    dir.display()
                );
            }
            return Throttle {
                dir,
                parent_procs: v1.join("cgroup.procs"),
            };
        }
        let v2 = PathBuf::from("/sys/fs/cgroup");
        let dir = v2.join(&name);
        let made = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("cpu.max"), "10000 100000"));
        if let Err(e) = made {
            panic!(
                "cannot make a throttled cgroup at {}: {e}; this test needs the cgroup v1 `cpu` \
                 controller writable (run as root) or cgroup v2 with the cpu controller \
                 enabled in /sys/fs/cgroup/cgroup.subtree_control",
                dir.display()
            );
        }
        Throttle {
            dir,
            parent_procs: v2.join("cgroup.procs"),
        }
    }

    fn enter(&self, pid: u32) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
            .unwrap_or_else(|e| panic!("cannot move gonogo into {}: {e}", self.dir.display()));
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        // Anything left goes back to the parent, then the cgroup is removed.
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(&self.parent_procs, pid);
            }
        }
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The service's CPU use over the run (cores), from its own /proc samples.
fn service_cores(evidence: &RunEvidence) -> f64 {
    let (Some(first), Some(last)) = (evidence.samples.first(), evidence.samples.last()) else {
        return 0.0;
    };
    let time = (last.at - first.at).as_secs_f64();
    if time <= 0.0 {
        return 0.0;
    }
    (last.cpu_seconds - first.cpu_seconds) / time
}

/// Per measured interval: the meter's p99 and the scheduling evidence, for messages.
fn health_lines(evidence: &RunEvidence) -> String {
    evidence
        .intervals
        .iter()
        .map(|i| match &i.health {
            Some(h) => format!(
                "{}#{} hiccup p99 {} µs max {} µs, {:?}\n",
                i.phase,
                i.index,
                h.hiccup_at(0.99).unwrap_or(0),
                h.hiccup.max(),
                h.sched
            ),
            None => format!("{}#{} no health\n", i.phase, i.index),
        })
        .collect()
}

/// A starved steady campaign: INCONCLUSIVE naming the starvation, never NO-GO,
/// while the service was idle by its own /proc samples.
fn starved_steady_is_inconclusive(starver: Starver) {
    let campaign = steady_campaign(&[], RATE, 4);
    let output = run_starved(&campaign, starver);
    let evidence = campaign.evidence(1);
    let health = health_lines(&evidence);
    if std::env::var_os("GONOGO_TEST_SHOW").is_some() {
        eprintln!("{starver:?}\n{health}{}", describe(&output));
    }
    assert_exit(&output, exit::INCONCLUSIVE);
    let findings = campaign.findings();
    let latency = finding(&findings, "latency.p99");
    assert_eq!(
        latency.outcome,
        Outcome::Inconclusive,
        "{}\n{health}",
        latency.explanation
    );
    assert!(
        latency.explanation.contains(STARVED) && latency.explanation.contains("not running for"),
        "the cause is named: {}\n{health}",
        latency.explanation
    );
    let cores = service_cores(&evidence);
    assert!(
        cores < 0.5,
        "the service had CPU to spare: it used {cores:.2} cores\n{}",
        describe(&output)
    );
}

pub fn a_busy_neighbour_on_gonogos_core_is_inconclusive_not_no_go() {
    starved_steady_is_inconclusive(Starver::Busy);
}

pub fn cgroup_throttling_of_gonogo_is_inconclusive_not_no_go() {
    starved_steady_is_inconclusive(Starver::Throttle);
}

pub fn a_stopped_gonogo_is_inconclusive_not_no_go() {
    starved_steady_is_inconclusive(Starver::StopCont {
        after: Duration::ZERO,
    });
}

pub fn the_same_campaign_unstarved_is_go() {
    let campaign = steady_campaign(&[], RATE, 4);
    let output = run_starved(&campaign, Starver::None);
    let evidence = campaign.evidence(1);
    assert_exit(&output, exit::GO);
    assert!(
        evidence.intervals.iter().all(|i| i.health.is_some()),
        "every load interval carries the generator's health\n{}",
        health_lines(&evidence)
    );
}

pub fn a_slow_service_is_still_no_go_when_gonogo_has_cpu_to_spare() {
    // Every answer takes 80-100 ms: p99 above the 50 ms bound, the service's doing
    // (with connections enough for every request in flight: 1,000/s × 100 ms).
    let campaign = steady_campaign(&["--latency", "uniform:80ms:100ms"], 1000, 256);
    let output = run_starved(&campaign, Starver::None);
    let evidence = campaign.evidence(1);
    assert_exit(&output, exit::NO_GO);
    let findings = campaign.findings();
    let latency = finding(&findings, "latency.p99");
    assert_eq!(
        latency.outcome,
        Outcome::Fail,
        "{}\n{}",
        latency.explanation,
        health_lines(&evidence)
    );
}

const RAMP: &str = r#"
[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404], timeout = "2s" }

[[phase]]
name = "ramp"
kind = "ramp"
start_rate = 500
step = 500
max_rate = 2000
max_connections = 4
duration = "2s"
warmup = "500ms"
drain = "1s"
stop_when = { error_rate = "1%", shortfall = "5%", latency_p99 = "50ms" }

[[criterion]]
phase = "ramp"
metric = "capacity.last_good_rate"
op = ">="
value = 500
"#;

pub fn a_ramp_gives_no_capacity_at_a_starved_step() {
    // Starved from the second step on (each step is 2.5 s; the service starts in
    // well under a second): the first step is good, the second is gonogo's.
    let campaign = Campaign::with_service(&pinned_testbed(&[]), RAMP);
    let output = run_starved(
        &campaign,
        Starver::StopCont {
            after: Duration::from_millis(3500),
        },
    );
    let evidence = campaign.evidence(1);
    assert_exit(&output, exit::INCONCLUSIVE);
    let findings = campaign.findings();
    let capacity = finding(&findings, "capacity.last_good_rate");
    assert_eq!(capacity.outcome, Outcome::Inconclusive);
    assert_eq!(capacity.observed, None, "never a capacity figure");
    assert!(
        capacity.explanation.contains(STARVED),
        "{}\n{}",
        capacity.explanation,
        health_lines(&evidence)
    );
}

pub fn the_same_ramp_unstarved_reaches_its_top() {
    let campaign = Campaign::with_service(&pinned_testbed(&[]), RAMP);
    let output = run_starved(&campaign, Starver::None);
    assert_exit(&output, exit::GO);
    let findings = campaign.findings();
    let capacity = finding(&findings, "capacity.last_good_rate");
    assert_eq!(capacity.observed, Some(2000.0), "{}", capacity.explanation);
}

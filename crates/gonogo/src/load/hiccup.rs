//! The generator's own health during a load phase: a hiccup meter (the jHiccup
//! idea) and the kernel's account of gonogo's scheduling, per evidence interval.
//!
//! Owns: the meter thread, which sleeps [`METER_SLEEP`] again and again and records
//! how late it woke into an HDR histogram of µs (a stall of the whole process, by a
//! busy neighbour on its core, cgroup throttling, steal or SIGSTOP, shows there
//! whatever the load is doing), and the reading of `/proc/self/task/*/schedstat`
//! (CPU and run-queue wait of gonogo's threads), the `cpu.stat` of gonogo's cgroup
//! (v1 `cpu` controller or v2; throttled periods and time) and the steal time of
//! `/proc/stat`, as deltas over each interval. A figure that cannot be read is
//! `None`, never 0. Turned off with `GONOGO_HICCUP=off` (for measuring its cost).
//! Does not own: judging the figures (`evaluate`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::model::{GeneratorHealth, SchedEvidence, new_histogram};

/// The meter's fixed sleep: short enough that a stall of a few milliseconds is
/// seen, long enough that the meter costs little CPU (see `bench/results/12-hiccup.md`).
pub const METER_SLEEP: Duration = Duration::from_millis(1);

/// Lateness up to this is the timer's own (slack, wake-up latency: tens of µs on
/// each wake, which would add up to several percent of the time); only what is beyond
/// it counts toward the time gonogo was stalled (`SchedEvidence::hiccup_total_us`).
pub const STALL_GRACE: Duration = Duration::from_millis(1);

/// The environment variable that sets the meter's sleep in whole milliseconds
/// (1 to 100) instead of [`METER_SLEEP`], for measuring its cost.
pub const METER_SLEEP_SWITCH: &str = "GONOGO_HICCUP_SLEEP_MS";

/// The meter's sleep: [`METER_SLEEP`] unless [`METER_SLEEP_SWITCH`] sets another.
pub fn meter_sleep() -> Duration {
    std::env::var(METER_SLEEP_SWITCH)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| (1..=100).contains(ms))
        .map_or(METER_SLEEP, Duration::from_millis)
}

/// The environment variable that turns the meter (and the scheduling evidence) off
/// when set to `off`, `0` or `false`.
pub const METER_SWITCH: &str = "GONOGO_HICCUP";

/// What the meter recorded since the last interval was taken.
#[derive(Debug)]
struct Window {
    hiccup: Histogram<u64>,
    total_us: u64,
}

/// The running hiccup meter and the scheduling reader of one load phase. Dropping
/// it stops the meter thread.
#[derive(Debug)]
pub(crate) struct HealthMeter {
    window: Arc<Mutex<Window>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    sched: SchedReader,
    /// When the last interval was taken (or the meter started).
    last_take: Instant,
}

/// Whether the meter is on (it is unless [`METER_SWITCH`] turns it off).
pub fn meter_enabled() -> bool {
    !matches!(
        std::env::var(METER_SWITCH).as_deref().map(str::trim),
        Ok("off" | "0" | "false")
    )
}

impl HealthMeter {
    /// Start the meter thread; `None` when it is turned off or no thread could be
    /// started (the intervals then carry no health, and say so).
    pub fn start() -> Option<HealthMeter> {
        if !meter_enabled() {
            return None;
        }
        let window = Arc::new(Mutex::new(Window {
            hiccup: new_histogram(),
            total_us: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped) = (Arc::clone(&window), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("gonogo-hiccup".into())
            .spawn(move || meter(&shared, &stopped))
            .ok()?;
        Some(HealthMeter {
            window,
            stop,
            thread: Some(thread),
            sched: SchedReader::new(),
            last_take: Instant::now(),
        })
    }

    /// The health of the interval that ends now: the meter's lateness since the
    /// last call, and the scheduling deltas since then.
    pub fn take(&mut self) -> GeneratorHealth {
        let (hiccup, total_us) = {
            let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            let hiccup = std::mem::replace(&mut window.hiccup, new_histogram());
            (hiccup, std::mem::take(&mut window.total_us))
        };
        let mut sched = self.sched.delta();
        sched.hiccup_total_us = total_us;
        let now = Instant::now();
        let covered = now.saturating_duration_since(self.last_take).as_micros();
        sched.covered_us = u64::try_from(covered).unwrap_or(u64::MAX);
        self.last_take = now;
        GeneratorHealth {
            hiccup: hiccup.into(),
            sched,
        }
    }
}

impl Drop for HealthMeter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The meter thread: sleep, measure how late the wake-up was, record it.
fn meter(window: &Mutex<Window>, stop: &AtomicBool) {
    let sleep = meter_sleep();
    while !stop.load(Ordering::Relaxed) {
        let before = Instant::now();
        std::thread::sleep(sleep);
        let late = before.elapsed().saturating_sub(sleep);
        let micros = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        let mut window = window.lock().unwrap_or_else(PoisonError::into_inner);
        // An auto-resizing histogram takes any value; a failure would lose one wake.
        let _ = window.hiccup.record(micros);
        let stalled = late.saturating_sub(STALL_GRACE).as_micros();
        window.total_us = window
            .total_us
            .saturating_add(u64::try_from(stalled).unwrap_or(u64::MAX));
    }
}

/// Cumulative counters of gonogo's cgroup.
#[derive(Debug, Clone, PartialEq)]
struct CgroupCounters {
    path: String,
    periods: u64,
    throttled_us: u64,
}

/// Reads the kernel's cumulative scheduling counters and turns them into deltas.
#[derive(Debug)]
struct SchedReader {
    /// Per thread: (run ns, run-queue wait ns, times run) at the last reading.
    threads: HashMap<u32, (u64, u64, u64)>,
    cgroup: Option<CgroupCounters>,
    steal_ticks: Option<u64>,
}

impl SchedReader {
    fn new() -> SchedReader {
        let mut reader = SchedReader {
            threads: HashMap::new(),
            cgroup: None,
            steal_ticks: None,
        };
        let _ = reader.delta();
        reader
    }

    /// The deltas since the last reading (the first one counts from zero).
    fn delta(&mut self) -> SchedEvidence {
        let mut evidence = SchedEvidence::default();
        if let Some(threads) = read_threads() {
            let (mut run, mut wait, mut slices) = (0_u64, 0_u64, 0_u64);
            for (tid, (r, w, n)) in &threads {
                let (r0, w0, n0) = self.threads.get(tid).copied().unwrap_or((0, 0, 0));
                run += r.saturating_sub(r0);
                wait += w.saturating_sub(w0);
                slices += n.saturating_sub(n0);
            }
            evidence.threads_cpu_us = Some(run / 1000);
            evidence.run_queue_wait_us = Some(wait / 1000);
            evidence.timeslices = Some(slices);
            self.threads = threads;
        }
        let cgroup = read_cgroup();
        if let Some(now) = &cgroup {
            // Moved to another cgroup: its counters are taken from zero at the move.
            let before = self.cgroup.as_ref().filter(|b| b.path == now.path);
            let (periods, throttled) = before.map_or((0, 0), |b| (b.periods, b.throttled_us));
            evidence.throttled_periods = Some(now.periods.saturating_sub(periods));
            evidence.throttled_us = Some(now.throttled_us.saturating_sub(throttled));
        }
        self.cgroup = cgroup;
        let steal = read_steal_ticks();
        if let (Some(now), Some(before)) = (steal, self.steal_ticks) {
            evidence.steal_us = Some(ticks_to_micros(now.saturating_sub(before)));
        }
        self.steal_ticks = steal;
        evidence
    }
}

/// Per thread of this process: (ns on a CPU, ns waiting on a run queue, times run).
fn read_threads() -> Option<HashMap<u32, (u64, u64, u64)>> {
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(entry) = entry else { continue };
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A thread that ended since the listing has nothing left to count.
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        if let Some(figures) = parse_schedstat(&text) {
            threads.insert(tid, figures);
        }
    }
    (!threads.is_empty()).then_some(threads)
}

/// `run_ns wait_ns timeslices` → (run, wait, timeslices).
fn parse_schedstat(text: &str) -> Option<(u64, u64, u64)> {
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    Some((
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ))
}

/// The `cpu.stat` of this process's cgroup, v1 `cpu` controller first, then v2.
fn read_cgroup() -> Option<CgroupCounters> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cpu_stat_paths(&membership).into_iter().find_map(|path| {
        let text = std::fs::read_to_string(&path).ok()?;
        let (periods, throttled_us) = parse_cpu_stat(&text)?;
        Some(CgroupCounters {
            path,
            periods,
            throttled_us,
        })
    })
}

/// Where the `cpu.stat` of the cgroups in `/proc/self/cgroup` may be, in order.
fn cpu_stat_paths(membership: &str) -> Vec<String> {
    let mut v1 = Vec::new();
    let mut v2 = Vec::new();
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(hierarchy), Some(controllers), Some(path)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_end_matches('/');
        if controllers.split(',').any(|c| c == "cpu") {
            v1.push(format!("/sys/fs/cgroup/{controllers}{path}/cpu.stat"));
            v1.push(format!("/sys/fs/cgroup/cpu{path}/cpu.stat"));
        } else if hierarchy == "0" && controllers.is_empty() {
            v2.push(format!("/sys/fs/cgroup{path}/cpu.stat"));
        }
    }
    v1.extend(v2);
    v1.dedup();
    v1
}

/// (`nr_throttled`, throttled µs) of a `cpu.stat`: `throttled_time` (ns, v1) or
/// `throttled_usec` (v2).
fn parse_cpu_stat(text: &str) -> Option<(u64, u64)> {
    let mut periods = None;
    let mut throttled = None;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(key), Some(value)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(value) = value.parse::<u64>() else {
            continue;
        };
        match key {
            "nr_throttled" => periods = Some(value),
            "throttled_time" => throttled = Some(value / 1000),
            "throttled_usec" => throttled = Some(value),
            _ => {}
        }
    }
    Some((periods?, throttled?))
}

/// The host's steal time over all CPUs (the 8th figure of `/proc/stat`'s `cpu`), ticks.
fn read_steal_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_steal(&text)
}

fn parse_steal(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    line.split_whitespace().nth(8)?.parse().ok()
}

/// `/proc/stat` counts in USER_HZ ticks, which the kernel fixes at 100 per second
/// for user space whatever its own tick rate.
const USER_HZ: u64 = 100;

fn ticks_to_micros(ticks: u64) -> u64 {
    ticks.saturating_mul(1_000_000 / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_texts_are_read() {
        assert_eq!(parse_schedstat("1234 5678 9\n"), Some((1234, 5678, 9)));
        assert_eq!(parse_schedstat("garbage"), None);
        let v1 = "usage_usec 1\nnr_periods 10\nnr_throttled 3\nthrottled_time 4000000\n";
        assert_eq!(parse_cpu_stat(v1), Some((3, 4000)));
        let v2 = "usage_usec 1\nnr_periods 10\nnr_throttled 2\nthrottled_usec 70\n";
        assert_eq!(parse_cpu_stat(v2), Some((2, 70)));
        assert_eq!(parse_cpu_stat("usage_usec 1\n"), None, "unknown, not 0");
        let stat = "cpu  1 2 3 4 5 6 7 42 0 0\ncpu0 1 2 3 4 5 6 7 42 0 0\n";
        assert_eq!(parse_steal(stat), Some(42));
    }

    #[test]
    fn cgroup_paths_v1_before_v2() {
        let membership = "4:memory:/x\n1:cpu,cpuacct:/a/b\n0::/c\n";
        assert_eq!(
            cpu_stat_paths(membership),
            vec![
                "/sys/fs/cgroup/cpu,cpuacct/a/b/cpu.stat".to_string(),
                "/sys/fs/cgroup/cpu/a/b/cpu.stat".to_string(),
                "/sys/fs/cgroup/c/cpu.stat".to_string(),
            ]
        );
        assert_eq!(
            cpu_stat_paths("1:cpu:/\n"),
            vec!["/sys/fs/cgroup/cpu/cpu.stat".to_string()]
        );
    }

    #[test]
    fn the_meter_counts_its_wakes() {
        let Some(mut meter) = HealthMeter::start() else {
            return;
        };
        std::thread::sleep(Duration::from_millis(50));
        let health = meter.take();
        assert!(health.hiccup.len() > 5, "{} wakes", health.hiccup.len());
        assert!(
            health.sched.threads_cpu_us.is_some(),
            "schedstat readable here"
        );
    }
}

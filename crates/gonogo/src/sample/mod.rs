//! The resource sampler: reads the service's process tree from /proc at a fixed
//! period and sends [`ResourceSample`]s on the record stream.
//!
//! Owns: reading /proc (tree walk by parent links, RSS, CPU time, threads, open file
//! descriptors, host MemAvailable). Does not own: which pid is the service (the
//! supervisor publishes it), nor judging the numbers (that is `evaluate`).
//!
//! Processes come and go while the tree is walked; one that vanishes mid-walk is
//! skipped, never an error. CPU time is cumulative: each live process's own user +
//! system time plus the time of the children it has reaped (`cutime + cstime`), so
//! short-lived workers that already exited still count.

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test"
)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use procfs::Current;
use procfs::process::{Process, Stat};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::model::{Record, RecordSender, ResourceSample, RunClock};

/// Why /proc could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("could not list processes in /proc: {source} (hint: is /proc mounted?)")]
    ListProcesses {
        #[source]
        source: procfs::ProcError,
    },
    #[error("could not read /proc/meminfo: {source}")]
    Meminfo {
        #[source]
        source: procfs::ProcError,
    },
    #[error("/proc/meminfo has no MemAvailable line (hint: Linux 3.14 or later is needed)")]
    NoMemAvailable,
    #[error("could not read /proc/{pid}/stat: {source}")]
    ProcessStat {
        pid: u32,
        #[source]
        source: procfs::ProcError,
    },
}

/// Resource use of a process and all its descendants at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TreeSample {
    /// Live processes in the tree (0 when the root is gone).
    pub processes: u32,
    /// Sum of resident set sizes, bytes.
    pub rss_bytes: u64,
    /// Cumulative user + system CPU time, seconds (reaped children included).
    pub cpu_seconds: f64,
    /// Threads over all processes of the tree.
    pub threads: u64,
    /// Open file descriptors over all processes of the tree.
    pub open_fds: u64,
}

/// Read the tree rooted at `root` (the root and every descendant). A root that does
/// not exist gives `processes: 0`.
///
/// Descendants are found through each thread's `/proc/PID/task/TID/children`, which
/// reads only the tree's own processes; where the kernel lacks that file, by walking
/// the parent links of every process on the host (a cost that grows with the host's
/// process count, paid at every sample).
pub fn read_tree(root: u32) -> Result<TreeSample, SampleError> {
    let Ok(root) = i32::try_from(root) else {
        return Ok(TreeSample::default());
    };
    match read_tree_by_children(root) {
        Some(sample) => Ok(sample),
        None => read_tree_by_scan(root),
    }
}

/// The tree through the `children` files; `None` when the root's cannot be read
/// (the kernel has no such file, or the root just exited: the scan decides).
fn read_tree_by_children(root: i32) -> Option<TreeSample> {
    let page_size = procfs::page_size();
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let mut sample = TreeSample::default();
    let mut visited = std::collections::HashSet::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        if !visited.insert(pid) {
            continue;
        }
        let process = Process::new(pid).ok();
        let stat = process.as_ref().and_then(|p| p.stat().ok());
        let children = process.as_ref().and_then(|p| {
            let mut all = Vec::new();
            for task in p.tasks().ok()?.flatten() {
                all.extend(task.children().ok()?);
            }
            Some(all)
        });
        let (Some(stat), Some(children)) = (stat, children) else {
            if pid == root {
                return None;
            }
            // A descendant that exited between two reads is simply gone.
            continue;
        };
        pending.extend(children.into_iter().filter_map(|c| i32::try_from(c).ok()));
        add_process(&mut sample, &stat, page_size, ticks);
    }
    Some(sample)
}

/// The tree by walking the parent links of all processes.
fn read_tree_by_scan(root: i32) -> Result<TreeSample, SampleError> {
    let stats: Vec<Stat> = procfs::process::all_processes()
        .map_err(|source| SampleError::ListProcesses { source })?
        .filter_map(|process| process.ok()?.stat().ok())
        .collect();
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    let mut root_index = None;
    for (index, stat) in stats.iter().enumerate() {
        children.entry(stat.ppid).or_default().push(index);
        if stat.pid == root {
            root_index = Some(index);
        }
    }
    let Some(root_index) = root_index else {
        return Ok(TreeSample::default());
    };
    let page_size = procfs::page_size();
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let mut sample = TreeSample::default();
    // /proc is read process by process, not atomically: guard against a parent
    // link loop made of a reused pid by visiting each entry at most once.
    let mut visited = vec![false; stats.len()];
    let mut pending = vec![root_index];
    while let Some(index) = pending.pop() {
        if std::mem::replace(&mut visited[index], true) {
            continue;
        }
        let stat = &stats[index];
        if let Some(kids) = children.get(&stat.pid) {
            pending.extend(kids);
        }
        add_process(&mut sample, stat, page_size, ticks);
    }
    Ok(sample)
}

fn add_process(sample: &mut TreeSample, stat: &Stat, page_size: u64, ticks: f64) {
    let reaped = stat.cutime.max(0) + stat.cstime.max(0);
    let cpu_ticks = stat.utime + stat.stime + reaped.unsigned_abs();
    sample.processes += 1;
    sample.rss_bytes += stat.rss * page_size;
    sample.cpu_seconds += cpu_ticks as f64 / ticks;
    sample.threads += stat.num_threads.max(0).unsigned_abs();
    // A process that exited since its stat was read has no fds left to count.
    sample.open_fds += Process::new(stat.pid)
        .and_then(|p| p.fd_count())
        .map_or(0, |n| n as u64);
}

/// The host's available memory (MemAvailable), bytes.
pub fn host_available_bytes() -> Result<u64, SampleError> {
    procfs::Meminfo::current()
        .map_err(|source| SampleError::Meminfo { source })?
        .mem_available
        .ok_or(SampleError::NoMemAvailable)
}

/// User + system CPU time of one process (its own threads, not its children), seconds.
/// gonogo reads its own with `std::process::id()`.
pub fn process_cpu_seconds(pid: u32) -> Result<f64, SampleError> {
    let read = || Process::new(i32::try_from(pid).unwrap_or(-1))?.stat();
    let stat = read().map_err(|source| SampleError::ProcessStat { pid, source })?;
    let ticks = procfs::ticks_per_second().max(1) as f64;
    Ok((stat.utime + stat.stime) as f64 / ticks)
}

/// Sample the tree of the current root pid every `interval` until `cancel` fires.
///
/// While `root` holds `None` (service not running), samples say `processes: 0` and
/// still carry host memory. A tick whose /proc read fails sends nothing: a missing
/// sample is honest, a made-up one is not. Stops early if the record stream closes.
pub async fn run(
    root: watch::Receiver<Option<u32>>,
    interval: Duration,
    clock: RunClock,
    records: RecordSender,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let at = clock.elapsed();
        let pid = *root.borrow();
        let read = tokio::task::spawn_blocking(move || read_sample(pid)).await;
        let Ok(Ok((tree, host))) = read else {
            continue;
        };
        let sample = ResourceSample {
            at,
            processes: tree.processes,
            rss_bytes: tree.rss_bytes,
            cpu_seconds: tree.cpu_seconds,
            threads: tree.threads,
            open_fds: tree.open_fds,
            host_available_bytes: host,
        };
        if records.send(Record::Sample(sample)).is_err() {
            return;
        }
    }
}

fn read_sample(pid: Option<u32>) -> Result<(TreeSample, u64), SampleError> {
    let tree = match pid {
        Some(pid) => read_tree(pid)?,
        None => TreeSample::default(),
    };
    Ok((tree, host_available_bytes()?))
}

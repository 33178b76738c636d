//! Reaping of stale runs: a run left `running` by a process that no longer exists
//! (killed, crashed, power loss, a full disk) is an aborted run whose writer is gone.
//! A store opened for writing marks such runs `aborted` when it is opened (best
//! effort: a store that cannot be written keeps them as they are); a store opened
//! read-only, or one whose marking failed, shows them aborted all the same, computed
//! as they are read ([`seen_at_read`]), with the same end time the reaper writes.
//!
//! Owns: the liveness check and the end time given to a run whose writer is gone.
//! Does not own: the decision of what an aborted run means for a verdict (`evaluate`).
//!
//! Limitation: liveness is judged by pid alone, so a run whose pid was reused by an
//! unrelated live process stays `running` until that process is gone (a store copied
//! from another machine included).

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use rusqlite::{Connection, params};

use super::{StoreError, query_error};
use crate::model::{RunId, RunStatus};

/// The end (ms since the epoch) of the run `?1` whose writer is gone: its start plus
/// the largest offset recorded for it (interval end, sample, event, phase end),
/// rounded up to a whole millisecond; its start when it recorded nothing. A macro so
/// that the reaper's UPDATE and the reader's SELECT are one text.
macro_rules! end_of_run_sql {
    () => {
        "started_at_ms + (COALESCE((
             SELECT MAX(offset_us) FROM (
                 SELECT MAX(start_us + length_us) AS offset_us
                     FROM intervals WHERE run_id = ?1
                 UNION ALL SELECT MAX(at_us) FROM resource_samples WHERE run_id = ?1
                 UNION ALL SELECT MAX(at_us) FROM events WHERE run_id = ?1
                 UNION ALL SELECT MAX(COALESCE(ended_us, started_us))
                     FROM phases WHERE run_id = ?1)
         ), 0) + 999) / 1000"
    };
}

/// Mark every `running` run whose recording process is gone as `aborted`, ending at
/// its start plus the largest offset recorded for it (interval end, sample, event,
/// phase end). Returns the ids of the runs reaped.
pub fn reap_stale_runs(conn: &Connection, path: &str) -> Result<Vec<RunId>, StoreError> {
    let running: Vec<(RunId, i64)> = conn
        .prepare("SELECT id, pid FROM runs WHERE status = 'running'")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(query_error(path, "look for runs left running"))?;
    let mut reaped = Vec::new();
    for (run, pid) in running {
        if process_alive(pid) {
            continue;
        }
        conn.execute(
            concat!(
                "UPDATE runs SET status = 'aborted', ended_at_ms = ",
                end_of_run_sql!(),
                " WHERE id = ?1 AND status = 'running'"
            ),
            params![run],
        )
        .map_err(query_error(
            path,
            format!("mark run {run} as aborted (its process {pid} is gone)"),
        ))?;
        reaped.push(run);
    }
    Ok(reaped)
}

/// How a run stored as `status` by process `pid` (ending at `ended_at_ms`) is shown:
/// a `running` run whose process is gone is `aborted`, ending as the reaper would end
/// it. Reads only.
pub fn seen_at_read(
    conn: &Connection,
    path: &str,
    run: RunId,
    status: RunStatus,
    pid: i64,
    ended_at_ms: Option<i64>,
) -> Result<(RunStatus, Option<i64>), StoreError> {
    if status != RunStatus::Running || process_alive(pid) {
        return Ok((status, ended_at_ms));
    }
    let end = conn
        .query_row(
            concat!("SELECT ", end_of_run_sql!(), " FROM runs WHERE id = ?1"),
            params![run],
            |row| row.get(0),
        )
        .map_err(query_error(
            path,
            format!("compute the end of run {run} (its process {pid} is gone)"),
        ))?;
    Ok((RunStatus::Aborted, Some(end)))
}

/// Whether a process with this pid exists. Signal 0 checks without signalling;
/// `EPERM` means it exists but belongs to another user. Pids that cannot name a
/// single process (0, negative, out of range) count as gone: `kill(0)` or
/// `kill(-n)` would address process groups instead.
fn process_alive(pid: i64) -> bool {
    match i32::try_from(pid) {
        Ok(raw) if raw > 0 => !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_a_reaped_child_is_not() {
        assert!(process_alive(i64::from(std::process::id())));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        assert!(!process_alive(pid));
    }

    #[test]
    fn pids_that_name_groups_are_not_processes() {
        assert!(!process_alive(0));
        assert!(!process_alive(-1));
        assert!(!process_alive(i64::from(i32::MAX) + 1));
    }
}

//! gonogo's file-descriptor limit and the service's: gonogo raises its own soft
//! `RLIMIT_NOFILE` to the hard limit (as wrk and k6 do), because the load generator's
//! connections are its own business; the service is started with the soft limit the
//! user's environment gave gonogo, because a readiness campaign measures the service
//! as it is started by hand, not with limits gonogo chose for it. A service that
//! needs more raises its own limit (the Go runtime, the JVM and nginx's
//! `worker_rlimit_nofile` do), or the user raises it in the shell.
//!
//! Owns: the raise, the soft limit from before it ([`soft_before`]), and restoring it
//! in the guard before the service starts. Does not own: deciding whether a campaign
//! fits the limit (`api::preflight`).

use std::sync::OnceLock;

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};

/// This process's file-descriptor limits: the soft one in force and the hard one,
/// and the soft one it had before [`raise_fd_limit`] raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimits {
    pub soft: u64,
    pub hard: u64,
    pub soft_before: u64,
}

/// The soft limit this process had before its first raise.
static SOFT_BEFORE: OnceLock<u64> = OnceLock::new();

/// Raise this process's soft `RLIMIT_NOFILE` to its hard limit (capped by the
/// kernel's `fs.nr_open` when the hard limit is unlimited), and return the limits
/// now in force. A refused raise leaves the soft limit as it was; `None` when the
/// limits cannot be read. The service does not inherit the raise: the guard puts
/// [`soft_before`] back before starting it.
pub fn raise_fd_limit() -> Option<FdLimits> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let before = *SOFT_BEFORE.get_or_init(|| soft);
    let target = if hard == RLIM_INFINITY {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(soft)
    } else {
        hard
    };
    let raised = target > soft && setrlimit(Resource::RLIMIT_NOFILE, target, hard).is_ok();
    Some(FdLimits {
        soft: if raised { target } else { soft },
        hard,
        soft_before: before,
    })
}

/// The soft limit from before gonogo raised it, or `None` when it never did: what
/// the service is started with.
pub fn soft_before() -> Option<u64> {
    SOFT_BEFORE.get().copied()
}

/// Set this process's soft limit to `soft` (the guard, before it starts the
/// service); the hard limit stays.
pub(super) fn restore_soft(soft: u64) -> nix::Result<()> {
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, soft.min(hard), hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raise_keeps_the_first_soft_limit_for_the_service() {
        let limits = raise_fd_limit().expect("the limits can be read");
        assert!(limits.soft >= limits.soft_before);
        assert_eq!(soft_before(), Some(limits.soft_before));
        // A second raise finds the raised limit but remembers the first.
        let again = raise_fd_limit().expect("the limits can be read");
        assert_eq!(again.soft_before, limits.soft_before);
        assert_eq!(again.soft, limits.soft);
    }
}

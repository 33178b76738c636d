//! Checks of a plan against this machine, before anything runs: does the service's
//! program exist where the spec says it is, and may gonogo open the file descriptors
//! the campaign's connections need.
//!
//! Owns: [`missing_program`], [`fd_limit`] (after raising gonogo's soft
//! `RLIMIT_NOFILE` to the hard limit, as wrk and k6 do: `service::raise_fd_limit`,
//! which also keeps the service at the soft limit it had before), the count of descriptors a campaign needs at its peak
//! ([`fd_need`]) and its margin. Does not own: the spec's own validation (`plan`), or
//! predictions from the plan alone (`plan::warnings`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::plan::{LoadModel, Loader, PhasePlan, Plan, Protocol, Segment, WorkloadPlan};
pub use crate::service::{FdLimits, raise_fd_limit};
use crate::spec::{self, Diagnostic, SpecError};

/// The spec error for a service program that does not exist or cannot be run, at the
/// line of `service.command`; `None` when it is there. A program with a `/` is looked
/// up from the service's working directory (the spec's directory by default), as the
/// service is started; a bare name on `PATH`.
pub fn missing_program(plan: &Plan, spec_path: &Path, text: &str) -> Option<SpecError> {
    let program = plan.service.command.first()?.render_with_port(0);
    let spec_dir = spec_path.parent().unwrap_or(Path::new(""));
    let cwd = plan
        .service
        .cwd
        .clone()
        .unwrap_or_else(|| spec_dir.to_path_buf());
    let (found, looked) = locate(&program, &cwd);
    if found {
        return None;
    }
    let span = spec::parse(text)
        .ok()
        .map(|raw| raw.service.get_ref().command.span())
        .unwrap_or(0..0);
    let message = format!(
        "the service program `{program}` does not exist or is not executable (looked at {})",
        looked
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let hint = "build or install it, or fix the path: a path with `/` starts from the service's cwd (the spec's directory by default); the bundled testbed is built by `cargo build --release --workspace`";
    Some(
        Diagnostic::new(span, "service.command", message)
            .hint(hint)
            .into_spec_error(spec_path, text),
    )
}

/// Whether `program` is an executable file, and where it was looked for.
fn locate(program: &str, cwd: &Path) -> (bool, Vec<PathBuf>) {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![cwd.join(program)]
    } else {
        std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(program))
                    .collect()
            })
            .unwrap_or_default()
    };
    let found = candidates.iter().any(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    let looked = if program.contains('/') || candidates.len() <= 3 {
        candidates
    } else {
        vec![PathBuf::from(format!(
            "each directory of PATH ({})",
            candidates.len()
        ))]
    };
    (found, looked)
}

/// Descriptors gonogo keeps open besides its connections, whatever the campaign and
/// the cores: standard streams, the store (database, WAL, shared memory), the service's
/// log files and pipes, the guard's socket, the readiness probe, the sampler's `/proc`
/// reads, signal handling, the fault proxy's listener, a scaling setup command's pipes.
/// `bench/fd-peak.sh` measures what a run really holds (`bench/results/11-fd-peak.md`);
/// this leaves room above it.
pub const FD_MARGIN: u64 = 64;

/// Descriptors per core gonogo may use: each core gets a load runtime (its epoll, its
/// waker, its timer) and a share of the main runtime's; with room, as above.
pub const FD_PER_CORE: u64 = 8;

/// A proxied connection costs gonogo 3 descriptors instead of 1: its own socket, and the
/// fault proxy's two (the accepted one and the one to the service).
pub const FDS_PER_PROXIED_CONNECTION: u64 = 3;

/// What the campaign needs at its peak: the phase whose connections need the most
/// descriptors, its connections, whether they go through the fault proxy, and the
/// descriptors needed in all (margin included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdNeed {
    /// Index into the plan's phases.
    pub phase: usize,
    pub connections: u64,
    /// The peak is a scaling phase's loader (`load_connections`), not its steps.
    pub by_loader: bool,
    pub proxied: bool,
    /// The margin: descriptors gonogo needs besides the connections.
    pub margin: u64,
    pub fds: u64,
}

impl FdNeed {
    /// Descriptors per connection: 3 through the fault proxy, else 1.
    fn per_connection(&self) -> u64 {
        if self.proxied {
            FDS_PER_PROXIED_CONNECTION
        } else {
            1
        }
    }
}

/// The campaign's peak need of descriptors when gonogo may use `cores` cores. Phases
/// run one at a time; inside one, every workload's share of the connections is open
/// at once (split by weight as the load driver splits it, at least 1 each), and a
/// scaling phase's loader runs before its steps. `None` for a plan without phases.
pub fn fd_need(plan: &Plan, cores: u64) -> Option<FdNeed> {
    let margin = FD_MARGIN + FD_PER_CORE * cores;
    plan.phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let (load, loader, proxied) = phase_connections(plan, phase);
            let mut need = FdNeed {
                phase: index,
                connections: load.max(loader),
                by_loader: loader > load,
                proxied,
                margin,
                fds: 0,
            };
            need.fds = need
                .connections
                .saturating_mul(need.per_connection())
                .saturating_add(margin);
            need
        })
        .max_by_key(|need| need.fds)
}

/// The most connections `phase`'s load and its scaling loader have open at once, and
/// whether they go through the fault proxy.
fn phase_connections(plan: &Plan, phase: &PhasePlan) -> (u64, u64, bool) {
    let n = match phase.model {
        LoadModel::Open {
            max_connections, ..
        } => max_connections,
        LoadModel::Closed { connections } => connections,
    } as f64;
    let workloads: Vec<&WorkloadPlan> = phase
        .workloads
        .iter()
        .filter_map(|&i| plan.workloads.get(i))
        .collect();
    let total = workloads.iter().map(|w| w.weight).sum::<u32>().max(1);
    let load: u64 = workloads
        .iter()
        .map(|w| ((n * f64::from(w.weight) / f64::from(total)).round() as u64).max(1))
        .sum();
    let loader = match phase.scaling.as_ref().map(|s| &s.loader) {
        Some(Loader::Workload { connections, .. }) => *connections as u64,
        _ => 0,
    };
    let proxied = plan.needs_proxy() && workloads.iter().any(|w| uses_port(w));
    (load, loader, proxied)
}

/// Whether the workload targets the service's `{port}` (so, with network faults, the
/// proxy's).
fn uses_port(workload: &WorkloadPlan) -> bool {
    let target = match &workload.protocol {
        Protocol::Http => &workload.url,
        Protocol::Redis { address, .. } => address,
        Protocol::Postgres { config, .. } => config,
    };
    target.uses(&Segment::Port)
}

/// The cores gonogo may use (the load driver starts a runtime on each).
fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// The spec error for a campaign whose peak connections need more file descriptors
/// than this process may open, at the line of the phase's connections; `None` when
/// they fit. Raises the soft limit to the hard one first ([`raise_fd_limit`]), so only
/// the hard limit refuses a campaign.
pub fn fd_limit(plan: &Plan, spec_path: &Path, text: &str) -> Option<SpecError> {
    let limits = raise_fd_limit()?;
    let need = fd_need(plan, cores())?;
    if need.fds <= limits.soft {
        return None;
    }
    let phase = plan.phases.get(need.phase)?;
    let (span, field) = connections_field(text, need.phase, phase, need.by_loader);
    Some(
        Diagnostic::new(span, field, too_many_message(&phase.name, &need, &limits))
            .hint(too_many_hint(&need, &limits))
            .into_spec_error(spec_path, text),
    )
}

/// `phase `burst` asks for 1000 connections, … the file-descriptor limit is 256 (…)`.
fn too_many_message(phase: &str, need: &FdNeed, limits: &FdLimits) -> String {
    let limit = if limits.soft_before < limits.soft {
        format!(
            "{} (the soft limit {} raised to the hard limit {})",
            limits.soft, limits.soft_before, limits.hard
        )
    } else {
        format!(
            "{} (soft {}, hard {})",
            limits.soft, limits.soft, limits.hard
        )
    };
    let proxied = if need.proxied {
        ", 3 each as they go through the fault proxy,"
    } else {
        ""
    };
    format!(
        "phase `{phase}` asks for {} connections, which need {} file descriptors{proxied} \
         plus {} for gonogo itself (store, logs, probe, sampler, a load runtime per core): {} in all, \
         more than this process may open: the file-descriptor limit is {limit}",
        need.connections,
        need.fds - need.margin,
        need.margin,
        need.fds
    )
}

/// What to do: raise the limit, or lower the connections to what fits.
fn too_many_hint(need: &FdNeed, limits: &FdLimits) -> String {
    let fit = limits.soft.saturating_sub(need.margin) / need.per_connection();
    let lower = if fit == 0 {
        "the limit leaves no room for any connection".to_string()
    } else {
        format!("or lower the phase's connections to at most {fit}")
    };
    format!(
        "raise the limit in the shell that starts gonogo, e.g. `ulimit -n {}` (above the \
         hard limit {} only as root: `ulimit -Hn`, systemd's LimitNOFILE=, or \
         /etc/security/limits.conf); {lower}",
        need.fds, limits.hard
    )
}

/// Where the spec sets the phase's connections and that field's name: the loader's
/// `load_connections` when it is the peak, else `connections` or `max_connections`,
/// else (the default) the phase's name.
fn connections_field(
    text: &str,
    index: usize,
    phase: &PhasePlan,
    by_loader: bool,
) -> (std::ops::Range<usize>, String) {
    let field = format!("phase[{index}]");
    let Some(raw) = spec::parse(text).ok().and_then(|raw| {
        raw.phase
            .into_iter()
            .map(|p| p.into_inner())
            .find(|p| *p.name.get_ref() == phase.name)
    }) else {
        return (0..0, field);
    };
    let loader = by_loader.then(|| raw.load_connections.as_ref().map(|c| c.span()));
    let spans = [
        ("load_connections", loader.flatten()),
        ("connections", raw.connections.as_ref().map(|c| c.span())),
        (
            "max_connections",
            raw.max_connections.as_ref().map(|c| c.span()),
        ),
    ];
    spans
        .into_iter()
        .find_map(|(name, span)| span.map(|span| (span, format!("{field}.{name}"))))
        .unwrap_or_else(|| (raw.name.span(), format!("{field}.name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str) -> String {
        format!(
            "[service]\ncommand = [{command:?}]\nport = 8080\nready = {{ http = \"http://127.0.0.1:{{port}}/health\" }}\n\n[[workload]]\nname = \"get\"\nhttp = {{ method = \"GET\", url = \"http://127.0.0.1:{{port}}/\" }}\n\n[[phase]]\nname = \"p\"\nkind = \"steady\"\nrate = 10\nduration = \"1s\"\n"
        )
    }

    fn check(command: &str) -> Option<SpecError> {
        let path = Path::new("/nonexistent-dir/t.toml");
        let text = spec(command);
        let plan = crate::plan::from_str(path, &text).expect("the spec is valid");
        missing_program(&plan, path, &text)
    }

    #[test]
    fn a_missing_program_is_a_spec_error_at_the_command_line() {
        let err = check("../target/release/no-such-program").expect("refused");
        assert_eq!((err.line, err.field.as_str()), (2, "service.command"));
        assert!(
            err.message
                .contains("/nonexistent-dir/../target/release/no-such-program"),
            "{}",
            err.message
        );
        assert!(check("no-such-program-on-path-xyz").is_some());
    }

    #[test]
    fn a_program_on_path_or_at_an_absolute_path_is_found() {
        assert!(check("sh").is_none());
        assert!(check("/bin/sh").is_none());
    }

    /// A spec with a `get` and a `put` workload (weights 3 and 1) and `rest`.
    fn two_workloads(rest: &str) -> String {
        format!(
            "[service]\ncommand = [\"sh\"]\nport = 8080\nready = {{ http = \"http://127.0.0.1:{{port}}/health\" }}\n\n\
             [[workload]]\nname = \"get\"\nweight = 3\nhttp = {{ method = \"GET\", url = \"http://127.0.0.1:{{port}}/kv/{{key}}\" }}\n\n\
             [[workload]]\nname = \"put\"\nhttp = {{ method = \"PUT\", url = \"http://127.0.0.1:{{port}}/kv/k-{{seq}}\", body = \"v\" }}\n{rest}"
        )
    }

    fn phase(name: &str, load: &str) -> String {
        format!(
            "\n[[phase]]\nname = \"{name}\"\nkind = \"steady\"\nworkload = [\"get\", \"put\"]\n{load}\nduration = \"10s\"\n"
        )
    }

    fn need(text: &str) -> FdNeed {
        let plan = crate::plan::from_str(Path::new("t.toml"), text).expect("the spec is valid");
        fd_need(&plan, 2).expect("a phase")
    }

    #[test]
    fn the_peak_is_the_phase_with_the_most_connections_plus_the_margin() {
        let text = two_workloads(&format!(
            "{}{}",
            phase("small", "connections = 10"),
            phase("big", "rate = 100\nmax_connections = 1000")
        ));
        let need = need(&text);
        assert_eq!(
            (need.phase, need.connections, need.proxied),
            (1, 1000, false)
        );
        assert_eq!(need.margin, FD_MARGIN + 2 * FD_PER_CORE);
        assert_eq!(need.fds, 1000 + need.margin);
        // Split 3:1 with rounding and at least one each, as the driver splits it.
        let need = super::tests::need(&two_workloads(&phase("p", "connections = 2")));
        assert_eq!(
            need.connections, 3,
            "round(1.5) + round(0.5): one more than written"
        );
        let need = super::tests::need(&two_workloads(&phase("p", "rate = 10")));
        assert_eq!(need.connections, 64, "the default in-flight cap is counted");
    }

    #[test]
    fn connections_through_the_fault_proxy_cost_three_descriptors() {
        let fault = "\n[[fault]]\nphase = \"p\"\nkind = \"latency\"\ndelay = \"10ms\"\nfrom = \"1s\"\nto = \"2s\"\n";
        let text = two_workloads(&format!("{}{fault}", phase("p", "connections = 100")));
        let need = need(&text);
        assert!(need.proxied);
        assert_eq!(need.fds, 300 + need.margin);
        // A kill needs no proxy.
        let kill = "\n[[fault]]\nphase = \"p\"\nkind = \"kill\"\nat = \"50%\"\n";
        let text = two_workloads(&format!("{}{kill}", phase("p", "connections = 100")));
        assert!(!super::tests::need(&text).proxied);
    }

    #[test]
    fn a_scaling_loader_with_more_connections_is_the_peak() {
        let scaling = "\n[[phase]]\nname = \"grow\"\nkind = \"scaling\"\nsizes = [10, 20, 40]\n\
                       load = \"put\"\nload_connections = 500\nworkload = \"get\"\n\
                       connections = 4\nduration = \"1s\"\n";
        let text = two_workloads(scaling);
        let need = need(&text);
        assert_eq!((need.connections, need.by_loader), (500, true));
        let (span, field) = connections_field(&text, 0, &plan_of(&text).phases[0], true);
        assert_eq!(field, "phase[0].load_connections");
        assert_eq!(&text[span], "500");
    }

    fn plan_of(text: &str) -> Plan {
        crate::plan::from_str(Path::new("t.toml"), text).expect("the spec is valid")
    }

    #[test]
    fn the_refusal_names_the_phase_the_connections_the_limits_and_what_to_do() {
        let text = two_workloads(&phase("burst", "connections = 1000"));
        let plan = plan_of(&text);
        let need = fd_need(&plan, 2).expect("a phase");
        let limits = FdLimits {
            soft: 256,
            hard: 256,
            soft_before: 64,
        };
        let message = too_many_message("burst", &need, &limits);
        assert!(
            message.contains("phase `burst` asks for 1000 connections"),
            "{message}"
        );
        assert!(
            message.contains("the soft limit 64 raised to the hard limit 256"),
            "{message}"
        );
        let hint = too_many_hint(&need, &limits);
        let fit = 256 - need.margin;
        assert!(
            hint.contains(&format!("`ulimit -n {}`", need.fds)),
            "{hint}"
        );
        assert!(hint.contains(&format!("at most {fit}")), "{hint}");
        let (span, field) = connections_field(&text, 0, &plan.phases[0], false);
        assert_eq!(
            (field.as_str(), &text[span]),
            ("phase[0].connections", "1000")
        );
        // A phase left at the default cap is pointed at by its name.
        let text = two_workloads(&phase("open", "rate = 10"));
        let (_, field) = connections_field(&text, 0, &plan_of(&text).phases[0], false);
        assert_eq!(field, "phase[0].name");
    }

    #[test]
    fn raising_the_soft_limit_reaches_the_hard_one_and_a_small_campaign_fits() {
        let limits = raise_fd_limit().expect("the limits can be read");
        assert!(limits.soft >= limits.soft_before);
        assert!(limits.soft == limits.hard || limits.hard == nix::sys::resource::RLIM_INFINITY);
        let text = two_workloads(&phase("p", "connections = 2"));
        assert!(fd_limit(&plan_of(&text), Path::new("t.toml"), &text).is_none());
    }
}

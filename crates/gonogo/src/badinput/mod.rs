//! The bad-input producer: sends a phase's hostile cases to the service, one
//! connection each and at most `connections` at once, then observes the
//! post-conditions, and hands one [`BadInputLedger`] to the conductor.
//!
//! Owns: the order and bounds of the cases (each under its timeout, all under the
//! phase's `duration`), the before/after observations (`post`), the corpus
//! (`corpus`) and the raw sender (`send`). Does not own: judging (that is
//! `evaluate::bad_input`, from the stored ledger) nor the service's lifecycle.

pub mod corpus;
pub mod post;
pub mod send;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::model::RecordSender;
use crate::model::{
    BadInputCase, BadInputLedger, CaseOutcome, Delivery, PostCheck, PostConditions, Record,
};
use crate::plan::{BadInputPlan, PhasePlan, Plan};
use corpus::Case;
use send::SocketCount;

/// Why a bad-input phase could not run.
#[derive(Debug, thiserror::Error)]
pub enum BadInputError {
    #[error(
        "bad_input phase `{phase}` has no HTTP workload to take its address from; name one with `workload`"
    )]
    NoWorkload { phase: String },
    #[error(
        "bad_input phase `{phase}`: cannot resolve the workload's address `{authority}`; use a loopback address such as 127.0.0.1:{{port}}"
    )]
    Address { phase: String, authority: String },
    #[error(transparent)]
    Corpus(#[from] corpus::CorpusError),
}

/// What the phase needs from the conductor.
pub struct BadInputContext<'a> {
    pub records: RecordSender,
    pub cancel: CancellationToken,
    /// The service's port and its tree's root pid.
    pub port: u16,
    pub pid: u32,
    /// The service's directory (`{dir}`): its `cwd`, or the spec's directory.
    pub dir: PathBuf,
    /// The spec's directory, against which `cases` is resolved.
    pub spec_dir: PathBuf,
    /// Where gonogo keeps its store and the service's logs: always allowed.
    pub store_dir: Option<PathBuf>,
    /// Whether the service has exited.
    pub gone: &'a (dyn Fn() -> bool + Sync),
}

impl std::fmt::Debug for BadInputContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BadInputContext")
            .field("port", &self.port)
            .field("pid", &self.pid)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Run the phase and send its ledger.
pub async fn run_phase(
    plan: &Plan,
    phase: &PhasePlan,
    bad: &BadInputPlan,
    ctx: BadInputContext<'_>,
) -> Result<(), BadInputError> {
    let (addr, host) = address(plan, phase, ctx.port).await?;
    let mut cases = corpus::builtin(bad, &host);
    if let Some(file) = &bad.cases_file {
        cases.extend(corpus::from_file(&ctx.spec_dir.join(file), bad, &host)?);
    }
    let (watch, allowed) = confinement(bad, &ctx);
    let before_files = snapshot(&watch).await;
    let before = crate::sample::read_tree(ctx.pid).ok();
    let count = Arc::new(SocketCount::default());
    let connections = connections(phase);
    let sending = Sending {
        addr,
        bad,
        connections,
        deadline: Instant::now() + phase.duration,
        count: &count,
        cancel: &ctx.cancel,
    };
    let secrets = secret_values(plan, &bad.secrets);
    let results = send_all(&cases, sending, plan, ctx.port, &secrets).await;
    let after = crate::sample::read_tree(ctx.pid).ok();
    let wait = bad.timeout.max(Duration::from_secs(1));
    let not_ready = post::probe(&plan.service.ready, ctx.port, wait).await.err();
    let post_check = post_check(bad, &ctx).await;
    let after_files = snapshot(&watch).await;
    let shown = |paths: &[PathBuf]| -> Vec<String> {
        paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    };
    let post = PostConditions {
        not_ready,
        exited: (ctx.gone)(),
        rss_before: before.map(|s| s.rss_bytes),
        rss_after: after.map(|s| s.rss_bytes),
        rss_growth: bad.rss_growth,
        fds_before: before.map(|s| s.open_fds),
        fds_after: after.map(|s| s.open_fds),
        fds_growth: bad.fds_growth,
        escaped: post::escaped(&before_files, &after_files, &allowed),
        watch: shown(&watch),
        allowed: shown(&allowed),
        post_check,
    };
    let ledger = BadInputLedger {
        phase: phase.name.clone(),
        cases: results,
        post,
        peak_sockets: count.peak(),
        connections: u32::try_from(connections).unwrap_or(u32::MAX),
    };
    let _ = ctx.records.send(Record::BadInput(Box::new(ledger)));
    Ok(())
}

/// The most sockets the phase may hold at once.
fn connections(phase: &PhasePlan) -> usize {
    match phase.model {
        crate::plan::LoadModel::Closed { connections } => connections.max(1),
        crate::plan::LoadModel::Open {
            max_connections, ..
        } => max_connections.max(1),
    }
}

/// The watched roots and the allowed directories, `{dir}` expanded (relative paths
/// are under `{dir}`); gonogo's own store directory is always allowed.
fn confinement(bad: &BadInputPlan, ctx: &BadInputContext<'_>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let dir = ctx.dir.to_string_lossy().into_owned();
    let expand = |list: &[String]| -> Vec<PathBuf> {
        list.iter()
            .map(|p| PathBuf::from(p.replace("{dir}", &dir)))
            .map(|p| if p.is_absolute() { p } else { ctx.dir.join(p) })
            .collect()
    };
    let (watch, mut allowed) = bad.confine.as_ref().map_or((Vec::new(), Vec::new()), |c| {
        (expand(&c.watch), expand(&c.allowed))
    });
    allowed.extend(ctx.store_dir.clone());
    (watch, allowed)
}

/// A snapshot of `watch`, walked off the async workers.
async fn snapshot(watch: &[PathBuf]) -> post::Snapshot {
    let roots = watch.to_vec();
    tokio::task::spawn_blocking(move || post::snapshot(&roots))
        .await
        .unwrap_or_default()
}

/// The `post_check` command's outcome, `{port}` and `{dir}` replaced.
async fn post_check(bad: &BadInputPlan, ctx: &BadInputContext<'_>) -> Option<PostCheck> {
    let command = bad.post_check.as_ref()?;
    let (port, dir) = (ctx.port.to_string(), ctx.dir.to_string_lossy());
    let command: Vec<String> = command
        .iter()
        .map(|a| a.replace("{port}", &port).replace("{dir}", &dir))
        .collect();
    Some(post::post_check(&command, &ctx.dir, bad.post_timeout).await)
}

/// The socket address and `Host` of the phase's workload.
async fn address(
    plan: &Plan,
    phase: &PhasePlan,
    port: u16,
) -> Result<(SocketAddr, String), BadInputError> {
    let workload = phase
        .workloads
        .first()
        .and_then(|&i| plan.workloads.get(i))
        .ok_or_else(|| BadInputError::NoWorkload {
            phase: phase.name.clone(),
        })?;
    let url = workload.url.render_with_port(port);
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or("").to_string();
    let connect = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.clone()
    } else {
        format!("{authority}:80")
    };
    let failed = || BadInputError::Address {
        phase: phase.name.clone(),
        authority: authority.clone(),
    };
    let addr = tokio::net::lookup_host(connect.as_str())
        .await
        .map_err(|_| failed())?
        .next()
        .ok_or_else(failed)?;
    Ok((addr, authority))
}

/// `(name, value)` of each secret that has a non-empty value: the service's own
/// `env` first, then gonogo's environment (which the service inherits).
fn secret_values(plan: &Plan, names: &[String]) -> Vec<(String, Vec<u8>)> {
    names
        .iter()
        .filter_map(|name| {
            let value = plan
                .service
                .env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.render_with_port(0))
                .or_else(|| std::env::var(name).ok())?;
            (!value.is_empty()).then(|| (name.clone(), value.into_bytes()))
        })
        .collect()
}

/// The bounds every case is sent under.
struct Sending<'a> {
    addr: SocketAddr,
    bad: &'a BadInputPlan,
    connections: usize,
    deadline: Instant,
    count: &'a Arc<SocketCount>,
    cancel: &'a CancellationToken,
}

/// Send every case, at most `connections` sockets at once; a case not done by the
/// phase's deadline is recorded as not sent.
async fn send_all(
    cases: &[Case],
    s: Sending<'_>,
    plan: &Plan,
    port: u16,
    secrets: &[(String, Vec<u8>)],
) -> Vec<BadInputCase> {
    let permits = Arc::new(Semaphore::new(s.connections));
    let env = Arc::new(CaseEnv {
        bad: s.bad.clone(),
        addr: s.addr,
        phase_deadline: s.deadline,
        count: Arc::clone(s.count),
        ready: plan.service.ready.clone(),
        port,
    });
    let mut tasks = Vec::with_capacity(cases.len());
    for case in cases {
        let case = case.clone();
        let (permits, env) = (Arc::clone(&permits), Arc::clone(&env));
        // A slow read holds a second socket for the probe beside it.
        let wanted = if case.delivery == Delivery::SlowRead && s.connections >= 2 {
            2
        } else {
            1
        };
        tasks.push(tokio::spawn(async move {
            let Ok(_permit) = permits.acquire_many(wanted).await else {
                return None;
            };
            Some(one_case(&case, &env, wanted == 2).await)
        }));
    }
    let mut out = Vec::with_capacity(cases.len());
    for (case, task) in cases.iter().zip(tasks) {
        let abort = task.abort_handle();
        let answer = tokio::select! {
            joined = tokio::time::timeout_at(s.deadline + Duration::from_millis(500), task) => {
                joined.ok().and_then(Result::ok).flatten()
            }
            () = s.cancel.cancelled() => None,
        };
        abort.abort();
        let (outcome, received, elapsed, probe_failed) = answer.unwrap_or_else(|| {
            let outcome = CaseOutcome::NotSent {
                reason: "the phase's duration (or the run) ended first".to_string(),
            };
            (outcome, Vec::new(), Duration::ZERO, None)
        });
        let secrets_echoed = secrets
            .iter()
            .filter(|(_, value)| received.windows(value.len()).any(|w| w == value.as_slice()))
            .map(|(name, _)| name.clone())
            .collect();
        out.push(BadInputCase {
            name: case.name.clone(),
            family: case.family,
            delivery: case.delivery,
            sent: case.bytes.clone(),
            reject: case.reject.clone(),
            closed_ok: case.closed_ok,
            outcome,
            received: received[..received.len().min(crate::model::RECEIVED_KEPT)].to_vec(),
            elapsed,
            secrets_echoed,
            probe_failed,
        });
    }
    out
}

type Sent = (CaseOutcome, Vec<u8>, Duration, Option<String>);

/// What every case of a phase is sent with.
struct CaseEnv {
    bad: BadInputPlan,
    addr: SocketAddr,
    phase_deadline: Instant,
    count: Arc<SocketCount>,
    ready: crate::plan::ReadyProbe,
    port: u16,
}

/// Send one case under its deadlines: the answer, everything read, the time taken,
/// and (slow-read, `probe_beside`) whether a ready probe beside it failed.
async fn one_case(case: &Case, env: &CaseEnv, probe_beside: bool) -> Sent {
    let CaseEnv {
        bad,
        addr,
        phase_deadline,
        count,
        ready,
        port,
    } = env;
    let (addr, phase_deadline, port) = (*addr, *phase_deadline, *port);
    let start = Instant::now();
    let limit = match case.delivery {
        Delivery::Whole => bad.timeout,
        Delivery::Dribble | Delivery::SlowRead => bad.slow_timeout,
    };
    let deadline = (start + limit).min(phase_deadline);
    let mut probe_failed = None;
    let answer = match case.delivery {
        Delivery::Whole => send::whole(addr, &case.bytes, deadline, count).await,
        Delivery::Dribble => send::dribble(addr, &case.bytes, bad.drip, deadline, count).await,
        Delivery::SlowRead => {
            let reading = send::slow_read(addr, &case.bytes, bad.drip, deadline, count);
            let probing = async {
                if !probe_beside {
                    return None;
                }
                tokio::time::sleep(bad.drip.min(limit / 2)).await;
                post::probe(ready, port, bad.timeout).await.err()
            };
            let (answer, probe) = tokio::join!(reading, probing);
            probe_failed = probe;
            answer
        }
    };
    (
        answer.outcome.clone(),
        answer.read,
        start.elapsed(),
        probe_failed,
    )
}

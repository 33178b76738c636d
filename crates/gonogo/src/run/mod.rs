//! The conductor: runs a plan against a live service and records the evidence.
//!
//! Owns: the order of a campaign (start the service, run each phase, stop the
//! service), the one record stream, signal handling, and writing every record to
//! the store as it arrives (the conductor is the store's only writer). After the
//! run it evaluates the stored evidence and stores the findings. Does not own:
//! how load is offered (`load`), how the service is supervised (`service`), or how
//! evidence is judged (`evaluate`).

mod faults;
mod limits;
pub mod manifest;
mod progress;
pub mod ramp;
pub mod scaling;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::evaluate;
use crate::evidence::{Store, StoreError};
use crate::fault::proxy::Proxy;
use crate::load::{self, LoadContext, LoadError};
use crate::model::{
    Event, EventKind, Finding, PhaseRecord, RunEvidence, RunId, RunStatus, Verdict,
};
use crate::model::{Record, RecordReceiver, RecordSender, RunClock};
use crate::plan::{FaultPlan, LoadModel, PhasePlan, Plan};
use crate::service::{self, ServiceContext, ServiceError};
use crate::verdict;
use progress::Progress;

/// How to run a campaign.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub spec_path: PathBuf,
    pub spec_text: String,
    pub store_path: PathBuf,
    /// Send load to non-loopback targets.
    pub allow_remote: bool,
    /// Show a live progress display (only drawn on a terminal).
    pub progress: bool,
}

/// What a finished (or stopped) run left behind.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: RunId,
    pub evidence: RunEvidence,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The signal that interrupted the run, if one did.
    pub interrupted: Option<String>,
    /// The `[limits]` limit that stopped the run, in words, if one did.
    pub emergency_stop: Option<String>,
    /// Why the run could not go on, when the tool or environment failed.
    pub failure: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "refusing to send load to non-loopback targets: {}; gonogo only targets 127.0.0.0/8, ::1 and localhost unless you pass --allow-remote",
        .0.join(", ")
    )]
    RemoteTargets(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot install signal handlers: {0}")]
    Signals(#[source] std::io::Error),
}

/// Why the campaign stopped early.
#[derive(Debug, thiserror::Error)]
enum CampaignError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("interrupted before the service was ready")]
    Interrupted,
    #[error("fault proxy: {0}")]
    Proxy(String),
    #[error(transparent)]
    Integrity(#[from] crate::integrity::kv::KvError),
}

/// Run `plan` and record everything in the store at `options.store_path`.
pub async fn conduct(plan: &Plan, options: &RunOptions) -> Result<RunOutcome, RunError> {
    let remote = plan.remote_targets();
    if !remote.is_empty() && !options.allow_remote {
        return Err(RunError::RemoteTargets(remote));
    }
    let mut store = Store::open(&options.store_path)?;
    let manifest = manifest::build(&plan.name, &options.spec_path, &options.spec_text);
    let run_id = store.begin_run(&manifest)?;
    let clock = RunClock::new();
    let (records, receiver) = crate::model::channel();
    let cancel = CancellationToken::new();
    // `campaign.toml` has an empty parent: that is the current directory.
    let spec_dir = options
        .spec_path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let spec_dir = std::path::absolute(spec_dir).unwrap_or_else(|_| spec_dir.to_path_buf());
    let log_dir = options
        .store_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .join("runs")
        .join(run_id.to_string());
    let campaign = tokio::spawn(campaign(
        Arc::new(plan.clone()),
        CampaignContext {
            clock,
            records,
            cancel: cancel.clone(),
            spec_dir,
            log_dir,
        },
    ));
    let progress = Progress::new(options.progress, plan);
    let watch = limits::LimitWatch::new(plan.limits);
    let recorded = record_all(
        &mut store, run_id, clock, receiver, &cancel, progress, watch,
    )
    .await;
    let failure = match campaign.await {
        Ok(Ok(())) => None,
        Ok(Err(CampaignError::Interrupted)) => None,
        Ok(Err(err)) => Some(error_chain(&err)),
        Err(join) => Some(format!("the campaign task failed: {join}")),
    };
    let Stopped {
        interrupted,
        emergency_stop,
    } = recorded?;
    if let Some(message) = &failure {
        let event = Event {
            at: clock.elapsed(),
            kind: EventKind::Failure {
                message: message.clone(),
            },
        };
        store.record_event(run_id, &event)?;
    }
    let status = if interrupted.is_some() || failure.is_some() || emergency_stop.is_some() {
        RunStatus::Aborted
    } else {
        RunStatus::Completed
    };
    store.finish_run(run_id, status, manifest::now_ms())?;
    let evidence = store.load_run(run_id)?;
    let findings = evaluate::evaluate_plan(plan, &evidence);
    let verdict = verdict::decide(&findings);
    store.record_evaluation(
        run_id,
        &evidence.manifest.spec_hash,
        manifest::now_ms(),
        &findings,
        &verdict,
    )?;
    Ok(RunOutcome {
        run_id,
        evidence,
        findings,
        verdict,
        interrupted,
        emergency_stop,
        failure,
    })
}

/// Why the record stream ended early, if it did.
#[derive(Debug, Default)]
struct Stopped {
    interrupted: Option<String>,
    emergency_stop: Option<String>,
}

/// Receive every record until all producers are done, writing each to the store.
/// The first SIGINT/SIGTERM/SIGHUP is recorded and cancels the campaign, which then winds
/// down (drain, stop the service) while its records are still written.
async fn record_all(
    store: &mut Store,
    run_id: RunId,
    clock: RunClock,
    mut receiver: RecordReceiver,
    cancel: &CancellationToken,
    mut progress: Progress,
    mut watch: limits::LimitWatch,
) -> Result<Stopped, RunError> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    // A closed terminal (SIGHUP) stops the run as cleanly as Ctrl-C.
    let mut sighup = signal(SignalKind::hangup()).map_err(RunError::Signals)?;
    let mut interrupted: Option<String> = None;
    let mut emergency_stop: Option<String> = None;
    let mut first_error: Option<StoreError> = None;
    loop {
        let record = tokio::select! {
            record = receiver.recv() => match record {
                Some(record) => record,
                None => break,
            },
            _ = sigint.recv(), if interrupted.is_none() => {
                interrupted = Some("SIGINT".to_string());
                cancel.cancel();
                clock.event(EventKind::Interrupted { signal: "SIGINT".into() })
            }
            _ = sigterm.recv(), if interrupted.is_none() => {
                interrupted = Some("SIGTERM".to_string());
                cancel.cancel();
                clock.event(EventKind::Interrupted { signal: "SIGTERM".into() })
            }
            _ = sighup.recv(), if interrupted.is_none() => {
                interrupted = Some("SIGHUP".to_string());
                cancel.cancel();
                clock.event(EventKind::Interrupted { signal: "SIGHUP".into() })
            }
        };
        progress.observe(&record);
        if first_error.is_none()
            && let Err(err) = write(store, run_id, &record)
        {
            // Without a store there is no point going on: stop the campaign, keep
            // draining so producers are not blocked, and report the first error.
            cancel.cancel();
            first_error = Some(err);
        }
        if let Some(kind) = watch.observe(&record) {
            // Stop the campaign as an interrupt would: drain, stop the service.
            emergency_stop = Some(crate::model::event_detail(&kind));
            cancel.cancel();
            let event = Event {
                at: clock.elapsed(),
                kind,
            };
            if first_error.is_none()
                && let Err(err) = store.record_event(run_id, &event)
            {
                first_error = Some(err);
            }
        }
    }
    progress.finish();
    match first_error {
        Some(err) => Err(RunError::Store(err)),
        None => Ok(Stopped {
            interrupted,
            emergency_stop,
        }),
    }
}

fn write(store: &mut Store, run_id: RunId, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::Event(event) => store.record_event(run_id, event),
        Record::Interval(interval) => store.record_interval(run_id, interval),
        Record::Sample(sample) => store.record_sample(run_id, sample),
        Record::Artifact(artifact) => store.record_artifact(run_id, artifact),
        Record::Integrity(ledger) => store.record_integrity(run_id, ledger),
        Record::PhaseStarted(phase) => {
            store.phase_started(run_id, phase)?;
            let kind = EventKind::PhaseStarted {
                phase: phase.name.clone(),
            };
            store.record_event(
                run_id,
                &Event {
                    at: phase.started,
                    kind,
                },
            )
        }
        Record::PhaseEnded {
            phase,
            at,
            abandoned,
        } => {
            store.phase_ended(run_id, phase, *at)?;
            let kind = EventKind::PhaseEnded {
                phase: phase.clone(),
                abandoned: *abandoned,
            };
            store.record_event(run_id, &Event { at: *at, kind })
        }
    }
}

/// An error and its causes on one line, joined by ": ".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// What the campaign task needs.
#[derive(Debug)]
struct CampaignContext {
    clock: RunClock,
    records: RecordSender,
    cancel: CancellationToken,
    spec_dir: PathBuf,
    log_dir: PathBuf,
}

/// Start the service, run every phase, stop the service.
async fn campaign(plan: Arc<Plan>, ctx: CampaignContext) -> Result<(), CampaignError> {
    let service_ctx = ServiceContext {
        spec_dir: ctx.spec_dir.clone(),
        log_dir: ctx.log_dir.clone(),
        clock: ctx.clock,
        records: ctx.records.clone(),
    };
    let mut service = tokio::select! {
        started = service::start(&plan.service, &service_ctx) => started?,
        () = ctx.cancel.cancelled() => return Err(CampaignError::Interrupted),
    };
    let proxy = match start_proxy(&plan, service.port()).await {
        Ok(proxy) => proxy,
        Err(err) => {
            let _ = service.stop().await;
            return Err(err);
        }
    };
    // With a proxy, the load goes through it: every workload's `{port}` is its port.
    let load_port = proxy
        .as_ref()
        .map_or(service.port(), |p| p.local_addr().port());
    let (root_tx, root_rx) = watch::channel(Some(service.pid()));
    let sampler_cancel = CancellationToken::new();
    let sampler = tokio::spawn(crate::sample::run(
        root_rx,
        plan.settings.sample_interval,
        ctx.clock,
        ctx.records.clone(),
        sampler_cancel.clone(),
    ));
    let load_ctx = LoadContext {
        clock: ctx.clock,
        records: ctx.records.clone(),
        cancel: ctx.cancel.clone(),
        interval: plan.settings.interval,
    };
    let mut result = Ok(());
    for phase in &plan.phases {
        let exited = service.exited();
        if ctx.cancel.is_cancelled() || exited.borrow().is_some() {
            // A service that died stays dead: later phases would measure nothing.
            break;
        }
        let _ = ctx
            .records
            .send(Record::PhaseStarted(phase_record(phase, &ctx.clock)));
        let env = faults::FaultEnv {
            service: &mut service,
            service_plan: &plan.service,
            service_ctx: &service_ctx,
            proxy: proxy.as_ref(),
            root: &root_tx,
            clock: ctx.clock,
            records: ctx.records.clone(),
            cancel: ctx.cancel.clone(),
        };
        let abandoned: Result<u64, CampaignError> = match (&phase.ramp, phase.integrity) {
            (None, _) if phase.scaling.is_some() => {
                let gone = || exited.borrow().is_some();
                let dir = &ctx.spec_dir;
                scaling::run_scaling(&plan, phase, load_port, &load_ctx, dir, gone)
                    .await
                    .map_err(CampaignError::from)
            }
            (Some(steps), _) => {
                let gone = || exited.borrow().is_some();
                ramp::run_ramp(&plan, phase, steps, load_port, &load_ctx, gone)
                    .await
                    .map_err(CampaignError::from)
            }
            (None, Some(_)) => {
                let (integrity, faults) =
                    integrity_phase(&plan, phase, load_port, &load_ctx, env).await;
                if let Err(err) = faults {
                    result = Err(err.into());
                }
                integrity.map(|()| 0)
            }
            (None, None) => {
                let load = load::run_phase(&plan, phase, load_port, &load_ctx);
                let (load, faults) = with_faults(&plan, phase, env, load).await;
                if let Err(err) = faults {
                    result = Err(err.into());
                }
                load.map(|s| s.abandoned).map_err(CampaignError::from)
            }
        };
        let _ = ctx.records.send(Record::PhaseEnded {
            phase: phase.name.clone(),
            at: ctx.clock.elapsed(),
            abandoned: *abandoned.as_ref().unwrap_or(&0),
        });
        if let Err(err) = abandoned {
            result = Err(err);
        }
        if result.is_err() {
            break;
        }
    }
    let stopped = service.stop().await;
    sampler_cancel.cancel();
    let _ = sampler.await;
    result.and(stopped.map(|_| ()).map_err(CampaignError::from))
}

/// Run a phase's `load` (steady, soak or integrity writes) while its faults are
/// applied on schedule.
async fn with_faults<F: Future>(
    plan: &Plan,
    phase: &PhasePlan,
    env: faults::FaultEnv<'_>,
    load: F,
) -> (F::Output, Result<(), ServiceError>) {
    let phase_faults: Vec<&FaultPlan> = plan
        .faults
        .iter()
        .filter(|f| f.phase == phase.name)
        .collect();
    // The load's own start lead is a few ms; fault times are recorded as they happen,
    // so evaluation reads the real windows.
    let base = Instant::now() + phase.warmup;
    tokio::join!(load, faults::run_faults(&phase_faults, base, env))
}

/// An integrity phase: the writes beside the faults, then (the faults over, a
/// killed service started again) the settle time and the read-back.
async fn integrity_phase(
    plan: &Plan,
    phase: &PhasePlan,
    load_port: u16,
    load_ctx: &LoadContext,
    env: faults::FaultEnv<'_>,
) -> (Result<(), CampaignError>, Result<(), ServiceError>) {
    let Some(workloads) = crate::integrity::PhaseWorkloads::of(plan, phase) else {
        let missing = LoadError::MissingWorkload {
            phase: phase.name.clone(),
            index: phase.workloads.first().copied().unwrap_or_default(),
        };
        return (Err(missing.into()), Ok(()));
    };
    let token = crate::integrity::keys::new_token(&mut rand::rng());
    let writes = crate::integrity::write_phase(phase, workloads, load_port, load_ctx, &token);
    let (writes, faults) = with_faults(plan, phase, env, writes).await;
    let finished = match writes {
        Ok(writes) => {
            crate::integrity::finish(phase, workloads, load_port, load_ctx, &token, writes).await
        }
        Err(err) => Err(err),
    };
    (finished.map_err(CampaignError::from), faults)
}

/// The fault proxy, when the plan has network faults: on the host the workloads
/// target, forwarding to the service's port there.
async fn start_proxy(plan: &Plan, port: u16) -> Result<Option<Proxy>, CampaignError> {
    if !plan.needs_proxy() {
        return Ok(None);
    }
    let host = plan
        .workloads
        .first()
        .and_then(|w| w.target_hosts(port).into_iter().next())
        .map(|host| host.trim_matches(['[', ']']).to_string())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let upstream = tokio::net::lookup_host((host.as_str(), port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| CampaignError::Proxy(format!("cannot resolve {host}:{port}")))?;
    let listen = std::net::SocketAddr::new(upstream.ip(), 0);
    Proxy::start(listen, upstream)
        .await
        .map(Some)
        .map_err(|e| CampaignError::Proxy(format!("cannot listen on {listen}: {e}")))
}

fn phase_record(phase: &PhasePlan, clock: &RunClock) -> PhaseRecord {
    let (model, planned_rate, connections) = match phase.model {
        LoadModel::Open {
            rate,
            max_connections,
        } => ("open", Some(rate), max_connections),
        LoadModel::Closed { connections } => ("closed", None, connections),
    };
    PhaseRecord {
        name: phase.name.clone(),
        kind: phase.kind.as_str().to_string(),
        model: model.to_string(),
        planned_rate,
        connections: connections as u64,
        warmup: phase.warmup,
        planned_duration: phase.duration,
        started: clock.elapsed(),
        ended: None,
        parent: None,
        size: None,
    }
}

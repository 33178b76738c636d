//! The conductor: runs a plan against a live service and records the evidence.
//!
//! Owns: the order of a campaign (start the service, run each phase, stop the
//! service), the one record stream, signal handling, and handing every record to
//! the evidence sink as it arrives (the conductor is the store's only writer).
//! Does not own: how load is offered (`load`), how the service is supervised
//! (`service`), where records are kept (the [`EvidenceSink`] the caller passes: the
//! SQLite store, implemented in `evidence`), or how evidence is judged — the caller
//! evaluates the stored run afterwards (`api::run`), and a ramp's climb-on rule
//! comes in as a [`StepJudge`], so this layer imports neither `evidence` nor
//! `evaluate`.

mod faults;
mod limits;
pub mod manifest;
pub mod ramp;
pub mod scaling;
mod sink;

pub use sink::{EvidenceSink, NoObserver, RunObserver, SinkError, StepJudge};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::fault::proxy::Proxy;
use crate::load::{self, LoadContext, LoadError};
use crate::model::{EventKind, PhaseRecord, RunId, RunStatus};
use crate::model::{Record, RecordReceiver, RecordSender, RunClock};
use crate::plan::{FaultPlan, LoadModel, PhasePlan, Plan};
use crate::service::{self, ServiceContext, ServiceError};

/// How to run a campaign.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub spec_path: PathBuf,
    pub spec_text: String,
    /// The directory under which `runs/<run id>/` keeps the service's logs (the
    /// evidence store's directory).
    pub log_root: PathBuf,
    /// Send load to non-loopback targets.
    pub allow_remote: bool,
    /// Whether a ramp climbs on after a step (evaluation's rule).
    pub judge: StepJudge,
}

/// What a finished (or stopped) campaign left behind in the sink.
#[derive(Debug)]
pub struct Conducted {
    pub run_id: RunId,
    pub status: RunStatus,
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
    #[error("{0}")]
    Sink(SinkError),
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
    #[error(transparent)]
    BadInput(#[from] crate::badinput::BadInputError),
}

/// Run `plan`, handing every record to `sink` (and showing it to `observer`) as it
/// arrives. The caller judges the stored run afterwards.
pub async fn conduct(
    plan: &Plan,
    options: &RunOptions,
    sink: &mut dyn EvidenceSink,
    observer: &mut dyn RunObserver,
) -> Result<Conducted, RunError> {
    refuse_remote(plan, options.allow_remote)?;
    let manifest = manifest::build(&plan.name, &options.spec_path, &options.spec_text);
    let run_id = sink.begin_run(&manifest).map_err(RunError::Sink)?;
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
    let log_dir = options.log_root.join("runs").join(run_id.to_string());
    let campaign = tokio::spawn(campaign(
        Arc::new(plan.clone()),
        CampaignContext {
            clock,
            records,
            cancel: cancel.clone(),
            spec_dir,
            log_dir,
            judge: options.judge,
        },
    ));
    let watch = limits::LimitWatch::new(plan.limits);
    let mut recorder = Recorder {
        sink,
        observer,
        run_id,
        clock,
        cancel: &cancel,
        watch,
    };
    let recorded = recorder.record_all(receiver).await;
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
        let kind = EventKind::Failure {
            message: message.clone(),
        };
        recorder.write(&clock.event(kind))?;
    }
    let status = if interrupted.is_some() || failure.is_some() || emergency_stop.is_some() {
        RunStatus::Aborted
    } else {
        RunStatus::Completed
    };
    let sink = recorder.sink;
    sink.finish_run(run_id, status, manifest::now_ms())
        .map_err(RunError::Sink)?;
    Ok(Conducted {
        run_id,
        status,
        interrupted,
        emergency_stop,
        failure,
    })
}

/// Refuse a plan that targets non-loopback hosts unless `allow_remote` is set.
pub fn refuse_remote(plan: &Plan, allow_remote: bool) -> Result<(), RunError> {
    let remote = plan.remote_targets();
    if remote.is_empty() || allow_remote {
        Ok(())
    } else {
        Err(RunError::RemoteTargets(remote))
    }
}

/// Why the record stream ended early, if it did.
#[derive(Debug, Default)]
struct Stopped {
    interrupted: Option<String>,
    emergency_stop: Option<String>,
}

/// The receiving end of the record stream: writes each record to the sink, shows it
/// to the observer, and watches it against the `[limits]`.
struct Recorder<'a> {
    sink: &'a mut dyn EvidenceSink,
    observer: &'a mut dyn RunObserver,
    run_id: RunId,
    clock: RunClock,
    cancel: &'a CancellationToken,
    watch: limits::LimitWatch,
}

impl Recorder<'_> {
    /// Cancel the campaign for signal `name`; the event that records it.
    fn interrupt(&self, name: &str) -> Record {
        self.cancel.cancel();
        self.clock.event(EventKind::Interrupted {
            signal: name.to_string(),
        })
    }

    fn write(&mut self, record: &Record) -> Result<(), RunError> {
        self.sink.write(self.run_id, record).map_err(RunError::Sink)
    }

    /// Receive every record until all producers are done, writing each to the sink.
    /// The first SIGINT/SIGTERM/SIGHUP is recorded and cancels the campaign, which
    /// then winds down (drain, stop the service) while its records are still written.
    async fn record_all(&mut self, mut receiver: RecordReceiver) -> Result<Stopped, RunError> {
        let mut sigint = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
        let mut sigterm = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
        // A closed terminal (SIGHUP) stops the run as cleanly as Ctrl-C.
        let mut sighup = signal(SignalKind::hangup()).map_err(RunError::Signals)?;
        let mut stopped = Stopped::default();
        let mut first_error: Option<RunError> = None;
        loop {
            let waiting = stopped.interrupted.is_none();
            let (record, signalled) = tokio::select! {
                record = receiver.recv() => match record {
                    Some(record) => (record, None),
                    None => break,
                },
                _ = sigint.recv(), if waiting => (self.interrupt("SIGINT"), Some("SIGINT")),
                _ = sigterm.recv(), if waiting => (self.interrupt("SIGTERM"), Some("SIGTERM")),
                _ = sighup.recv(), if waiting => (self.interrupt("SIGHUP"), Some("SIGHUP")),
            };
            if let Some(name) = signalled {
                stopped.interrupted = Some(name.to_string());
            }
            self.observer.observe(&record);
            let mut records = vec![record];
            if let Some(kind) = self.watch.observe(&records[0]) {
                // Stop the campaign as an interrupt would: drain, stop the service.
                stopped.emergency_stop = Some(crate::model::event_detail(&kind));
                self.cancel.cancel();
                records.push(self.clock.event(kind));
            }
            for record in &records {
                if first_error.is_none()
                    && let Err(err) = self.write(record)
                {
                    // Without a store there is no point going on: stop the campaign,
                    // keep draining so producers are not blocked, report the first error.
                    self.cancel.cancel();
                    first_error = Some(err);
                }
            }
        }
        self.observer.finish();
        match first_error {
            Some(err) => Err(err),
            None => Ok(stopped),
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
    judge: StepJudge,
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
            (None, None) if phase.bad_input.is_some() => {
                let gone = || exited.borrow().is_some();
                bad_input_phase(&plan, phase, &ctx, service.port(), service.pid(), &gone).await
            }
            (None, _) if phase.scaling.is_some() => {
                let gone = || exited.borrow().is_some();
                let dir = &ctx.spec_dir;
                scaling::run_scaling(&plan, phase, load_port, &load_ctx, dir, gone)
                    .await
                    .map_err(CampaignError::from)
            }
            (Some(steps), _) => {
                let gone = || exited.borrow().is_some();
                ramp::run_ramp(&plan, phase, steps, load_port, &load_ctx, ctx.judge, gone)
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

/// A bad-input phase, straight to the service (never through the fault proxy).
async fn bad_input_phase(
    plan: &Plan,
    phase: &PhasePlan,
    ctx: &CampaignContext,
    port: u16,
    pid: u32,
    gone: &(dyn Fn() -> bool + Sync),
) -> Result<u64, CampaignError> {
    let Some(bad) = &phase.bad_input else {
        return Ok(0);
    };
    let dir = match &plan.service.cwd {
        Some(cwd) if cwd.is_absolute() => cwd.clone(),
        Some(cwd) => ctx.spec_dir.join(cwd),
        None => ctx.spec_dir.clone(),
    };
    let bad_ctx = crate::badinput::BadInputContext {
        records: ctx.records.clone(),
        cancel: ctx.cancel.clone(),
        port,
        pid,
        dir,
        spec_dir: ctx.spec_dir.clone(),
        store_dir: ctx
            .log_dir
            .parent()
            .and_then(Path::parent)
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
        gone,
    };
    crate::badinput::run_phase(plan, phase, bad, bad_ctx).await?;
    Ok(0)
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

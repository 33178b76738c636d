//! Faults during a phase: applies each fault of the phase at its planned offset and
//! lifts it at the end of its window, recording both on the run's timeline.
//!
//! Owns: the order of fault actions inside one phase, the proxy calls for network
//! faults, and the process faults (kill then restart, pause then resume, graceful
//! restart) on the service. A killed or restarted service is started again with the
//! same command and port, and the sampler follows its new pid. Does not own: the
//! proxy's mechanics (`fault::proxy`) or judging recovery (`evaluate`).

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::fault::proxy::{FaultHandle, Proxy};
use crate::model::EventKind;
use crate::plan::{FaultAction, FaultPlan, PortChoice, ServicePlan};
use crate::service::{self, RunningService, ServiceContext, ServiceError};

use crate::model::{RecordSender, RunClock};

/// What the fault runner acts on.
pub(super) struct FaultEnv<'a> {
    pub service: &'a mut RunningService,
    pub service_plan: &'a ServicePlan,
    pub service_ctx: &'a ServiceContext,
    pub proxy: Option<&'a Proxy>,
    /// The sampler's root pid, updated when the service is started again.
    pub root: &'a watch::Sender<Option<u32>>,
    pub clock: RunClock,
    pub records: RecordSender,
    pub cancel: CancellationToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A window's end sorts before another window's start at the same instant.
    End(usize),
    Start(usize),
}

/// Run `faults` (all of one phase) against offsets from `base`, the end of the
/// phase's warm-up. Lifts whatever is still in force when cancelled.
pub(super) async fn run_faults(
    faults: &[&FaultPlan],
    base: Instant,
    mut env: FaultEnv<'_>,
) -> Result<(), ServiceError> {
    let mut steps: Vec<(Duration, Step)> = Vec::new();
    for (i, fault) in faults.iter().enumerate() {
        steps.push((fault.from, Step::Start(i)));
        if let Some(to) = fault.to {
            steps.push((to, Step::End(i)));
        }
    }
    steps.sort();
    let mut handles: Vec<Option<FaultHandle>> = vec![None; faults.len()];
    let mut result = Ok(());
    for (offset, step) in steps {
        tokio::select! {
            () = tokio::time::sleep_until((base + offset).into()) => {}
            () = env.cancel.cancelled() => break,
        }
        let outcome = match step {
            Step::Start(i) => start(faults[i], &mut handles[i], &mut env).await,
            Step::End(i) => end(faults[i], handles[i].take(), &env),
        };
        if let Err(err) = outcome {
            result = Err(err);
            break;
        }
    }
    // Nothing stays in force past the phase: lift open windows, thaw a paused service.
    for (i, fault) in faults.iter().enumerate() {
        if let Some(handle) = handles[i].take() {
            let _ = end(fault, Some(handle), &env);
        } else if fault.action == FaultAction::Pause {
            let _ = env.service.resume();
        }
    }
    result
}

fn record(env: &FaultEnv<'_>, kind: EventKind) {
    // A closed channel means the conductor is gone; nothing left to record to.
    let _ = env.records.send(env.clock.event(kind));
}

fn applied(fault: &FaultPlan) -> EventKind {
    EventKind::FaultApplied {
        fault: fault.label.clone(),
        phase: fault.phase.clone(),
    }
}

fn removed(fault: &FaultPlan, effect: Option<(u64, u64)>) -> EventKind {
    EventKind::FaultRemoved {
        fault: fault.label.clone(),
        phase: fault.phase.clone(),
        connections: effect.map(|(connections, _)| connections),
        bytes: effect.map(|(_, bytes)| bytes),
    }
}

async fn start(
    fault: &FaultPlan,
    handle: &mut Option<FaultHandle>,
    env: &mut FaultEnv<'_>,
) -> Result<(), ServiceError> {
    match fault.action {
        FaultAction::Network(spec) => {
            // The plan starts the proxy whenever it has a network fault.
            if let Some(proxy) = env.proxy {
                *handle = Some(proxy.apply(spec));
                record(env, applied(fault));
            }
            Ok(())
        }
        FaultAction::Pause => {
            env.service.pause()?;
            record(env, applied(fault));
            Ok(())
        }
        FaultAction::Kill => {
            record(env, applied(fault));
            env.service.kill().await?;
            start_again(fault, env).await
        }
        FaultAction::Restart => {
            record(env, applied(fault));
            env.service.stop().await?;
            start_again(fault, env).await
        }
    }
}

fn end(
    fault: &FaultPlan,
    handle: Option<FaultHandle>,
    env: &FaultEnv<'_>,
) -> Result<(), ServiceError> {
    match (fault.action, handle, env.proxy) {
        (FaultAction::Network(_), Some(handle), Some(proxy)) => {
            let effect = proxy.remove(&handle);
            record(
                env,
                removed(fault, Some((effect.connections, effect.bytes))),
            );
        }
        (FaultAction::Pause, _, _) => {
            env.service.resume()?;
            record(env, removed(fault, None));
        }
        _ => {}
    }
    Ok(())
}

/// Start the service again on the same port; the fault is over once it is ready.
async fn start_again(fault: &FaultPlan, env: &mut FaultEnv<'_>) -> Result<(), ServiceError> {
    let mut plan = env.service_plan.clone();
    plan.port = PortChoice::Fixed(env.service.port());
    *env.service = service::start(&plan, env.service_ctx).await?;
    let _ = env.root.send(Some(env.service.pid()));
    record(env, removed(fault, None));
    Ok(())
}

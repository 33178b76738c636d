//! Running a scaling phase: for each size, the loader brings the service to that many
//! items, then a measured step runs like a steady phase, stored as a phase of its own
//! (`<phase>#<n>`, kind `scaling_step`, parent the scaling phase, with its size).
//!
//! Owns: the order load-then-measure, the loader's events (`scaling_loaded`,
//! `scaling_load_failed`), and stopping at the first failed load (later sizes build on
//! the earlier items, so they would be wrong). Does not own: offering the measured
//! load (`load::run_phase`), sending the loader's requests (`load::fill`), or the fit
//! (`evaluate::scaling`).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::load::{self, LoadContext, LoadError};
use crate::model::{EventKind, PhaseRecord};
use crate::plan::{Loader, PhasePlan, Plan};

/// The kind stored for each step of a scaling phase.
pub const STEP_KIND: &str = "scaling_step";

/// Longest a setup command may run before its step fails.
const SETUP_TIMEOUT: Duration = Duration::from_secs(600);

/// The name of step `index` (0-based) of scaling phase `phase`: `phase#1`, …
pub fn step_name(phase: &str, index: usize) -> String {
    format!("{phase}#{}", index + 1)
}

/// The plan of one step: the scaling phase's measured part under the step's name.
fn step_plan(phase: &PhasePlan, index: usize) -> PhasePlan {
    PhasePlan {
        name: step_name(&phase.name, index),
        scaling: None,
        ..phase.clone()
    }
}

/// Run the steps of scaling phase `phase` until the last size is measured, a load
/// fails, the run is cancelled, or `service_gone` says the service exited. Returns
/// the requests abandoned at the drain deadlines, summed over the steps.
pub(super) async fn run_scaling(
    plan: &Plan,
    phase: &PhasePlan,
    port: u16,
    ctx: &LoadContext,
    spec_dir: &Path,
    service_gone: impl Fn() -> bool,
) -> Result<u64, LoadError> {
    let Some(scaling) = &phase.scaling else {
        return Ok(0);
    };
    let mut abandoned = 0;
    let mut held = 0;
    for (index, &size) in scaling.sizes.iter().enumerate() {
        if ctx.cancel.is_cancelled() || service_gone() {
            break;
        }
        let step = step_plan(phase, index);
        let started = Instant::now();
        let loaded = match &scaling.loader {
            Loader::Workload {
                workload,
                connections,
            } => match plan.workloads.get(*workload) {
                Some(w) => {
                    let count = size - held;
                    load::fill(w, port, held, count, *connections, &ctx.cancel)
                        .await
                        .map(|()| count)
                        .map_err(|e| e.to_string())
                }
                None => Err(format!("workload index {workload} is not in the plan")),
            },
            Loader::Setup { command } => setup(command, size, spec_dir, ctx).await.map(|()| 0),
        };
        let kind = match &loaded {
            Ok(requests) => EventKind::ScalingLoaded {
                phase: step.name.clone(),
                size,
                requests: *requests,
                took: started.elapsed(),
            },
            Err(message) => EventKind::ScalingLoadFailed {
                phase: step.name.clone(),
                size,
                message: message.clone(),
            },
        };
        let _ = ctx.records.send(ctx.clock.event(kind));
        if loaded.is_err() {
            break;
        }
        held = size;
        let record = PhaseRecord {
            kind: STEP_KIND.to_string(),
            parent: Some(phase.name.clone()),
            size: Some(size),
            ..super::phase_record(&step, &ctx.clock)
        };
        let measure = async { (load::run_phase(plan, &step, port, ctx).await, ()) };
        let (summary, step_abandoned, ()) = super::ramp::as_phase(ctx, record, measure).await;
        abandoned += step_abandoned;
        if summary?.cancelled {
            break;
        }
    }
    Ok(abandoned)
}

/// Run the setup command for `size` in the spec's directory; `Err` says why it failed.
async fn setup(
    command: &[String],
    size: u64,
    spec_dir: &Path,
    ctx: &LoadContext,
) -> Result<(), String> {
    let args = Loader::setup_command(command, size);
    let Some((program, rest)) = args.split_first() else {
        return Err("the setup command is empty".to_string());
    };
    let child = Command::new(program)
        .args(rest)
        .current_dir(spec_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start setup command {program:?}: {e}"))?;
    let output = tokio::select! {
        output = tokio::time::timeout(SETUP_TIMEOUT, child.wait_with_output()) => output,
        () = ctx.cancel.cancelled() => return Err("interrupted".to_string()),
    };
    let output = output
        .map_err(|_| format!("setup command did not finish within {SETUP_TIMEOUT:?}"))?
        .map_err(|e| format!("setup command {program:?} failed to run: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    Err(format!(
        "setup command {} exited with {}{}",
        args.join(" "),
        output.status,
        last.map_or_else(String::new, |l| format!(": {}", l.trim()))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunClock;
    use tokio_util::sync::CancellationToken;

    fn context() -> LoadContext {
        let (records, _receiver) = crate::model::channel();
        LoadContext {
            clock: RunClock::new(),
            records,
            cancel: CancellationToken::new(),
            interval: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn setup_gets_the_size_and_a_nonzero_exit_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let ok = ["sh", "-c", "echo {n} > size.txt"].map(String::from);
        setup(&ok, 4000, dir.path(), &context()).await.unwrap();
        let written = std::fs::read_to_string(dir.path().join("size.txt")).unwrap();
        assert_eq!(written.trim(), "4000");
        let bad = ["sh", "-c", "echo no room for {n} >&2; exit 3"].map(String::from);
        let err = setup(&bad, 16, dir.path(), &context()).await.unwrap_err();
        assert!(err.contains("exit status: 3"), "{err}");
        assert!(err.contains("no room for 16"), "{err}");
        let missing = ["/nonexistent/seed".to_string()];
        let err = setup(&missing, 1, dir.path(), &context())
            .await
            .unwrap_err();
        assert!(err.contains("cannot start"), "{err}");
    }
}

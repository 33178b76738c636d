//! The library façade: the one door for every front end (the command line today,
//! the MCP server next). Each function takes a spec path or a stored run and returns
//! plain data; none prints.
//!
//! Owns: the sequence of a command — load the plan, conduct the campaign into the
//! store, read the run back, judge it, store the judgement, build the report model —
//! so that no front end repeats it — and how each command opens the store
//! ([`StoreAccess`]: reading commands read-only, so they never write). Does not own:
//! any of those steps (each is its layer's), printing, or exit codes (`cli`, `exit`).
//!
//! Evaluation always reads the run back from the store (rule 6: a report tells the
//! story of the stored evidence, however often it is re-judged or re-rendered).

mod locate;
mod preflight;

use std::path::{Path, PathBuf};

pub use locate::{STORE_DIR, STORE_FILE, store_for_run};

pub use crate::evidence::{Store, StoreError};
pub use crate::model::{
    Decision, Finding, IntervalRecord, IntervalStats, Record, RunEvidence, RunId, RunSummary,
    Verdict,
};
pub use crate::plan::{LoadModel, Plan, StopConditions};
pub use crate::report::{Format, ReportModel, render, render_comparison, runs_table};
pub use crate::run::{Conducted, NoObserver, RunError, RunObserver};
pub use crate::spec::SpecError;
pub use crate::units::format;

use crate::evaluate;
use crate::plan;
use crate::run::{self, RunOptions};
use crate::verdict;

/// Everything the façade can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    /// A request that cannot be served as asked (no such store, no runs yet).
    #[error("{0}")]
    Usage(String),
    /// A spec that cannot judge the run: other phases or workloads.
    #[error(
        "{spec} does not describe run {run}: {}; re-judge a run with a spec of its own campaign (the same phases and workloads), changing only the criteria",
        .differences.join("; ")
    )]
    Mismatch {
        spec: String,
        run: RunId,
        differences: Vec<String>,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A spec that passed `check`: its plan, its text as read, and what the plan makes
/// certain (criteria that can only end INCONCLUSIVE), one sentence each.
#[derive(Debug)]
pub struct Checked {
    pub plan: Plan,
    pub text: String,
    pub warnings: Vec<String>,
}

/// Read and validate the spec at `path` for a run on this machine: the spec itself,
/// that the service's program exists, and that gonogo may open the file descriptors
/// the campaign's connections need (after raising its soft limit to the hard one).
/// Returns the plan and what it makes certain.
pub fn check(path: &Path) -> Result<Checked, ApiError> {
    let (plan, text) = plan::load(path)?;
    if let Some(err) = preflight::missing_program(&plan, path, &text) {
        return Err(ApiError::Spec(err));
    }
    if let Some(err) = preflight::fd_limit(&plan, path, &text) {
        return Err(ApiError::Spec(err));
    }
    let mut warnings = plan::warnings::certain_inconclusive(&plan);
    warnings.extend(crate::service::detached_warning(&plan.service.command));
    Ok(Checked {
        plan,
        text,
        warnings,
    })
}

/// How to run a campaign.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub spec_path: PathBuf,
    /// The evidence store to record into (created when missing).
    pub store_path: PathBuf,
    /// Send load to non-loopback targets.
    pub allow_remote: bool,
}

/// A run as stored and judged.
#[derive(Debug)]
pub struct Judged {
    pub evidence: RunEvidence,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// Which of the run's stored judgements this is.
    pub judgement: Judgement,
}

/// One judgement of a run: its place among the run's stored judgements (1-based,
/// oldest first; 0 of 0 for a run never judged, judged as it was read and not
/// stored), when it was made, and the hash of the spec that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub number: u32,
    pub of: u32,
    pub created_at_ms: i64,
    pub spec_hash: String,
}

impl Judged {
    /// The report model of this judgement.
    pub fn report(&self) -> ReportModel {
        ReportModel::build(&self.evidence, &self.findings, &self.verdict)
    }
}

/// What a run left behind: how the campaign ended (and why early, if it did), and
/// the judged evidence.
#[derive(Debug)]
pub struct RunResult {
    pub conducted: Conducted,
    pub judged: Judged,
}

/// Run `plan` (read from `spec_text`), recording into the store of `request`, then
/// judge the stored run and store the judgement. `observer` sees every record live.
/// Refused before anything starts when the campaign's connections need more file
/// descriptors than the hard limit allows (as [`check`] does).
pub async fn run(
    plan: &Plan,
    spec_text: &str,
    request: &RunRequest,
    observer: &mut dyn RunObserver,
) -> Result<RunResult, ApiError> {
    // Refused before the store is created: nothing was run.
    run::refuse_remote(plan, request.allow_remote)?;
    if let Some(err) = preflight::fd_limit(plan, &request.spec_path, spec_text) {
        return Err(ApiError::Spec(err));
    }
    let mut store = Store::open(&request.store_path)?;
    let options = RunOptions {
        spec_path: request.spec_path.clone(),
        spec_text: spec_text.to_string(),
        log_root: store_dir(&request.store_path),
        allow_remote: request.allow_remote,
        judge: step_good,
    };
    let conducted = run::conduct(plan, &options, &mut store, observer).await?;
    let judged = judge(&mut store, conducted.run_id, plan, &spec_hash_of(spec_text))?;
    Ok(RunResult { conducted, judged })
}

/// [`run`] on a runtime of its own, for front ends that are not async.
pub fn run_blocking(
    plan: &Plan,
    spec_text: &str,
    request: &RunRequest,
    observer: &mut dyn RunObserver,
) -> Result<RunResult, ApiError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ApiError::Runtime)?;
    runtime.block_on(run(plan, spec_text, request, observer))
}

/// Evaluation's climb-on rule for a ramp step, as the conductor asks it live.
fn step_good(measured: &[&IntervalRecord], rate: f64, stop: &StopConditions) -> bool {
    evaluate::climb_on(&evaluate::judge_step(measured, rate, stop).verdict)
}

/// The directory of the store file (where `runs/<id>/` keeps logs and reports).
pub fn store_dir(store_path: &Path) -> PathBuf {
    store_path.parent().unwrap_or(Path::new("")).to_path_buf()
}

fn spec_hash_of(spec_text: &str) -> String {
    run::manifest::spec_hash(spec_text)
}

/// What a command does with the store it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAccess {
    /// Only reads (`runs`, `report`): opened read-only, so a store on a full disk or a
    /// read-only medium (an archived store, a CI artefact) can be read, and a run
    /// whose writer is gone is shown aborted without being written.
    Read,
    /// Writes (`evaluate` keeps its judgement): opened for writing, so a store that
    /// cannot be written is refused before any work.
    Write,
}

/// Open an existing store; a missing file is a usage error naming it.
pub fn open_store(path: &Path, access: StoreAccess) -> Result<Store, ApiError> {
    if !path.exists() {
        return Err(ApiError::Usage(format!(
            "no evidence store at {}; pass --store PATH of an existing store",
            path.display()
        )));
    }
    Ok(open_existing(path, access)?)
}

/// Open an existing store as `access` says. Reading opens read-only; the one write a
/// reading command may make is the upgrade of a store written by an older gonogo
/// (its schema must be this build's to be read), done only where the store can be
/// written; where it cannot, the read-only refusal stands.
fn open_existing(path: &Path, access: StoreAccess) -> Result<Store, StoreError> {
    if access == StoreAccess::Write {
        return Store::open(path);
    }
    match Store::open_read_only(path) {
        Err(old @ StoreError::SchemaOld { .. }) => match Store::open_for_upgrade(path) {
            Ok(upgraded) => {
                drop(upgraded);
                Store::open_read_only(path)
            }
            Err(_) => Err(old),
        },
        opened => opened,
    }
}

/// Open the store found walking up from `start` (see [`locate`]); finding none is a
/// usage error that lists where it looked.
pub fn find_store(start: &Path, access: StoreAccess) -> Result<(PathBuf, Store), ApiError> {
    match locate::store_for_reading(start) {
        Ok(path) => {
            let store = open_existing(&path, access)?;
            Ok((path, store))
        }
        Err(looked) => {
            let looked: Vec<String> = looked.iter().map(|d| d.display().to_string()).collect();
            Err(ApiError::Usage(format!(
                "no evidence store found: looked for {STORE_DIR}/{STORE_FILE} in {} (the search stops at the top of a git repository); run a campaign first, or pass --store PATH",
                looked.join(", ")
            )))
        }
    }
}

/// The run named `text`: a run id, or `latest`.
pub fn resolve_run(store: &Store, text: &str) -> Result<RunId, ApiError> {
    if text == "latest" {
        return store
            .latest_run_id()?
            .ok_or_else(|| ApiError::Usage("the store holds no runs yet".into()));
    }
    text.parse::<RunId>().map_err(|_| {
        ApiError::Usage(format!(
            "{text:?} is not a run id; use a number from the `runs` command, or `latest`"
        ))
    })
}

/// The stored runs, oldest first.
pub fn list_runs(store: &Store) -> Result<Vec<RunSummary>, ApiError> {
    Ok(store.list_runs()?)
}

/// Judge stored run `run_id` with `plan`'s criteria (whose spec hashes to
/// `spec_hash`), reading the evidence back from the store, and store the judgement.
pub fn judge(
    store: &mut Store,
    run_id: RunId,
    plan: &Plan,
    spec_hash: &str,
) -> Result<Judged, ApiError> {
    let evidence = store.load_run(run_id)?;
    judge_loaded(store, evidence, plan, spec_hash)
}

fn judge_loaded(
    store: &mut Store,
    evidence: RunEvidence,
    plan: &Plan,
    spec_hash: &str,
) -> Result<Judged, ApiError> {
    store.writable()?;
    let findings = evaluate::evaluate_plan(plan, &evidence);
    let verdict = verdict::decide(&findings);
    let created_at_ms = run::manifest::now_ms();
    store.record_evaluation(evidence.id, spec_hash, created_at_ms, &findings, &verdict)?;
    let of = store.judgements(evidence.id)?;
    let judgement = Judgement {
        // Judgements are numbered in order of creation; this one is the newest.
        number: of,
        of,
        created_at_ms,
        spec_hash: spec_hash.to_string(),
    };
    Ok(Judged {
        evidence,
        findings,
        verdict,
        judgement,
    })
}

/// Re-judge stored run `run_id` with the criteria of the spec at `spec_path`, kept as
/// a new judgement beside the earlier ones. A spec whose phases or workloads are not
/// the run's is refused ([`ApiError::Mismatch`]); so is a store opened read-only
/// ([`StoreError::ReadOnly`]), before anything is judged: a judgement that could not
/// be kept would be missing from `runs` and `report --judgement` afterwards.
pub fn evaluate(store: &mut Store, run_id: RunId, spec_path: &Path) -> Result<Judged, ApiError> {
    store.writable()?;
    // Only the criteria judge: the service's program need not exist any more.
    let (plan, spec_text) = plan::load(spec_path)?;
    let evidence = store.load_run(run_id)?;
    let differences = differences_from_run(&evidence, &plan);
    if !differences.is_empty() {
        return Err(ApiError::Mismatch {
            spec: spec_path.display().to_string(),
            run: run_id,
            differences,
        });
    }
    judge_loaded(store, evidence, &plan, &spec_hash_of(&spec_text))
}

/// How `plan` differs from the run's own spec (stored with it). A stored spec this
/// gonogo cannot read any more is compared by the phases the run recorded.
fn differences_from_run(evidence: &RunEvidence, plan: &Plan) -> Vec<String> {
    let manifest = &evidence.manifest;
    match plan::from_str(Path::new(&manifest.spec_path), &manifest.spec_text) {
        Ok(own) => plan::differences(&own, plan),
        Err(_) => {
            let recorded: Vec<&str> = evidence
                .phases
                .iter()
                .filter(|p| p.parent.is_none())
                .map(|p| p.name.as_str())
                .collect();
            plan.phases
                .iter()
                .filter(|p| !recorded.contains(&p.name.as_str()))
                .map(|p| format!("phase {:?} is not in the run", p.name))
                .collect()
        }
    }
}

/// Stored run `run_id` as judged by its judgement `number` (1-based, oldest first),
/// or by its latest when `number` is `None`. Only reads: a run cut off before it was
/// judged (gonogo was killed, or its disk filled) is judged now by the criteria of
/// the spec stored with it, every time it is read, and that judgement is not stored
/// (its [`Judgement::number`] is 0); `evaluate` is what keeps a judgement.
pub fn stored(store: &Store, run_id: RunId, number: Option<u32>) -> Result<Judged, ApiError> {
    let evidence = store.load_run(run_id)?;
    let stored = match number {
        Some(n) => Some(store.evaluation(run_id, n)?.ok_or_else(|| {
            ApiError::Usage(format!(
                "run {run_id} has no judgement {n}; `runs` lists how many it has"
            ))
        })?),
        None => store.latest_evaluation(run_id)?,
    };
    match stored {
        Some(evaluation) => Ok(Judged {
            evidence,
            judgement: Judgement {
                number: evaluation.number,
                of: evaluation.of,
                created_at_ms: evaluation.created_at_ms,
                spec_hash: evaluation.spec_hash,
            },
            findings: evaluation.findings,
            verdict: evaluation.verdict,
        }),
        None => {
            let manifest = &evidence.manifest;
            let plan = plan::from_str(Path::new(&manifest.spec_path), &manifest.spec_text)?;
            let findings = evaluate::evaluate_plan(&plan, &evidence);
            let verdict = verdict::decide(&findings);
            let judgement = Judgement {
                number: 0,
                of: 0,
                created_at_ms: run::manifest::now_ms(),
                spec_hash: manifest.spec_hash.clone(),
            };
            Ok(Judged {
                evidence,
                findings,
                verdict,
                judgement,
            })
        }
    }
}

/// Whether the run of a report model never got to measure (its service was never
/// ready): re-rendering it exits as the run did, with the tool-failure code.
pub fn could_not_run(model: &ReportModel) -> bool {
    use crate::report::StopKind;
    model
        .stopped
        .as_ref()
        .is_some_and(|stop| stop.kind == StopKind::CouldNotRun)
}

/// The decision a report model shows.
pub fn decision_of(model: &ReportModel) -> Decision {
    use crate::report::model::DecisionLabel;
    match model.verdict.decision {
        DecisionLabel::Go => Decision::Go,
        DecisionLabel::NoGo => Decision::NoGo,
        DecisionLabel::Inconclusive => Decision::Inconclusive,
    }
}

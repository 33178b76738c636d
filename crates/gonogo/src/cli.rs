//! The command line: parse arguments, call the library, map errors to exit codes.
//!
//! Owns: the subcommands (`run`, `runs`, `report`, `evaluate`, `check`), where the
//! evidence store is by default, and the mapping from every error to one of the
//! documented exit codes (`exit`). Printing happens here and nowhere in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::evidence::{Store, StoreError};
use crate::exit;
use crate::model::{Finding, RunEvidence, RunId, Verdict};
use crate::plan;
use crate::report::{self, Format, ReportModel};
use crate::run::{self, RunError, RunOptions};
use crate::spec::SpecError;
use crate::verdict;

/// The evidence store's file name inside its `.gonogo` directory.
const STORE_DIR: &str = ".gonogo";
const STORE_FILE: &str = "evidence.db";

#[derive(Debug, Parser)]
#[command(
    name = "gonogo",
    version,
    about = "Start a service, run a readiness campaign against it, and decide GO / NO-GO / INCONCLUSIVE from the evidence recorded.",
    after_help = exit::HELP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the campaign in SPEC: start the service, offer the load, judge, report.
    Run(RunArgs),
    /// List the stored runs.
    Runs(StoreArgs),
    /// Re-render a stored run from the evidence store.
    Report(ReportArgs),
    /// Re-judge a stored run's evidence with the criteria of another spec.
    Evaluate(EvaluateArgs),
    /// Validate a spec without running it.
    Check {
        /// The campaign spec (TOML).
        spec: PathBuf,
    },
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// Evidence store path [default: .gonogo/evidence.db beside --spec, else in the current directory].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Use the store beside this spec.
    #[arg(long)]
    spec: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The campaign spec (TOML).
    spec: PathBuf,
    /// Evidence store path [default: .gonogo/evidence.db beside the spec].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Allow load against non-loopback targets.
    #[arg(long)]
    allow_remote: bool,
    /// Format of the report printed at the end: terminal, json, md, html or junit.
    #[arg(long, default_value = "terminal")]
    format: String,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// No live progress display.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Run id (see `gonogo runs`) or `latest`.
    run: String,
    /// Report format: terminal, json, md, html or junit.
    #[arg(long, default_value = "terminal")]
    format: String,
    /// Compare with this run (id or `latest`): each criterion side by side with the
    /// plain difference (terminal or md).
    #[arg(long, value_name = "RUN")]
    against: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// Run id (see `gonogo runs`) or `latest`.
    run: String,
    /// The spec whose criteria judge the stored evidence.
    #[arg(long)]
    spec: PathBuf,
    /// Evidence store path [default: .gonogo/evidence.db beside --spec].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Report format: terminal, json, md, html or junit.
    #[arg(long, default_value = "terminal")]
    format: String,
}

/// Everything that can stop a command, each with its exit code.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Spec(_) | CliError::Usage(_) => exit::INVALID,
            CliError::Run(RunError::RemoteTargets(_)) => exit::INVALID,
            CliError::Store(StoreError::RunNotFound(..)) => exit::INVALID,
            CliError::Store(_) | CliError::Run(_) | CliError::Write { .. } => exit::FAILURE,
            CliError::Runtime(_) => exit::FAILURE,
        }
    }
}

/// Parse the command line and run it; returns the process exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::INVALID
            } else {
                exit::GO
            };
            let _ = err.print();
            return code;
        }
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            let mut cause = std::error::Error::source(&err);
            while let Some(inner) = cause {
                eprintln!("  caused by: {inner}");
                cause = inner.source();
            }
            err.exit_code()
        }
    }
}

fn dispatch(command: Command) -> Result<u8, CliError> {
    match command {
        Command::Run(args) => run_command(args),
        Command::Runs(args) => runs_command(&args),
        Command::Report(args) => report_command(&args),
        Command::Evaluate(args) => evaluate_command(&args),
        Command::Check { spec } => check_command(&spec),
    }
}

fn parse_format(text: &str) -> Result<Format, CliError> {
    Format::parse(text).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown report format {text:?}; use terminal, json, md, html or junit"
        ))
    })
}

fn beside(spec: &Path) -> PathBuf {
    spec.parent()
        .unwrap_or(Path::new(""))
        .join(STORE_DIR)
        .join(STORE_FILE)
}

/// The store of `runs`/`report`: --store, else beside --spec, else ./.gonogo.
fn store_path(args: &StoreArgs) -> PathBuf {
    match (&args.store, &args.spec) {
        (Some(store), _) => store.clone(),
        (None, Some(spec)) => beside(spec),
        (None, None) => Path::new(STORE_DIR).join(STORE_FILE),
    }
}

fn open_existing(path: &Path) -> Result<Store, CliError> {
    if !path.exists() {
        return Err(CliError::Usage(format!(
            "no evidence store at {}; pass --store PATH or --spec SPEC (runs are stored in .gonogo/evidence.db beside their spec)",
            path.display()
        )));
    }
    Ok(Store::open(path)?)
}

fn resolve_run(store: &Store, text: &str) -> Result<RunId, CliError> {
    if text == "latest" {
        return store
            .latest_run_id()?
            .ok_or_else(|| CliError::Usage("the store holds no runs yet".into()));
    }
    text.parse::<RunId>().map_err(|_| {
        CliError::Usage(format!(
            "{text:?} is not a run id; use a number from `gonogo runs` or `latest`"
        ))
    })
}

fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`gonogo runs | head`) is not an error worth a failure code.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn run_command(args: RunArgs) -> Result<u8, CliError> {
    let format = parse_format(&args.format)?;
    let (plan, spec_text) = plan::load(&args.spec)?;
    let options = RunOptions {
        store_path: args.store.clone().unwrap_or_else(|| beside(&args.spec)),
        spec_path: args.spec.clone(),
        spec_text,
        allow_remote: args.allow_remote,
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let outcome = runtime.block_on(run::conduct(&plan, &options))?;
    let model = ReportModel::build(&outcome.evidence, &outcome.findings, &outcome.verdict);
    if let Some(path) = &args.json {
        write_file(path, &report::render(&model, Format::Json))?;
    }
    if let Some(path) = &args.markdown {
        write_file(path, &report::render(&model, Format::Markdown))?;
    }
    print(&report::render(&model, format))?;
    let html = html_report_path(&options.store_path, outcome.run_id);
    write_html_report(&html, &model)?;
    eprintln!("report: {}", html.display());
    eprintln!(
        "evidence: run {} in {} (re-render: gonogo report {} --store {})",
        outcome.run_id,
        options.store_path.display(),
        outcome.run_id,
        options.store_path.display()
    );
    if let Some(failure) = &outcome.failure {
        eprintln!("error: the run could not complete: {failure}");
        return Ok(exit::FAILURE);
    }
    if outcome.interrupted.is_some() {
        return Ok(exit::INTERRUPTED);
    }
    if let Some(stop) = &outcome.emergency_stop {
        eprintln!("note: the campaign was stopped early: {stop}");
    }
    Ok(exit::for_decision(outcome.verdict.decision))
}

/// `<store dir>/runs/<run id>/report.html`, beside the run's service logs.
fn html_report_path(store_path: &Path, run_id: RunId) -> PathBuf {
    store_path
        .parent()
        .unwrap_or(Path::new(""))
        .join("runs")
        .join(run_id.to_string())
        .join("report.html")
}

fn write_html_report(path: &Path, model: &ReportModel) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_file(path, &report::render(model, Format::Html))
}

fn runs_command(args: &StoreArgs) -> Result<u8, CliError> {
    let store = open_existing(&store_path(args))?;
    let mut out =
        String::from("ID    STATUS     VERDICT       STARTED                   NAME  SPEC\n");
    for run in store.list_runs()? {
        let decision = run.decision.map_or("-", |d| d.as_str());
        out.push_str(&format!(
            "{:<5} {:<10} {:<13} {:<25} {}  {}\n",
            run.id,
            run.status.as_str(),
            decision,
            crate::units::format::iso8601_utc(run.started_at_ms),
            run.name,
            run.spec_path
        ));
    }
    print(&out)?;
    Ok(exit::GO)
}

fn report_command(args: &ReportArgs) -> Result<u8, CliError> {
    let format = parse_format(&args.format)?;
    let mut store = open_existing(&store_path(&args.store))?;
    let model = stored_model(&mut store, &args.run)?;
    let text = match &args.against {
        None => report::render(&model, format),
        Some(other) => {
            let reference = stored_model(&mut store, other)?;
            report::render_comparison(&model, &reference, format).ok_or_else(|| {
                CliError::Usage(format!(
                    "--against compares in the terminal or md format, not {}",
                    format.name()
                ))
            })?
        }
    };
    print(&text)?;
    Ok(exit::for_decision(verdict_of(&model)))
}

/// The report model of a stored run, judged as stored.
fn stored_model(store: &mut Store, run: &str) -> Result<ReportModel, CliError> {
    let run_id = resolve_run(store, run)?;
    let evidence = store.load_run(run_id)?;
    let (findings, verdict) = match store.latest_evaluation(run_id)? {
        Some(evaluation) => (evaluation.findings, evaluation.verdict),
        // A run cut off before it was judged (gonogo was killed): judge it now by
        // the criteria of the spec stored with it, and store that judgement.
        None => judge_with_stored_spec(store, &evidence)?,
    };
    Ok(ReportModel::build(&evidence, &findings, &verdict))
}

fn verdict_of(model: &ReportModel) -> crate::model::Decision {
    use report::model::DecisionLabel;
    match model.verdict.decision {
        DecisionLabel::Go => crate::model::Decision::Go,
        DecisionLabel::NoGo => crate::model::Decision::NoGo,
        DecisionLabel::Inconclusive => crate::model::Decision::Inconclusive,
    }
}

fn judge_with_stored_spec(
    store: &mut Store,
    evidence: &RunEvidence,
) -> Result<(Vec<Finding>, Verdict), CliError> {
    let manifest = &evidence.manifest;
    let plan = plan::from_str(Path::new(&manifest.spec_path), &manifest.spec_text)?;
    let findings = crate::evaluate::evaluate_plan(&plan, evidence);
    let verdict = verdict::decide(&findings);
    store.record_evaluation(
        evidence.id,
        &manifest.spec_hash,
        run::manifest::now_ms(),
        &findings,
        &verdict,
    )?;
    Ok((findings, verdict))
}

fn evaluate_command(args: &EvaluateArgs) -> Result<u8, CliError> {
    let format = parse_format(&args.format)?;
    let (plan, spec_text) = plan::load(&args.spec)?;
    let path = args.store.clone().unwrap_or_else(|| beside(&args.spec));
    let mut store = open_existing(&path)?;
    let run_id = resolve_run(&store, &args.run)?;
    let evidence = store.load_run(run_id)?;
    let findings = crate::evaluate::evaluate_plan(&plan, &evidence);
    let verdict = verdict::decide(&findings);
    store.record_evaluation(
        run_id,
        &run::manifest::spec_hash(&spec_text),
        run::manifest::now_ms(),
        &findings,
        &verdict,
    )?;
    let model = ReportModel::build(&evidence, &findings, &verdict);
    print(&report::render(&model, format))?;
    Ok(exit::for_decision(verdict.decision))
}

fn check_command(spec_path: &Path) -> Result<u8, CliError> {
    let (plan, _) = plan::load(spec_path)?;
    let mut out = format!(
        "{}: ok — campaign {:?}: {} workload(s), {} phase(s), {} criteria\n",
        spec_path.display(),
        plan.name,
        plan.workloads.len(),
        plan.phases.len(),
        plan.criteria.len()
    );
    for phase in &plan.phases {
        out.push_str(&format!(
            "  phase {:<16} {} {:?}, warm-up {:?}, measured {:?}",
            phase.name,
            phase.kind.as_str(),
            phase.model,
            phase.warmup,
            phase.duration
        ));
        if let Some(ramp) = &phase.ramp {
            let rates: Vec<String> = ramp.rates().iter().map(|r| format!("{r}")).collect();
            out.push_str(&format!(
                " per step; {} steps at {}/s",
                rates.len(),
                rates.join(", ")
            ));
        }
        out.push('\n');
    }
    let remote = plan.remote_targets();
    if !remote.is_empty() {
        out.push_str(&format!(
            "  note: non-loopback targets {}; `gonogo run` refuses them without --allow-remote\n",
            remote.join(", ")
        ));
    }
    print(&out)?;
    Ok(exit::GO)
}

//! The command line: parse arguments, call the library, map errors to exit codes.
//!
//! Owns: the subcommands (`run`, `runs`, `report`, `evaluate`, `check`), where the
//! evidence store is by default, and the mapping from every error to one of the
//! documented exit codes (`exit`). Printing happens here and nowhere in the library.
//! Every command goes through the library façade (`api`) and nothing else; the live
//! progress display (`progress`) is this front end's [`api::RunObserver`].

mod progress;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::api::{
    self, ApiError, Format, NoObserver, ReportModel, RunError, RunId, RunObserver, RunRequest,
    SpecError, Store, StoreAccess, StoreError,
};
use crate::exit;

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
    /// Evidence store path [default: the first .gonogo/evidence.db walking up from the
    /// current directory (or from --spec's directory) to the top of its git repository].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Find the store walking up from this spec's directory.
    #[arg(long)]
    spec: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The campaign spec (TOML).
    spec: PathBuf,
    /// Evidence store path [default: the first .gonogo/evidence.db walking up from the
    /// spec's directory; with none, a new one at the top of its git repository, or
    /// beside the spec outside a repository].
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
    /// Also write the JUnit XML report to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write the HTML report to this file (it is always written to
    /// `runs/<id>/report.html` beside the store too).
    #[arg(long)]
    html: Option<PathBuf>,
    /// No progress: neither the live bar (on a terminal) nor the plain progress lines
    /// (without one).
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
    /// Show the run's judgement N (1 = the first; every re-judgement by `evaluate`
    /// adds one) instead of its latest.
    #[arg(long, value_name = "N")]
    judgement: Option<u32>,
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
    /// Evidence store path [default: the first .gonogo/evidence.db walking up from
    /// --spec's directory].
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
    Api(#[from] ApiError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<SpecError> for CliError {
    fn from(err: SpecError) -> Self {
        CliError::Api(ApiError::Spec(err))
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        CliError::Api(ApiError::Store(err))
    }
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::INVALID,
            CliError::Api(err) => match err {
                ApiError::Spec(_) | ApiError::Usage(_) | ApiError::Mismatch { .. } => exit::INVALID,
                ApiError::Run(RunError::RemoteTargets(_)) => exit::INVALID,
                ApiError::Store(StoreError::RunNotFound(..)) => exit::INVALID,
                ApiError::Store(_) | ApiError::Run(_) | ApiError::Runtime(_) => exit::FAILURE,
            },
            CliError::Write { .. } => exit::FAILURE,
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
            say("error: ", &err.to_string());
            let mut cause = std::error::Error::source(&err);
            while let Some(inner) = cause {
                say("  caused by: ", &inner.to_string());
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

/// The store of `runs`/`report`, opened read-only (they never write: they work on a
/// full disk and on a read-only medium): --store, else found walking up from --spec's
/// directory, else from the current directory.
fn reading_store(args: &StoreArgs) -> Result<Store, CliError> {
    let read = StoreAccess::Read;
    match (&args.store, &args.spec) {
        (Some(store), _) => Ok(api::open_store(store, read)?),
        (None, Some(spec)) => Ok(api::find_store(spec_dir(spec), read)?.1),
        (None, None) => Ok(api::find_store(Path::new("."), read)?.1),
    }
}

/// The directory of a spec path (`.` for a bare file name).
fn spec_dir(spec: &Path) -> &Path {
    spec.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// How this program was invoked (`target/release/gonogo`, or `gonogo` from PATH), for
/// hints that name a command the user can paste.
fn invoked_as() -> String {
    std::env::args()
        .next()
        .filter(|arg0| arg0.contains('/'))
        .unwrap_or_else(|| "gonogo".to_string())
}

/// Refuse an output path that cannot be written, before anything runs: its
/// directory must exist, and the file must be creatable (or writable, if it exists).
fn check_writable(path: &Path) -> Result<(), CliError> {
    let unwritable = |why: String| {
        CliError::Usage(format!(
            "cannot write the report to {}: {why}; pick a writable path",
            path.display()
        ))
    };
    if path.is_dir() {
        return Err(unwritable("it is a directory".into()));
    }
    let dir = spec_dir(path);
    if !dir.is_dir() {
        return Err(unwritable(format!("{} is not a directory", dir.display())));
    }
    let existed = path.exists();
    let opened = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path);
    match opened {
        Ok(_) if existed => Ok(()),
        Ok(_) => std::fs::remove_file(path).map_err(|e| unwritable(e.to_string())),
        Err(err) => Err(unwritable(err.to_string())),
    }
}

/// Print `text` after `prefix` on stderr, line by line, with control characters
/// escaped: error texts carry what the service wrote (its stderr, a status line), which
/// must not move the cursor or repaint the terminal.
fn say(prefix: &str, text: &str) {
    let mut lines = text.lines();
    eprintln!(
        "{prefix}{}",
        api::format::printable(lines.next().unwrap_or(""))
    );
    for line in lines {
        eprintln!("  {}", api::format::printable(line));
    }
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
    let api::Checked {
        plan,
        text: spec_text,
        warnings,
    } = api::check(&args.spec)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let outputs = [
        (&args.json, Format::Json),
        (&args.markdown, Format::Markdown),
        (&args.junit, Format::Junit),
        (&args.html, Format::Html),
    ];
    let outputs: Vec<(&PathBuf, Format)> = outputs
        .into_iter()
        .filter_map(|(path, format)| path.as_ref().map(|p| (p, format)))
        .collect();
    for (path, _) in &outputs {
        check_writable(path)?;
    }
    let request = RunRequest {
        store_path: args
            .store
            .clone()
            .unwrap_or_else(|| api::store_for_run(&args.spec)),
        spec_path: args.spec.clone(),
        allow_remote: args.allow_remote,
    };
    let mut observer: Box<dyn RunObserver> = if args.quiet {
        Box::new(NoObserver)
    } else {
        Box::new(progress::Progress::new(
            &plan,
            std::io::stderr().is_terminal(),
        ))
    };
    let outcome = api::run_blocking(&plan, &spec_text, &request, observer.as_mut())?;
    let model = outcome.judged.report();
    let run = &outcome.conducted;
    for (path, format) in outputs {
        write_file(path, &api::render(&model, format))?;
    }
    print(&api::render(&model, format))?;
    let html = html_report_path(&request.store_path, run.run_id);
    write_html_report(&html, &model)?;
    eprintln!("report: {}", html.display());
    eprintln!(
        "evidence: run {} in {} (re-render: {} report {} --store {})",
        run.run_id,
        request.store_path.display(),
        invoked_as(),
        run.run_id,
        request.store_path.display()
    );
    if let Some(failure) = &run.failure {
        say("error: the run could not complete: ", failure);
        return Ok(exit::FAILURE);
    }
    if run.interrupted.is_some() {
        return Ok(exit::INTERRUPTED);
    }
    if let Some(stop) = &run.emergency_stop {
        eprintln!("note: the campaign was stopped early: {stop}");
    }
    Ok(exit::for_decision(outcome.judged.verdict.decision))
}

/// A load model in words: `open model at 500/s (up to 64 connections)`.
fn describe_model(model: &api::LoadModel) -> String {
    match model {
        api::LoadModel::Open {
            rate,
            max_connections,
        } => format!(
            "open model at {} (up to {max_connections} connections)",
            api::format::per_second(*rate)
        ),
        api::LoadModel::Closed { connections } => {
            format!("closed model, {connections} connections")
        }
    }
}

/// `<store dir>/runs/<run id>/report.html`, beside the run's service logs.
fn html_report_path(store_path: &Path, run_id: RunId) -> PathBuf {
    api::store_dir(store_path)
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
    write_file(path, &api::render(model, Format::Html))
}

fn runs_command(args: &StoreArgs) -> Result<u8, CliError> {
    let store = reading_store(args)?;
    let out = api::runs_table(&api::list_runs(&store)?);
    print(&out)?;
    Ok(exit::GO)
}

fn report_command(args: &ReportArgs) -> Result<u8, CliError> {
    let format = parse_format(&args.format)?;
    let store = reading_store(&args.store)?;
    let model = stored_model(&store, &args.run, args.judgement)?;
    let text = match &args.against {
        None => api::render(&model, format),
        Some(other) => {
            let reference = stored_model(&store, other, None)?;
            api::render_comparison(&model, &reference, format).ok_or_else(|| {
                CliError::Usage(format!(
                    "--against compares in the terminal or md format, not {}",
                    format.name()
                ))
            })?
        }
    };
    print(&text)?;
    if api::could_not_run(&model) {
        return Ok(exit::FAILURE);
    }
    Ok(exit::for_decision(api::decision_of(&model)))
}

/// The report model of a stored run, as judged by its judgement `number` (the
/// latest by default).
fn stored_model(store: &Store, run: &str, number: Option<u32>) -> Result<ReportModel, CliError> {
    let run_id = api::resolve_run(store, run)?;
    Ok(api::stored(store, run_id, number)?.report())
}

fn evaluate_command(args: &EvaluateArgs) -> Result<u8, CliError> {
    let format = parse_format(&args.format)?;
    // `evaluate` keeps the judgement it makes: its store is opened for writing, and
    // one that cannot be written is refused before anything is judged.
    let mut store = match &args.store {
        Some(path) => api::open_store(path, StoreAccess::Write)?,
        None => api::find_store(spec_dir(&args.spec), StoreAccess::Write)?.1,
    };
    let run_id = api::resolve_run(&store, &args.run)?;
    let judged = api::evaluate(&mut store, run_id, &args.spec)?;
    print(&api::render(&judged.report(), format))?;
    Ok(exit::for_decision(judged.verdict.decision))
}

fn check_command(spec_path: &Path) -> Result<u8, CliError> {
    let api::Checked { plan, warnings, .. } = api::check(spec_path)?;
    let mut out = format!(
        "{}: ok — campaign {}: {} workload(s), {} phase(s), {} criteria\n",
        spec_path.display(),
        api::format::printable(&plan.name),
        plan.workloads.len(),
        plan.phases.len(),
        plan.criteria.len()
    );
    for phase in &plan.phases {
        out.push_str(&format!(
            "  phase {}: {}, {}, warm-up {}, measured {}",
            api::format::printable(&phase.name),
            phase.kind.as_str(),
            describe_model(&phase.model),
            api::format::duration(phase.warmup),
            api::format::duration(phase.duration)
        ));
        if let Some(ramp) = &phase.ramp {
            let rates: Vec<String> = ramp
                .rates()
                .iter()
                .map(|r| api::format::per_second(*r))
                .collect();
            out.push_str(&format!(
                " per step; {} steps at {}",
                rates.len(),
                rates.join(", ")
            ));
        }
        out.push('\n');
    }
    for warning in &warnings {
        out.push_str(&format!("  warning: {warning}\n"));
    }
    let remote = plan.remote_targets();
    if !remote.is_empty() {
        out.push_str(&format!(
            "  note: non-loopback targets {}; `{} run` refuses them without --allow-remote\n",
            remote.join(", "),
            invoked_as()
        ));
    }
    print(&out)?;
    Ok(exit::GO)
}

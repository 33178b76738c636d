//! The report model: everything a report shows, built once from a run's evidence, its
//! findings and its verdict, and serialised as the JSON report.
//!
//! Owns: the report's data types and their documented JSON shape (the committed
//! `schema/report.schema.json` is generated from them). Does not own: how the figures
//! are computed (`build`, `evaluate`, `stats`) nor any layout (the renderers).
//! Metric, unit and event names are plain strings so the schema does not depend on
//! the plan's types.

use schemars::JsonSchema;
use serde::Serialize;

pub use super::scaling::{ScalingFitRow, ScalingStepRow, ScalingSummary};

/// Version of the JSON report format, `MAJOR.MINOR`: the major number changes on an
/// incompatible change, the minor number when fields are added (1.1 added `timeline`
/// and `findings[].chart`; 1.2 added `integrity`, `capacity`, `soak`, `recovery`,
/// `timeline.faults` and `scaling`; 1.3 `findings[].interval`; 1.4 `findings[].scope`;
/// 1.5 `stopped`; 1.6 `phases[].plan`; 1.7 `bad_input`; 1.8 `phases[].generator_health`).
pub const FORMAT_VERSION: &str = "1.8";

/// A complete report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ReportModel {
    /// Version of this format (`"1.8"`).
    pub format_version: String,
    /// Facts about the run.
    pub run: RunInfo,
    /// The decision and its reasons.
    pub verdict: VerdictInfo,
    /// Why the run stopped before it finished, derived from its events: its headline
    /// replaces the decision in every format. Null for a completed or running run.
    pub stopped: Option<super::stop::StopInfo>,
    /// One per criterion in spec order, then the implicit findings.
    pub findings: Vec<FindingRow>,
    /// Load figures per phase and workload, in phase order, warm-up excluded.
    pub phases: Vec<PhaseSummary>,
    /// Resource figures of the service per phase, warm-up excluded.
    pub resources: Vec<ResourceSummary>,
    /// The run's timeline, in time order.
    pub events: Vec<EventRow>,
    /// Files the run produced.
    pub artifacts: Vec<ArtifactRow>,
    /// The run on one time axis, downsampled for display: what the charts draw.
    pub timeline: Timeline,
    /// What each integrity phase's read-back found, in phase order.
    pub integrity: Vec<super::integrity::IntegritySummary>,
    /// The steps of each ramp phase; absent without ramp phases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<super::capacity_chart::CapacityChart>,
    /// The trend of each leak-checked resource of each phase; absent without leak criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub soak: Vec<super::soak_chart::SoakTrend>,
    /// The recovery after each fault that ended; absent without faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<super::recovery_chart::RecoveryRow>,
    /// Scaling phases: each step's size and figures, and each quantity's exponent
    /// with its interval. Absent when the run has no scaling phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<ScalingSummary>,
    /// Bad-input phases: the cases sent, each failing case with what was sent and
    /// what came back, the failed post-conditions and the files that escaped.
    /// Absent when the run has no bad-input phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bad_input: Vec<super::bad_input::BadInputSummary>,
}

/// Facts about the run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RunInfo {
    /// The run's id in the evidence store.
    pub id: i64,
    /// Campaign name.
    pub name: String,
    /// Whether the run finished.
    pub status: RunStatusLabel,
    /// Wall-clock start, ISO-8601 UTC with milliseconds.
    pub started_at: String,
    /// Wall-clock end, ISO-8601 UTC with milliseconds; null while unfinished.
    pub ended_at: Option<String>,
    /// Wall-clock duration in seconds; null while unfinished.
    pub duration_seconds: Option<f64>,
    /// Version of gonogo that recorded the run.
    pub tool_version: String,
    /// The spec file as given on the command line.
    pub spec_path: String,
    /// SHA-256 of the spec text, lowercase hex.
    pub spec_hash: String,
    /// Git commit of the spec's directory, when it is in a repository.
    pub git_commit: Option<String>,
    /// The machine the run was recorded on.
    pub host: HostInfo,
}

/// The machine the run was recorded on.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HostInfo {
    /// Host name.
    pub hostname: String,
    /// Logical CPUs available to gonogo.
    pub cores: u32,
    /// Total memory, bytes.
    pub memory_bytes: u64,
    /// Kernel name and release.
    pub kernel: String,
}

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatusLabel {
    /// Started and not finished: in progress, or gonogo stopped without recording its end.
    Running,
    /// Finished every phase (whatever the verdict).
    Completed,
    /// Stopped early; the evidence is partial.
    Aborted,
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VerdictInfo {
    /// GO, NO-GO or INCONCLUSIVE.
    pub decision: DecisionLabel,
    /// One sentence per failed or undecided blocker; for GO, how many blockers passed.
    pub reasons: Vec<String>,
}

/// GO / NO-GO / INCONCLUSIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum DecisionLabel {
    /// Every blocker criterion passed.
    #[serde(rename = "GO")]
    Go,
    /// At least one blocker criterion failed.
    #[serde(rename = "NO-GO")]
    NoGo,
    /// No blocker failed, but at least one could not be decided (or there was none).
    #[serde(rename = "INCONCLUSIVE")]
    Inconclusive,
}

/// Result of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeLabel {
    /// The observed value meets the threshold.
    Pass,
    /// The observed value breaks the threshold.
    Fail,
    /// Not enough, or not trustworthy, evidence to decide.
    Inconclusive,
}

/// Whether a failed finding blocks the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeverityLabel {
    /// A failure gives NO-GO; an undecided finding gives INCONCLUSIVE.
    Blocker,
    /// Reported, never changes the decision.
    Advisory,
}

/// One judged criterion or implicit rule.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FindingRow {
    /// The criterion as written, or the implicit rule's name.
    pub criterion: String,
    /// True for rules gonogo applies without a criterion.
    pub implicit: bool,
    /// Phase the finding read (empty for an event outside any phase); for the other
    /// scopes their name: `run`, `a vs b`, `external name`.
    pub phase: String,
    /// What the criterion judged: `phase`, `run`, `pair` (two phases compared) or
    /// `external` (evidence gonogo did not measure). `phase` for implicit rules.
    pub scope: String,
    /// Workload the finding was restricted to; null for all of the phase's workloads.
    pub workload: Option<String>,
    /// Metric name as in specs (`latency.p99`), or `run.completed`.
    pub metric: String,
    /// Comparison operator: `<`, `<=`, `>`, `>=`, `==`.
    pub op: String,
    /// Threshold in the base unit.
    pub threshold: f64,
    /// Threshold formatted for people (`50.0 ms`).
    pub threshold_text: String,
    /// Observed value in the base unit; null when nothing could be measured.
    pub observed: Option<f64>,
    /// Observed value formatted for people, `-` when there is none.
    pub observed_text: String,
    /// Confidence interval of the observed value, for estimated figures (leak
    /// slopes and projections); null otherwise.
    pub interval: Option<IntervalInfo>,
    /// Base unit: `seconds`, `per_second`, `ratio`, `bytes`, `cores`, `count`, `boolean`,
    /// `bytes_per_hour`, `count_per_hour`, `factor`.
    pub unit: String,
    /// Pass, fail or inconclusive.
    pub outcome: OutcomeLabel,
    /// Blocker or advisory.
    pub severity: SeverityLabel,
    /// Requests (load metrics) or resource samples (resource metrics) read.
    pub samples: u64,
    /// The stretch of evidence read, when there is one.
    pub window: Option<WindowInfo>,
    /// How the value was computed, in words.
    pub method: String,
    /// Why it passed, failed or could not be decided.
    pub explanation: String,
    /// Id of the timeline chart that shows the metric (`latency`, `rate`, …); null when
    /// no chart does (service exits, run completion).
    pub chart: Option<String>,
}

/// A confidence interval in a finding's base unit.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct IntervalInfo {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Coverage, e.g. 0.95.
    pub confidence: f64,
    /// The interval formatted for people (`[1.20 MiB/h, 2.40 MiB/h]`).
    pub text: String,
}

/// A stretch of the run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WindowInfo {
    /// Start, seconds since the run started.
    pub start_seconds: f64,
    /// End, seconds since the run started; null when open-ended.
    pub end_seconds: Option<f64>,
    /// First interval index within the phase (load metrics).
    pub first_interval: Option<u32>,
    /// Last interval index within the phase, inclusive (load metrics).
    pub last_interval: Option<u32>,
}

/// Load figures of one workload in one phase, warm-up excluded. Times are seconds.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PhaseSummary {
    /// Phase name.
    pub phase: String,
    /// Workload name.
    pub workload: String,
    /// Phase kind (`steady`, …).
    pub kind: String,
    /// `open` (fixed arrival rate) or `closed` (fixed connections).
    pub model: String,
    /// Completed requests.
    pub requests: u64,
    /// Measured time: the sum of the measured interval lengths, seconds.
    pub measured_seconds: f64,
    /// Intervals read.
    pub intervals: u32,
    /// Sends the schedule planned per second (open model); null in the closed model.
    pub planned_rate: Option<f64>,
    /// Completed requests per second.
    pub achieved_rate: Option<f64>,
    /// Response time (from the intended send in the open model) percentiles.
    pub response: Percentiles,
    /// Service time (from the actual send) percentiles.
    pub service: Percentiles,
    /// 99th percentile of schedule lag (actual minus intended send); open model only.
    pub lag_p99: Option<f64>,
    /// 99th percentile of the load generator's own part of the lag: from the moment a
    /// send was both due and held by a free worker to the send. Lag beyond it is time
    /// the request waited for a free worker: a connection the service still held, or
    /// one whose answer gonogo had not read yet. Open model only.
    pub generator_delay_p99: Option<f64>,
    /// Failed requests by kind.
    pub errors: ErrorCounts,
    /// Failed over completed requests.
    pub error_rate: Option<f64>,
    /// Request bytes written.
    pub bytes_sent: u64,
    /// Response bytes read.
    pub bytes_received: u64,
    /// Intervals in which the load generator fell behind (see the evaluation rules).
    pub generator_bound_intervals: u32,
    /// Requests that waited for a free connection (the in-flight cap was reached).
    pub cap_waits: u64,
    /// Every request the open-model schedule planned in the whole phase, warm-up
    /// included: sent, or not sent and why (`planned = sent + not_sent.total`). Null
    /// in the closed model, which has no plan, and for runs stored before it was
    /// counted.
    pub plan: Option<PlanSummary>,
    /// The load generator's own health per measured interval (hiccup meter, CPU,
    /// run-queue wait, cgroup throttling, steal; see `docs/method.md`). Absent where
    /// the meter did not run (turned off, runs stored before format 1.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_health: Option<super::health::HealthSummary>,
}

/// The requests an open-model schedule planned for a workload over a whole phase
/// (warm-up included), each either sent or not sent: `planned = sent +
/// not_sent.total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PlanSummary {
    /// Requests due over the phase (at `rate` from its start, warm-up included; a
    /// stopped phase's plan ends where it was stopped).
    pub planned: u64,
    /// Requests sent (each then has an outcome, or was cut short when the run stopped).
    pub sent: u64,
    /// Requests never sent, by why.
    pub not_sent: NotSentCounts,
}

/// Planned requests never sent, by why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NotSentCounts {
    /// All of them: `busy + stopped`.
    pub total: u64,
    /// Every connection was busy (held by the service, or waiting out a timeout)
    /// from when they were due until the phase's deadline (its end plus drain).
    pub busy: u64,
    /// The run was stopped (interrupted, a limit tripped) before they were sent.
    pub stopped: u64,
}

/// Percentiles of a latency distribution, seconds; null when nothing was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Percentiles {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// 99.9th percentile.
    pub p999: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// Failed requests by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ErrorCounts {
    /// A response arrived with an unexpected status.
    pub status_mismatch: u64,
    /// The connection could not be opened.
    pub connect_error: u64,
    /// No complete response within the workload's timeout.
    pub timeout: u64,
    /// The connection broke or the response was malformed.
    pub io_error: u64,
}

impl ErrorCounts {
    /// All failed requests.
    pub fn total(&self) -> u64 {
        self.status_mismatch + self.connect_error + self.timeout + self.io_error
    }
}

/// Resource figures of the service's process tree over one phase, warm-up excluded.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ResourceSummary {
    /// Phase name.
    pub phase: String,
    /// Samples taken while the service was running.
    pub samples: u64,
    /// Largest resident set size, bytes.
    pub rss_max_bytes: Option<u64>,
    /// Mean CPU use between the first and last sample, cores.
    pub cpu_mean_cores: Option<f64>,
    /// Largest number of open file descriptors.
    pub fds_max: Option<u64>,
    /// Largest number of threads.
    pub threads_max: Option<u64>,
}

/// One event of the run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EventRow {
    /// Seconds since the run started.
    pub at_seconds: f64,
    /// Event type: `service_started`, `service_ready`, `service_exited`, `phase_started`,
    /// `phase_ended`, `interrupted`, `failure`, `emergency_stop`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened, in words.
    pub detail: String,
}

/// A file the run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ArtifactRow {
    /// What the file holds (`service.stdout`, …).
    pub name: String,
    /// Where it is, as recorded.
    pub path: String,
}

/// The run on one time axis: phase bands and the series the charts draw, each series
/// downsampled (largest-triangle-three-buckets) to at most `point_cap` points.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Timeline {
    /// Most points a series keeps; a longer series is downsampled for display.
    pub point_cap: u32,
    /// Phases in run order, as bands on the time axis.
    pub phases: Vec<PhaseBand>,
    /// Charts in display order.
    pub charts: Vec<ChartData>,
    /// Fault windows, shaded on every chart; absent without faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<super::recovery_chart::FaultBand>,
}

/// One phase on the time axis. Times are seconds since the run started.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PhaseBand {
    /// Phase name.
    pub phase: String,
    /// Phase kind (`steady`, …).
    pub kind: String,
    /// When the phase started.
    pub start_seconds: f64,
    /// When its warm-up ended and measurement began (equals the start without warm-up).
    pub measured_from_seconds: f64,
    /// When the phase ended; null when the run stopped inside it.
    pub end_seconds: Option<f64>,
}

/// One chart: series sharing a unit, drawn against the run's time axis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ChartData {
    /// Stable id (`latency`, `generator` and `generator_cpu` where the hiccup meter ran,
    /// `rate`, `errors`, `lag`, `rss`, `cpu`, `fds_threads`).
    pub id: String,
    /// Title for people.
    pub title: String,
    /// Base unit of every series: `seconds`, `per_second`, `bytes`, `cores`, `count`.
    pub unit: String,
    /// What the series are computed from, in words.
    pub method: String,
    /// The lines of the chart.
    pub series: Vec<SeriesData>,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SeriesData {
    /// Name for the legend (`response p99`).
    pub name: String,
    /// Points the evidence gave before downsampling.
    pub source_points: u32,
    /// The largest value over all source points, `[seconds, value]`; null without points.
    pub peak: Option<[f64; 2]>,
    /// The median value over all source points; null without points.
    pub median: Option<f64>,
    /// `[seconds since run start, value in the chart's unit]`, in time order.
    pub points: Vec<[f64; 2]>,
}

impl SeriesData {
    /// Whether the series was downsampled for display.
    pub fn downsampled(&self) -> bool {
        (self.points.len() as u64) < u64::from(self.source_points)
    }
}

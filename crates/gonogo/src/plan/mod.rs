//! The typed campaign plan: what `spec` becomes once it is validated and resolved.
//!
//! Owns: the types every later stage reads (durations, rates, load models, templates,
//! criteria with thresholds in base units). Does not own: TOML parsing or error
//! reporting with file/line (that is `spec`), nor any I/O. No strings that need
//! further parsing survive past this border, except URL/body templates, which are
//! pre-split into [`Template`] segments.

mod compat;
mod fault;
mod resolve;
mod scaling;
pub mod warnings;

pub use compat::differences;
pub use fault::{Direction, FaultSpec, NetFault};
pub use resolve::resolve;

#[cfg(test)]
mod bad_input_tests;
#[cfg(test)]
mod phase_tests;
#[cfg(test)]
mod scaling_tests;
#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod test_spec;

pub use scaling::{Loader, ScalingFigure, ScalingPlan, ScalingQuantity};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{LeakResource, Metric, Op, Scope, Severity};
use crate::spec;

/// Read and resolve the spec at `path`. Returns the plan and the spec text as read
/// (for the evidence store). An unreadable file is a [`spec::SpecError`] naming it.
pub fn load(path: &Path) -> Result<(Plan, String), spec::SpecError> {
    let text = std::fs::read_to_string(path).map_err(|error| spec::SpecError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        field: String::new(),
        message: format!("cannot read the spec file: {error}"),
        hint: Some("check the path; a spec is a UTF-8 TOML file".to_string()),
    })?;
    let plan = from_str(path, &text)?;
    Ok((plan, text))
}

/// Parse and resolve spec `text`. `origin` names the file in messages, gives the
/// default campaign name (its stem) and the base for the service's `cwd` (its
/// parent directory).
pub fn from_str(origin: &Path, text: &str) -> Result<Plan, spec::SpecError> {
    let spec = spec::parse(text).map_err(|d| d.into_spec_error(origin, text))?;
    resolve(&spec, origin).map_err(|d| d.into_spec_error(origin, text))
}

/// A resolved, validated campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Campaign name: the spec's `name` field, or the spec file's stem.
    pub name: String,
    pub service: ServicePlan,
    pub workloads: Vec<WorkloadPlan>,
    pub phases: Vec<PhasePlan>,
    pub criteria: Vec<CriterionPlan>,
    /// Faults, in the order written.
    pub faults: Vec<FaultPlan>,
    pub settings: Settings,
    /// Emergency stop limits (`[limits]`); all off by default.
    pub limits: Limits,
}

/// Emergency stop limits: when one trips, the conductor stops the campaign, records
/// an `emergency_stop` event, and the verdict says so.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Stop when the host's available memory (MemAvailable) falls below this, bytes.
    pub host_memory_floor: Option<u64>,
    /// Stop when the service's process tree's RSS rises above this, bytes.
    pub service_rss_ceiling: Option<u64>,
    /// Stop when a workload's error rate stays above `ratio` in consecutive intervals
    /// covering at least `window`.
    pub error_rate: Option<ErrorRateLimit>,
}

/// A sustained error rate limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRateLimit {
    pub ratio: f64,
    pub window: Duration,
}

impl Plan {
    /// Whether any fault needs the proxy between the load and the service. When it
    /// does, every workload's `{port}` is the proxy's port.
    pub fn needs_proxy(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f.action, FaultAction::Network(_)))
    }
}

/// A fault and when, inside its phase, it is in force.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// `phase kind window` as written, for events and reports.
    pub label: String,
    pub phase: String,
    pub action: FaultAction,
    /// Offset from the end of the phase's warm-up at which the fault starts (or,
    /// for kill and restart, happens).
    pub from: Duration,
    /// Offset at which it ends (network faults, pause); `None` for an instant.
    pub to: Option<Duration>,
    pub recovered_when: Recovery,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultAction {
    /// Applied by the proxy to the traffic.
    Network(crate::plan::FaultSpec),
    /// SIGKILL the service, then start it again with the same command and port.
    Kill,
    /// SIGSTOP the service's process group, SIGCONT at the window's end.
    Pause,
    /// Stop the service gracefully and start it again.
    Restart,
}

/// When the service counts as recovered after a fault: an interval meeting every
/// condition given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    pub latency_p99: Option<Duration>,
    /// A fraction in [0, 1].
    pub error_rate: Option<f64>,
}

/// Campaign-wide settings (`[settings]` in the spec, all optional).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Length of one evidence interval for load statistics (default 1 s).
    pub interval: Duration,
    /// Period of the resource sampler (default 1 s).
    pub sample_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval: Duration::from_secs(1),
            sample_interval: Duration::from_secs(1),
        }
    }
}

/// How to start, probe and stop the service under test.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    /// Program and arguments; each may contain `{port}`.
    pub command: Vec<Template>,
    pub port: PortChoice,
    /// Extra environment variables (values may contain `{port}`).
    pub env: Vec<(String, Template)>,
    /// Working directory, resolved relative to the spec file's directory.
    pub cwd: Option<PathBuf>,
    pub ready: ReadyProbe,
    pub stop: StopPlan,
    /// Expected production traffic in requests/s, for headroom.
    pub expected_rate: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// A free loopback port picked by gonogo at start.
    Auto,
    Fixed(u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadyProbe {
    pub kind: ReadyKind,
    /// Give up (environment failure) when not ready after this long.
    pub timeout: Duration,
    /// Pause between probe attempts.
    pub interval: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadyKind {
    /// GET this URL; ready on any 2xx.
    Http { url: Template },
    /// Ready when a TCP connect to `host:port` succeeds.
    Tcp { address: Template },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopPlan {
    /// Signal number sent to the service's process group for a graceful stop.
    pub signal: i32,
    /// Time to wait after the signal before SIGKILL of the whole group.
    pub grace: Duration,
}

/// One kind of request the load driver can send.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadPlan {
    pub name: String,
    /// The HTTP method, checked at plan time (`GET` for the other protocols).
    pub method: http::Method,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    /// Statuses counted as `ok`; anything else is `status_mismatch`.
    pub expect_status: Vec<u16>,
    /// Per-request timeout; a timeout is a failure recorded with its latency.
    pub timeout: Duration,
    /// Size of the key space `{key}` draws from (`key-0` .. `key-{keys-1}`).
    pub keys: u64,
    /// Share of a phase's rate or connections when a phase mixes workloads.
    pub weight: u32,
    /// What the workload speaks. For [`Protocol::Http`] the fields above describe
    /// the request; for the others `method`, `url`, `headers`, `body` and
    /// `expect_status` are empty and the variant holds the request.
    pub protocol: Protocol,
}

/// The protocol of a workload and its per-protocol request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1: `method`, `url`, `headers`, `body`, `expect_status` of the workload.
    Http,
    /// One RESP command per request; an error reply is a `status_mismatch`.
    Redis {
        /// `host:port` (only `{port}` may appear).
        address: Template,
        /// The command and its arguments, each a template.
        command: Vec<Template>,
    },
    /// One prepared statement per request, parameters sent as text; a database
    /// error is a `status_mismatch`.
    Postgres {
        /// A libpq connection string or `postgresql://` URL (only `{port}` may appear).
        config: Template,
        statement: String,
        params: Vec<Template>,
        /// Integrity only: a statement taking a key prefix as `$1` and returning
        /// keys in its first column, so a read-back can find keys never written.
        list: Option<String>,
    },
}

impl Protocol {
    /// The name used in messages and the spec: `http`, `redis` or `postgres`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Redis { .. } => "redis",
            Protocol::Postgres { .. } => "postgres",
        }
    }
}

/// A URL, header or body with placeholders, split once at plan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `{port}`: the service's port.
    Port,
    /// `{key}`: a key drawn uniformly from the workload's key space.
    Key,
    /// `{seq}`: a sequence number unique within the workload and phase.
    Seq,
    /// `{random}`: a random u64 in decimal.
    Random,
    /// `{value}`: in an integrity phase's workloads, the value unique to the write
    /// (see `integrity::keys`); nothing elsewhere (the spec refuses it there).
    Value,
}

impl Template {
    /// A template without placeholders.
    pub fn literal(text: impl Into<String>) -> Self {
        Template {
            segments: vec![Segment::Literal(text.into())],
        }
    }

    /// Render with only `{port}` known; other placeholders render as empty strings.
    /// Used for the service command, environment and probes.
    pub fn render_with_port(&self, port: u16) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Port => out.push_str(&port.to_string()),
                Segment::Key | Segment::Seq | Segment::Random | Segment::Value => {}
            }
        }
        out
    }

    /// Whether the template contains `segment`.
    pub fn uses(&self, segment: &Segment) -> bool {
        self.segments.contains(segment)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    Steady,
    /// A long steady phase whose resource samples are checked for leaks.
    Soak,
    /// Open-model steps of rising rate until a stop condition holds (breaking point).
    Ramp,
    /// Unique writes through the faults, then every key read back (lost writes).
    Integrity,
    /// Steps of growing data set size, each loaded then measured; the growth of the
    /// metrics with size is fitted on a log–log scale.
    Scaling,
    /// Hostile requests, one case at a time, then post-conditions on the service
    /// and its disk.
    BadInput,
}

impl PhaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Steady => "steady",
            PhaseKind::Soak => "soak",
            PhaseKind::Ramp => "ramp",
            PhaseKind::Integrity => "integrity",
            PhaseKind::Scaling => "scaling",
            PhaseKind::BadInput => "bad_input",
        }
    }
}

/// Leak detection settings of a soak phase (`leak = { … }` in the spec).
///
/// A resource leaks when the 95% confidence interval of its growth (Theil–Sen slope
/// of the rolling minimum, after the warm-up) excludes zero and the estimated growth
/// is at least its bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakPlan {
    /// Smallest RSS growth that counts as a leak, bytes per hour.
    pub rss_per_hour: f64,
    /// Smallest growth of open file descriptors that counts as a leak, per hour.
    pub fds_per_hour: f64,
    /// Smallest growth of threads that counts as a leak, per hour.
    pub threads_per_hour: f64,
    /// How far ahead the projected value is computed.
    pub horizon: Duration,
    /// Width of the trailing rolling minimum taken before the trend is fitted.
    pub window: Duration,
}

impl LeakPlan {
    /// The growth bound of `resource`, per hour.
    pub fn bound(&self, resource: LeakResource) -> f64 {
        match resource {
            LeakResource::Rss => self.rss_per_hour,
            LeakResource::Fds => self.fds_per_hour,
            LeakResource::Threads => self.threads_per_hour,
        }
    }
}

impl Default for LeakPlan {
    fn default() -> Self {
        LeakPlan {
            rss_per_hour: 1024.0 * 1024.0,
            fds_per_hour: 10.0,
            threads_per_hour: 10.0,
            horizon: Duration::from_secs(24 * 3600),
            window: Duration::from_secs(10),
        }
    }
}

/// Open model (fixed arrival rate) or closed model (N connections back to back).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    Open {
        /// Requests per second for the whole phase (split across its workloads by weight).
        rate: f64,
        /// In-flight cap: the most connections (hence concurrent requests) the driver opens.
        max_connections: usize,
    },
    Closed {
        connections: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhasePlan {
    pub name: String,
    pub kind: PhaseKind,
    /// Indices into [`Plan::workloads`].
    pub workloads: Vec<usize>,
    pub model: LoadModel,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Recorded but excluded from statistics.
    pub warmup: Duration,
    /// Time allowed for in-flight requests to finish at the phase end.
    pub drain: Duration,
    /// Leak detection settings; `Some` exactly for soak phases.
    pub leak: Option<LeakPlan>,
    /// Steps and stop conditions; `Some` exactly for ramp phases, whose `model` then
    /// holds the first step's rate and `duration`/`warmup` apply to each step.
    pub ramp: Option<RampPlan>,
    /// The read-back settings; `Some` exactly for integrity phases, whose one
    /// workload (in `workloads`) is the write.
    pub integrity: Option<IntegrityPlan>,
    /// Sizes and loader; `Some` exactly for scaling phases, whose `model`, `duration`
    /// and `warmup` then apply to each step's measured part.
    pub scaling: Option<ScalingPlan>,
    /// The corpus and post-conditions; `Some` exactly for bad-input phases, whose
    /// one workload gives the address and `Host`, whose `connections` caps the
    /// sockets held at once and whose `duration` bounds the whole phase.
    pub bad_input: Option<BadInputPlan>,
}

/// A bad-input phase: which cases are sent where, how long each may take, and what
/// is checked afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct BadInputPlan {
    /// The request target of every case, `{case}` replaced by the case's hostile
    /// part (default `/{case}`).
    pub target: String,
    /// A TOML file of extra cases, resolved against the spec's directory.
    pub cases_file: Option<PathBuf>,
    /// The built-in families sent (all by default).
    pub families: Vec<crate::model::CaseFamily>,
    /// Longest wait for an answer to a case sent whole.
    pub timeout: Duration,
    /// Longest a slowloris or slow-read case is kept going.
    pub slow_timeout: Duration,
    /// Pause between bytes of a slowloris or slow-read case.
    pub drip: Duration,
    /// Statuses that count as a refusal for every case; `None`: each family's own.
    pub reject: Option<Vec<u16>>,
    /// Allowed and watched directories, `{dir}` being the service's directory.
    pub confine: Option<Confine>,
    /// Names of environment variables whose values must never come back.
    pub secrets: Vec<String>,
    /// A command run after the phase (`{port}` and `{dir}` replaced); a non-zero
    /// exit is a finding.
    pub post_check: Option<Vec<String>>,
    pub post_timeout: Duration,
    /// Allowed RSS growth over the phase, as a ratio of the pre-phase RSS.
    pub rss_growth: f64,
    /// Allowed growth of open descriptors over the phase.
    pub fds_growth: u64,
}

/// Where the service may write (`allowed`) and where changes are looked for (`watch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confine {
    pub allowed: Vec<String>,
    pub watch: Vec<String>,
}

/// How an integrity phase reads its writes back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntegrityPlan {
    /// Index into [`Plan::workloads`] of the read-back workload (`read = "…"`).
    pub read: usize,
    /// Index of the listing workload (`list = "…"`), HTTP only; without one, keys
    /// that were never written are "not checked".
    pub list: Option<usize>,
    /// Wait after the writes and faults end before reading back.
    pub settle: Duration,
}

/// The steps of a ramp phase and when to stop climbing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampPlan {
    /// Rate of the first step, requests/s.
    pub start_rate: f64,
    pub growth: RampGrowth,
    /// No step goes above this rate.
    pub max_rate: f64,
    pub stop: StopConditions,
}

/// How a ramp's rate rises from one step to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RampGrowth {
    /// Add this many requests/s per step.
    Step(f64),
    /// Multiply the rate by this factor (> 1) per step.
    Factor(f64),
}

impl RampPlan {
    /// Every step's rate, from `start_rate` up to `max_rate` inclusive (at most 1000).
    pub fn rates(&self) -> Vec<f64> {
        let mut rates = Vec::new();
        let mut rate = self.start_rate;
        while rate <= self.max_rate * (1.0 + 1e-9) && rates.len() < 1000 {
            rates.push(rate);
            rate = match self.growth {
                RampGrowth::Step(step) => rate + step,
                RampGrowth::Factor(factor) => rate * factor,
            };
        }
        rates
    }
}

/// When a ramp step counts as broken (`stop_when` in the spec). Each bound is
/// exceeded strictly: a step at exactly the bound still meets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopConditions {
    /// The step's p99 response time above this breaks it.
    pub latency_p99: Option<Duration>,
    /// The step's error rate above this breaks it.
    pub error_rate: Option<f64>,
    /// Completed requests per second below `planned × (1 − shortfall)` break it.
    pub shortfall: f64,
    /// The step's p99 schedule lag above this breaks it (the service held requests).
    pub lag_p99: Option<Duration>,
}

impl Default for StopConditions {
    fn default() -> Self {
        StopConditions {
            latency_p99: None,
            error_rate: Some(0.01),
            shortfall: 0.05,
            lag_p99: None,
        }
    }
}

impl PhasePlan {
    /// Warm-up plus measured duration: how long load is offered.
    pub fn total(&self) -> Duration {
        self.warmup + self.duration
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CriterionPlan {
    /// `phase metric op value`, as written, for reports (e.g. `baseline latency.p99 <= 50ms`).
    pub label: String,
    /// The evidence judged; see [`Scope`].
    pub scope: Scope,
    /// The scope's name as findings carry it ([`Scope::label`]): the phase itself
    /// for a phase scope.
    pub phase: String,
    /// Restrict to one workload of the phase; `None` merges all its workloads.
    pub workload: Option<String>,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's base unit (see [`Metric::unit`]).
    pub threshold: f64,
    pub severity: Severity,
    /// Fewer samples than this (requests for load metrics, resource samples for
    /// resource metrics) makes the criterion INCONCLUSIVE.
    pub min_samples: u64,
}

//! The evidence model: the records a run leaves in the store.
//!
//! Owns: plain data types shared by the recorder (conductor side) and by the queries
//! that evaluation and reports read. Does not own: SQL (that is `evidence::store`),
//! nor any interpretation of the numbers (that is `evaluate`).
//!
//! Times inside a run are offsets from the run's start ([`Duration`]), so every
//! producer shares one timeline. Wall-clock times appear only in the manifest.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::histogram::IntervalHistogram;

/// Identifier of a stored run (SQLite rowid, shown to users as a plain number).
pub type RunId = i64;

/// Facts about the run, written once when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Campaign name from the plan.
    pub name: String,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// gonogo's version (`CARGO_PKG_VERSION`).
    pub tool_version: String,
    /// The spec file as given on the command line.
    pub spec_path: String,
    /// The spec's full text, so the run can be re-judged without the file.
    pub spec_text: String,
    /// SHA-256 of `spec_text`, lowercase hex.
    pub spec_hash: String,
    pub host: HostFacts,
    /// `git rev-parse HEAD` of the spec's directory, when it is in a repository.
    pub git_commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    /// Logical CPUs available to gonogo.
    pub cores: u32,
    /// Total memory (MemTotal), bytes.
    pub memory_bytes: u64,
    /// `uname -sr`-style kernel description.
    pub kernel: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: either in progress or the process died.
    Running,
    Completed,
    /// Stopped early (operator interrupt, environment failure); evidence is partial.
    Aborted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Aborted => "aborted",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        match text {
            "running" => Some(RunStatus::Running),
            "completed" => Some(RunStatus::Completed),
            "aborted" => Some(RunStatus::Aborted),
            _ => None,
        }
    }
}

/// One phase as it actually ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub name: String,
    /// `steady`, `soak`, `ramp`, `scaling`, or `ramp_step` / `scaling_step` for one
    /// step of a ramp or scaling phase.
    pub kind: String,
    /// `open` or `closed`.
    pub model: String,
    /// Planned rate (open model), requests/s.
    pub planned_rate: Option<f64>,
    /// Connections (closed model) or in-flight cap (open model).
    pub connections: u64,
    #[serde(with = "secs")]
    pub warmup: Duration,
    #[serde(with = "secs")]
    pub planned_duration: Duration,
    /// Offset from run start.
    #[serde(with = "secs")]
    pub started: Duration,
    /// Offset from run start; `None` when the run stopped inside this phase.
    #[serde(with = "opt_secs")]
    pub ended: Option<Duration>,
    /// For one step of a ramp phase: the ramp phase's name (the step's own name is
    /// `<ramp>#<n>`, its kind `ramp_step`), and likewise for the steps of a scaling
    /// phase (kind `scaling_step`). `None` for phases of the spec.
    #[serde(default)]
    pub parent: Option<String>,
    /// For one step of a scaling phase: the data set size (items) it measured.
    /// `None` for every other phase.
    #[serde(default)]
    pub size: Option<u64>,
}

/// Counts of completed requests by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub ok: u64,
    /// A response arrived with a status not in `expect_status` (HTTP), or an
    /// error answer: a Redis error reply, a PostgreSQL database error.
    pub status_mismatch: u64,
    /// The TCP connection could not be opened.
    pub connect_error: u64,
    /// No complete response within the workload's timeout.
    pub timeout: u64,
    /// The connection broke or the response was malformed.
    pub io_error: u64,
}

impl OutcomeCounts {
    pub fn total(&self) -> u64 {
        self.ok + self.failed()
    }

    pub fn failed(&self) -> u64 {
        self.status_mismatch + self.connect_error + self.timeout + self.io_error
    }

    pub fn add(&mut self, other: &OutcomeCounts) {
        self.ok += other.ok;
        self.status_mismatch += other.status_mismatch;
        self.connect_error += other.connect_error;
        self.timeout += other.timeout;
        self.io_error += other.io_error;
    }
}

/// Histogram resolution: values are microseconds, 3 significant digits.
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// A new, empty, auto-resizing histogram of microseconds.
pub fn new_histogram() -> Histogram<u64> {
    let mut histogram =
        Histogram::new(HISTOGRAM_SIGFIG).expect("3 significant digits is a valid precision");
    histogram.auto(true);
    histogram
}

/// What the load driver measured for one workload during one interval.
/// Requests are bucketed by their completion time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalStats {
    /// Response time in µs: from the intended send time (open model, coordinated
    /// omission corrected) or from the actual send (closed model) to the response's end.
    pub response: IntervalHistogram,
    /// Service time in µs: from the actual send to the response's end.
    pub service: IntervalHistogram,
    /// Schedule lag in µs: actual send minus intended send (open model; 0 in closed).
    pub lag: IntervalHistogram,
    /// The generator's own delay in µs: actual send minus the later of the intended
    /// time and the moment a connection was free. Large values mean gonogo fell behind.
    pub gen_delay: IntervalHistogram,
    pub outcomes: OutcomeCounts,
    /// Sends the schedule intended inside this interval (open model; 0 in closed).
    pub planned: u64,
    /// Requests actually sent inside this interval (by send time, unlike the
    /// completion-bucketed fields). Runs stored before this was recorded read back
    /// their completed requests here.
    pub sent: u64,
    /// The most requests of this workload in flight at once during the interval
    /// (sampled at each send and at the close), and the connections it had: equal
    /// means that at some moment every connection was held by the service. Both 0 in
    /// runs stored before this was recorded.
    pub peak_in_flight: u64,
    pub connections: u64,
    /// Requests that waited for a free connection (the in-flight cap was reached).
    pub cap_waits: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The open-model plan's requests that were not sent, as of this interval's close.
    /// `None` in the closed model (it has no plan) and in runs stored before this
    /// was counted. [`IntervalStats::merge`] adds the counted parts, so a merge of
    /// several intervals is complete only when each of them had it.
    pub not_sent: Option<NotSent>,
}

/// An interval's planned requests that were not sent (as of its close), by why.
/// With the interval's `planned` and `sent`, every planned request is accounted
/// for: `previous.waiting + planned = sent + given_up() + waiting`, and over a whole
/// phase (nothing waits after its last interval) `planned = sent + given up`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotSent {
    /// Due by the interval's end, not sent yet at its close: each waits for a free
    /// connection and is sent in a later interval, or given up there.
    pub waiting: u64,
    /// Given up because no connection came free before the phase's deadline (its
    /// end plus drain): the service held every one (or their timeouts ran).
    pub busy: u64,
    /// Given up because the run was stopped (interrupted, or a limit tripped).
    pub stopped: u64,
}

impl NotSent {
    /// Requests given up for good (not those still waiting).
    pub fn given_up(&self) -> u64 {
        self.busy + self.stopped
    }

    /// Add `other`'s counts (of another workload or shard of the same interval, or
    /// a later interval: then `waiting` is the sum, read only per interval).
    pub fn add(&mut self, other: &NotSent) {
        self.waiting += other.waiting;
        self.busy += other.busy;
        self.stopped += other.stopped;
    }
}

impl IntervalStats {
    /// Merge another interval's statistics into this one (histograms are added,
    /// never averaged).
    pub fn merge(&mut self, other: &IntervalStats) {
        other.response.add_to(&mut self.response);
        other.service.add_to(&mut self.service);
        other.lag.add_to(&mut self.lag);
        other.gen_delay.add_to(&mut self.gen_delay);
        self.outcomes.add(&other.outcomes);
        self.planned += other.planned;
        self.sent += other.sent;
        self.peak_in_flight += other.peak_in_flight;
        self.connections += other.connections;
        self.cap_waits += other.cap_waits;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        // The sum of the parts that were counted: whether every part was is for the
        // caller to ask of each (see `NotSent`).
        if let Some(theirs) = &other.not_sent {
            self.not_sent.get_or_insert_default().add(theirs);
        }
    }
}

/// One stored interval of one workload in one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRecord {
    pub phase: String,
    pub workload: String,
    /// Index within the phase, from 0.
    pub index: u32,
    /// Offset of the interval's start from the run's start.
    pub start: Duration,
    pub length: Duration,
    /// Inside the phase's warm-up: stored, excluded from statistics.
    pub warmup: bool,
    /// CPU time (user + system) the whole gonogo process used during the interval.
    pub generator_cpu_seconds: f64,
    pub stats: IntervalStats,
    /// The generator's own health over the interval (hiccup meter and scheduling
    /// evidence); `None` where the meter did not run (integrity phases, the meter
    /// turned off, runs stored before it existed).
    pub health: Option<super::GeneratorHealth>,
}

/// The service's process tree at one instant, read from /proc.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResourceSample {
    #[serde(with = "secs")]
    pub at: Duration,
    /// Processes in the tree (0 when the service is not running).
    pub processes: u32,
    /// Sum of resident set sizes, bytes.
    pub rss_bytes: u64,
    /// Cumulative CPU time (user + system) of the tree, seconds.
    pub cpu_seconds: f64,
    pub threads: u64,
    pub open_fds: u64,
    /// Host MemAvailable, bytes.
    pub host_available_bytes: u64,
}

/// Something that happened, on the run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(with = "secs")]
    pub at: Duration,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    ServiceStarted {
        pid: u32,
        port: u16,
        command: Vec<String>,
    },
    ServiceReady {
        #[serde(with = "secs")]
        after: Duration,
    },
    /// The service exited. `expected` is true when gonogo asked it to stop.
    ServiceExited {
        code: Option<i32>,
        signal: Option<i32>,
        expected: bool,
    },
    PhaseStarted {
        phase: String,
    },
    PhaseEnded {
        phase: String,
        /// Requests still in flight when the drain grace ran out.
        abandoned: u64,
    },
    /// A fault was put in force (network faults, pause) or carried out (kill, restart).
    FaultApplied {
        /// The fault as written (`phase: kind from … to …`).
        fault: String,
        phase: String,
    },
    /// A fault ended: network fault lifted, paused service resumed, or killed or
    /// restarted service ready again.
    FaultRemoved {
        fault: String,
        phase: String,
        /// Network faults: connections and bytes the fault acted on (proof of effect).
        connections: Option<u64>,
        bytes: Option<u64>,
    },
    /// The operator interrupted gonogo (Ctrl-C, SIGTERM).
    Interrupted {
        signal: String,
    },
    /// The run could not go on (service failed to start, store error, …).
    Failure {
        message: String,
    },
    /// A `[limits]` limit tripped and the campaign was stopped.
    EmergencyStop {
        /// `host_memory_floor`, `service_rss_ceiling` or `error_rate`.
        limit: String,
        /// The value that tripped it (bytes, or a ratio for `error_rate`).
        observed: f64,
        /// The limit, in the same unit.
        threshold: f64,
        /// The phase running when it tripped, if any.
        phase: Option<String>,
    },
    /// A scaling phase's loader brought the service to `size` items before a step.
    ScalingLoaded {
        /// The step (`<phase>#<n>`).
        phase: String,
        size: u64,
        /// Requests the loader sent (0 for a setup command).
        requests: u64,
        #[serde(with = "secs")]
        took: Duration,
    },
    /// A scaling phase's loader failed, so the step was not measured and the phase
    /// stopped climbing.
    ScalingLoadFailed {
        phase: String,
        size: u64,
        /// What went wrong, in words.
        message: String,
    },
}

impl EventKind {
    /// Short tag stored in its own column for queries.
    pub fn tag(&self) -> &'static str {
        match self {
            EventKind::ServiceStarted { .. } => "service_started",
            EventKind::ServiceReady { .. } => "service_ready",
            EventKind::ServiceExited { .. } => "service_exited",
            EventKind::PhaseStarted { .. } => "phase_started",
            EventKind::PhaseEnded { .. } => "phase_ended",
            EventKind::FaultApplied { .. } => "fault_applied",
            EventKind::FaultRemoved { .. } => "fault_removed",
            EventKind::Interrupted { .. } => "interrupted",
            EventKind::Failure { .. } => "failure",
            EventKind::EmergencyStop { .. } => "emergency_stop",
            EventKind::ScalingLoaded { .. } => "scaling_loaded",
            EventKind::ScalingLoadFailed { .. } => "scaling_load_failed",
        }
    }
}

/// A file the run produced (service stdout/stderr, …), recorded by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub path: String,
}

/// Everything stored about one run, as evaluation and reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvidence {
    pub id: RunId,
    pub manifest: RunManifest,
    pub status: RunStatus,
    /// Wall-clock end, ms since the epoch, when the run finished.
    pub ended_at_ms: Option<i64>,
    pub phases: Vec<PhaseRecord>,
    /// Ordered by phase start, workload, index.
    pub intervals: Vec<IntervalRecord>,
    /// Ordered by time.
    pub samples: Vec<ResourceSample>,
    /// Ordered by time.
    pub events: Vec<Event>,
    pub artifacts: Vec<Artifact>,
    /// One ledger per integrity phase that wrote, in phase order.
    pub integrity: Vec<IntegrityLedger>,
    /// One ledger per bad-input phase that ran, in phase order.
    pub bad_input: Vec<super::BadInputLedger>,
}

/// One integrity phase's writes and their read-back, as stored. Keys and values
/// are not stored: both follow from `token` and the write's sequence number (its
/// index in `writes`), see `integrity::keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrityLedger {
    pub phase: String,
    /// 8 hex characters made for this phase run; every key starts `gng-<token>-`.
    pub token: String,
    /// Offset from the run start of the write schedule's start; each write's time
    /// counts from here.
    pub writes_start: Duration,
    /// Every attempted write, by sequence number.
    pub writes: Vec<LedgerWrite>,
    /// The wait between the end of the writes and faults and the read-back.
    pub settle: Duration,
    /// `None` when no read-back was made (the run stopped before it).
    pub read_back: Option<ReadBack>,
}

/// What became of one write, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerWrite {
    pub outcome: crate::model::WriteOutcome,
    /// Milliseconds from `writes_start` to the answer (acknowledged, failed) or to
    /// the moment the write was given up (indeterminate).
    pub at_ms: u32,
}

/// The read-back of every attempted key, twice.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadBack {
    /// Offset from the run start at which the read-back began.
    pub at: Duration,
    /// The two reads of each key, by sequence number (same length as `writes`).
    pub reads: Vec<[ReadCheck; 2]>,
    /// Keys listed under the phase's prefix; `None` when the protocol or the spec
    /// gives no listing (keys never attempted are then not checked).
    pub listing: Option<Listing>,
}

/// One read of one key compared with the value its write carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadCheck {
    /// The key holds the value written.
    Match,
    Missing,
    /// The key holds another value.
    Wrong,
    /// The read failed; nothing is known.
    Error,
}

/// What a listing of the phase's prefix found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// Keys listed under the prefix.
    pub keys: u64,
    /// Of those, keys whose sequence number was never attempted (or does not parse).
    pub never_attempted: u64,
}

/// A line of `gonogo runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: RunId,
    pub name: String,
    pub spec_path: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub status: RunStatus,
    /// Aborted with no reason recorded: gonogo stopped recording without saying why
    /// (killed, crashed, or its store could not be written), so its process is gone.
    #[serde(default)]
    pub writer_gone: bool,
    /// Decision of the latest stored evaluation, if any.
    pub decision: Option<crate::model::Decision>,
    /// How many judgements the run has (re-judging adds one; none is ever replaced).
    pub judgements: u32,
}

/// Serde helpers: durations as fractional seconds.
pub mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(deserializer)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers: optional durations as fractional seconds or null.
pub mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_some(&d.as_secs_f64()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let secs = Option::<f64>::deserialize(deserializer)?;
        secs.map(|s| Duration::try_from_secs_f64(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// What became of one write, from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The service confirmed the write (2xx, `+OK`, a committed statement).
    Acknowledged,
    /// The write certainly did not happen: the connection was refused before
    /// anything was sent, or the service answered with an error.
    Failed,
    /// Sent, but no answer came (timeout, connection lost after sending): it may or
    /// may not have landed.
    Indeterminate,
}

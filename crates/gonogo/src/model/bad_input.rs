//! The evidence of a `bad_input` phase: each hostile case as sent and as answered,
//! and the post-conditions observed after the phase.
//!
//! Owns: plain data only. The bytes are kept as sent and as received (the first
//! bytes); escaping them for display is the renderers' job, judging them is
//! `evaluate::bad_input`'s.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Most bytes of an answer kept in the evidence.
pub const RECEIVED_KEPT: usize = 512;

/// One `bad_input` phase's cases and post-conditions, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadInputLedger {
    pub phase: String,
    /// Every case, in the order of the corpus.
    pub cases: Vec<BadInputCase>,
    pub post: PostConditions,
    /// The most sockets gonogo held open to the service at once during the phase.
    pub peak_sockets: u32,
    /// The phase's cap on sockets (`connections`).
    pub connections: u32,
}

/// A case family: the kind of hostility, each with its default accepted answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseFamily {
    /// `../` in its encodings, absolute paths.
    Traversal,
    /// Invalid UTF-8, NUL bytes, control characters in the target.
    Encoding,
    /// Oversized request line, header, header count or body.
    Oversize,
    /// Conflicting Content-Length and Transfer-Encoding, malformed chunked bodies.
    Framing,
    /// Unknown or malformed methods.
    Method,
    /// Hostile bodies: a JSON bomb, a body whose bytes contradict its content type.
    Body,
    /// Slowloris and slow-read.
    Slow,
}

impl CaseFamily {
    pub const ALL: [CaseFamily; 7] = [
        CaseFamily::Traversal,
        CaseFamily::Encoding,
        CaseFamily::Oversize,
        CaseFamily::Framing,
        CaseFamily::Method,
        CaseFamily::Body,
        CaseFamily::Slow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseFamily::Traversal => "traversal",
            CaseFamily::Encoding => "encoding",
            CaseFamily::Oversize => "oversize",
            CaseFamily::Framing => "framing",
            CaseFamily::Method => "method",
            CaseFamily::Body => "body",
            CaseFamily::Slow => "slow",
        }
    }

    pub fn from_name(name: &str) -> Option<CaseFamily> {
        CaseFamily::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// How a case is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// All bytes at once, then the answer is read.
    Whole,
    /// One byte per `drip` (slowloris): the service should give up on the sender.
    Dribble,
    /// All bytes at once, the answer read one byte per `drip` (slow-read); the
    /// service must stay ready for others meanwhile.
    SlowRead,
}

/// One case as sent and as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadInputCase {
    pub name: String,
    pub family: CaseFamily,
    pub delivery: Delivery,
    /// The exact bytes sent (for a dribble, the bytes it would have sent in full).
    pub sent: Vec<u8>,
    /// Statuses that count as a refusal.
    pub reject: Vec<u16>,
    /// Whether the service closing the connection without an answer is a refusal.
    pub closed_ok: bool,
    pub outcome: CaseOutcome,
    /// The first bytes of the answer ([`RECEIVED_KEPT`] at most).
    pub received: Vec<u8>,
    /// From connect to the outcome.
    #[serde(with = "super::secs")]
    pub elapsed: Duration,
    /// The environment secrets (names) whose value appeared in the answer.
    #[serde(default)]
    pub secrets_echoed: Vec<String>,
    /// Slow-read only: whether a probe on another connection failed meanwhile.
    #[serde(default)]
    pub probe_failed: Option<String>,
}

/// What the service did with a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CaseOutcome {
    /// An answer with this status line.
    Status { status: u16, line: String },
    /// The service closed (or reset) the connection without a status line.
    Closed { detail: String },
    /// No answer and no close within the case timeout.
    Hung { after_bytes: u64 },
    /// gonogo could not connect.
    ConnectFailed { detail: String },
    /// The answer was not HTTP.
    Garbage,
    /// Not sent: the phase's duration or the run ended first.
    NotSent { reason: String },
}

/// What was observed after the phase.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PostConditions {
    /// `None` when the service answered its ready probe after the phase; the error
    /// otherwise.
    pub not_ready: Option<String>,
    /// Whether the service's process exited during the phase.
    pub exited: bool,
    pub rss_before: Option<u64>,
    pub rss_after: Option<u64>,
    /// Allowed RSS growth, as a ratio of `rss_before`.
    pub rss_growth: f64,
    pub fds_before: Option<u64>,
    pub fds_after: Option<u64>,
    /// Allowed growth of open descriptors.
    pub fds_growth: u64,
    /// Files created, changed or removed under the watched roots but outside the
    /// allowed directories: each a path and what happened to it.
    pub escaped: Vec<EscapedPath>,
    /// The watched roots and the allowed directories, as resolved.
    pub watch: Vec<String>,
    pub allowed: Vec<String>,
    /// The `post_check` command and its exit status (`None`: it could not run or
    /// was killed at its timeout).
    pub post_check: Option<PostCheck>,
}

/// A path that changed outside the allowed directories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscapedPath {
    pub path: String,
    /// `created`, `changed` or `removed`.
    pub change: String,
}

/// The outcome of the `post_check` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCheck {
    pub command: Vec<String>,
    pub status: Option<i32>,
    /// Why it has no status, or the tail of its output.
    pub detail: String,
}

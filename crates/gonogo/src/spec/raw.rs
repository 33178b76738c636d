//! The spec as written: serde types that mirror the TOML file one to one.
//!
//! Owns: the user-facing shape (field names, which fields are optional) and strict
//! deserialization (`deny_unknown_fields`, no untagged enums; the few fields that
//! accept two shapes use hand-written visitors). Does not own: meaning. Values stay
//! as written (durations as strings, names as strings) with their source spans, so
//! that `plan::resolve` can validate them and point at the exact place.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

/// A whole campaign spec, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Campaign name; defaults to the spec file's stem.
    pub name: Option<Spanned<String>>,
    pub settings: Option<Spanned<RawSettings>>,
    pub service: Spanned<RawService>,
    #[serde(default)]
    pub workload: Vec<Spanned<RawWorkload>>,
    #[serde(default)]
    pub phase: Vec<Spanned<RawPhase>>,
    #[serde(default)]
    pub criterion: Vec<Spanned<RawCriterion>>,
    #[serde(default)]
    pub fault: Vec<Spanned<RawFault>>,
    pub limits: Option<Spanned<RawLimits>>,
}

/// `[limits]`: emergency stop limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub host_memory_floor: Option<Spanned<String>>,
    pub service_rss_ceiling: Option<Spanned<String>>,
    pub error_rate: Option<Spanned<String>>,
    pub error_window: Option<Spanned<String>>,
}

/// `[[fault]]`: something gonogo does to the service during a phase.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub phase: Spanned<String>,
    /// latency | bandwidth | reset | blackhole | close_after | kill | pause | restart
    pub kind: Spanned<String>,
    /// Window start and end (network faults, pause): `"30%"` of the measured
    /// duration or a duration such as `"5s"`, counted from the end of the warm-up.
    pub from: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    /// The instant of a kill or restart, written like `from`.
    pub at: Option<Spanned<String>>,
    /// to_service | to_client | both (network faults).
    pub direction: Option<Spanned<String>>,
    /// Share of connections affected, in (0, 1] (network faults).
    pub fraction: Option<Spanned<f64>>,
    pub delay: Option<Spanned<String>>,
    pub jitter: Option<Spanned<String>>,
    pub bytes_per_second: Option<Spanned<String>>,
    pub bytes: Option<Spanned<String>>,
    pub recovered_when: Option<Spanned<RawRecovery>>,
}

/// `recovered_when = { latency_p99 = "50ms", error_rate = "1%" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecovery {
    pub latency_p99: Option<Spanned<String>>,
    pub error_rate: Option<Spanned<String>>,
}

/// `[settings]`: campaign-wide intervals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub interval: Option<Spanned<String>>,
    pub sample_interval: Option<Spanned<String>>,
}

/// `[service]`: how to start, probe and stop the service under test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub command: Spanned<Vec<Spanned<String>>>,
    pub port: Option<Spanned<PortSetting>>,
    pub env: Option<BTreeMap<String, Spanned<String>>>,
    pub cwd: Option<Spanned<String>>,
    pub ready: Spanned<RawReady>,
    pub stop: Option<Spanned<RawStop>>,
    pub expected_rate: Option<Spanned<f64>>,
}

/// `ready = { http = "…" | tcp = "…", timeout, interval }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReady {
    pub http: Option<Spanned<String>>,
    pub tcp: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
}

/// `stop = { signal, grace }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStop {
    pub signal: Option<Spanned<String>>,
    pub grace: Option<Spanned<String>>,
}

/// `port = "auto"` or `port = 8080`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSetting {
    Auto,
    /// As written; range-checked by `resolve`.
    Fixed(i64),
}

impl<'de> Deserialize<'de> for PortSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;
        impl Visitor<'_> for PortVisitor {
            type Value = PortSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"auto\" or a port number between 1 and 65535")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortSetting, E> {
                Ok(PortSetting::Fixed(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortSetting, E> {
                Ok(PortSetting::Fixed(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortSetting, E> {
                if v == "auto" {
                    Ok(PortSetting::Auto)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(PortVisitor)
    }
}

/// `[[workload]]`: one kind of request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Spanned<String>,
    pub weight: Option<Spanned<i64>>,
    pub keys: Option<Spanned<i64>>,
    /// Exactly one of `http`, `redis` and `postgres` (checked by `resolve`).
    pub http: Option<Spanned<RawHttp>>,
    pub redis: Option<Spanned<RawRedis>>,
    pub postgres: Option<Spanned<RawPostgres>>,
}

/// `redis = { address, command, timeout }`: one RESP command per request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedis {
    pub address: Spanned<String>,
    pub command: Spanned<Vec<Spanned<String>>>,
    pub timeout: Option<Spanned<String>>,
}

/// `postgres = { url, statement, params, list, timeout }`: one prepared statement per
/// request, its parameters sent as text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostgres {
    pub url: Spanned<String>,
    pub statement: Spanned<String>,
    pub params: Option<Spanned<Vec<Spanned<String>>>>,
    /// Integrity reads only: a statement listing keys that start with `$1`.
    pub list: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
}

/// `http = { method, url, headers, body, expect_status, timeout }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub method: Option<Spanned<String>>,
    pub url: Spanned<String>,
    pub headers: Option<BTreeMap<String, Spanned<String>>>,
    pub body: Option<Spanned<String>>,
    pub expect_status: Option<Spanned<Vec<Spanned<i64>>>>,
    pub timeout: Option<Spanned<String>>,
}

/// `[[phase]]`: one load phase.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub workload: Option<Spanned<WorkloadRef>>,
    pub rate: Option<Spanned<f64>>,
    pub max_connections: Option<Spanned<i64>>,
    pub connections: Option<Spanned<i64>>,
    pub duration: Spanned<String>,
    pub warmup: Option<Spanned<String>>,
    pub drain: Option<Spanned<String>>,
    /// Soak phases only: leak detection settings.
    pub leak: Option<Spanned<RawLeak>>,
    /// Ramp phases only: first step's rate, requests/s.
    pub start_rate: Option<Spanned<f64>>,
    /// Ramp phases only: requests/s added per step (or `factor`).
    pub step: Option<Spanned<f64>>,
    /// Ramp phases only: rate multiplier per step (or `step`).
    pub factor: Option<Spanned<f64>>,
    /// Ramp phases only: highest step rate.
    pub max_rate: Option<Spanned<f64>>,
    /// Ramp phases only: when a step counts as broken.
    pub stop_when: Option<Spanned<RawStopWhen>>,
    /// Integrity phases only: the workload that reads a key back.
    pub read: Option<Spanned<String>>,
    /// Integrity phases only (HTTP): the workload that lists keys by prefix.
    pub list: Option<Spanned<String>>,
    /// Integrity phases only: wait after the writes and faults before reading back.
    pub settle: Option<Spanned<String>>,
    /// Scaling phases only: data set sizes (item counts), strictly increasing.
    pub sizes: Option<Spanned<Vec<Spanned<i64>>>>,
    /// Scaling phases only: the workload that writes the items (or `setup`).
    pub load: Option<Spanned<String>>,
    /// Scaling phases only: connections of the `load` workload (default 8).
    pub load_connections: Option<Spanned<i64>>,
    /// Scaling phases only: a command run before each step, `{n}` replaced by the size.
    pub setup: Option<Spanned<Vec<Spanned<String>>>>,
    /// Bad-input phases only: the corpus, its target and the post-conditions.
    pub bad_input: Option<Spanned<RawBadInput>>,
}

/// `bad_input = { target, cases, families, timeout, slow_timeout, drip, reject,
/// confine, secrets, post_check, post_timeout, rss_growth, fds_growth }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBadInput {
    pub target: Option<Spanned<String>>,
    pub cases: Option<Spanned<String>>,
    pub families: Option<Spanned<Vec<Spanned<String>>>>,
    pub timeout: Option<Spanned<String>>,
    pub slow_timeout: Option<Spanned<String>>,
    pub drip: Option<Spanned<String>>,
    pub reject: Option<Spanned<Vec<Spanned<i64>>>>,
    pub confine: Option<Spanned<RawConfine>>,
    pub secrets: Option<Spanned<Vec<Spanned<String>>>>,
    pub post_check: Option<Spanned<Vec<Spanned<String>>>>,
    pub post_timeout: Option<Spanned<String>>,
    pub rss_growth: Option<Spanned<f64>>,
    pub fds_growth: Option<Spanned<i64>>,
}

/// `confine = { allowed = ["{dir}/data"], watch = ["{dir}"] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfine {
    pub allowed: Spanned<Vec<Spanned<String>>>,
    pub watch: Spanned<Vec<Spanned<String>>>,
}

/// `stop_when = { latency_p99 = "50ms", error_rate = "1%", shortfall = "5%", lag_p99 = "100ms" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStopWhen {
    pub latency_p99: Option<Spanned<String>>,
    pub error_rate: Option<Spanned<String>>,
    pub shortfall: Option<Spanned<String>>,
    pub lag_p99: Option<Spanned<String>>,
}

/// `leak = { rss = "1MiB/h", fds = "10/h", threads = "10/h", horizon = "24h", window = "10s" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeak {
    pub rss: Option<Spanned<String>>,
    pub fds: Option<Spanned<String>>,
    pub threads: Option<Spanned<String>>,
    pub horizon: Option<Spanned<String>>,
    pub window: Option<Spanned<String>>,
}

/// `workload = "get"` or `workload = ["get", "put"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadRef {
    One(String),
    /// Each name with its own span.
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for WorkloadRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = WorkloadRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a workload name or a list of workload names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WorkloadRef, E> {
                Ok(WorkloadRef::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WorkloadRef, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<Spanned<String>>()? {
                    names.push(name);
                }
                Ok(WorkloadRef::Many(names))
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

/// `[[criterion]]`: one pass/fail rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCriterion {
    /// The scope: exactly one of `phase`, `scope` (`"run"`), `compare` and `external`.
    pub phase: Option<Spanned<String>>,
    pub scope: Option<Spanned<String>>,
    pub compare: Option<Spanned<RawCompare>>,
    pub external: Option<Spanned<String>>,
    pub workload: Option<Spanned<String>>,
    pub metric: Spanned<String>,
    pub op: Spanned<String>,
    pub value: Spanned<ThresholdValue>,
    pub severity: Option<Spanned<String>>,
    pub min_samples: Option<Spanned<i64>>,
}

/// `compare = { baseline = "a", candidate = "b" }`: two phases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    pub baseline: Spanned<String>,
    pub candidate: Spanned<String>,
}

/// A criterion's `value` as written: its meaning depends on the metric's unit.
#[derive(Debug, Clone, PartialEq)]
pub enum ThresholdValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

impl fmt::Display for ThresholdValue {
    /// The value as the user wrote it (strings without their quotes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdValue::Text(text) => f.write_str(text),
            ThresholdValue::Integer(v) => write!(f, "{v}"),
            ThresholdValue::Float(v) => write!(f, "{v}"),
            ThresholdValue::Boolean(v) => write!(f, "{v}"),
        }
    }
}

impl<'de> Deserialize<'de> for ThresholdValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl Visitor<'_> for ValueVisitor {
            type Value = ThresholdValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a threshold: a string such as \"50ms\", a number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThresholdValue, E> {
                Ok(ThresholdValue::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ThresholdValue, E> {
                Ok(ThresholdValue::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ThresholdValue, E> {
                Ok(ThresholdValue::Integer(
                    i64::try_from(v).unwrap_or(i64::MAX),
                ))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ThresholdValue, E> {
                Ok(ThresholdValue::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ThresholdValue, E> {
                Ok(ThresholdValue::Boolean(v))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

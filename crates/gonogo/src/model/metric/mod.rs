//! What a criterion can measure: [`Metric`], a closed set of metric families, each
//! family a type of its own that knows its metrics' spec names, units and docs.
//!
//! Owns: the families and their names (`latency.p99`), the identifiers findings are
//! stored under (`LatencyP99`, unchanged since the flat enum), and [`Metric::ALL`] in
//! the order the spec reference lists them. Does not own: computing them (that is
//! `evaluate`, one module per family). Adding a metric: one variant in its family
//! file (name, unit, doc) and its line in `docs/spec.md`; the compiler then lists
//! every `match` on the family that must say how to read it.

/// A metric family as one table: a line per metric with its doc, its spec name, the
/// identifier findings are stored under and its unit. Declares the enum, `ALL` (in
/// table order), `names` and `unit`, so a metric's facts stand in one place.
macro_rules! family {
    (
        $(#[$meta:meta])*
        pub enum $family:ident {
            $( $(#[$doc:meta])* $metric:ident => $spec:literal, $stored:literal, $unit:ident; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $family {
            $( $(#[$doc])* $metric, )*
        }

        impl $family {
            pub const ALL: [$family; [$($family::$metric),*].len()] = [$($family::$metric),*];

            /// `(spec name, stored identifier)`.
            pub(super) const fn names(self) -> (&'static str, &'static str) {
                match self {
                    $( $family::$metric => ($spec, $stored), )*
                }
            }

            pub const fn unit(self) -> Unit {
                match self {
                    $( $family::$metric => Unit::$unit, )*
                }
            }
        }
    };
}

mod bad_input;
mod capacity;
mod integrity;
mod latency;
mod leak;
mod recovery;
mod resource;
mod scaling;
mod service;
mod shorthand;
#[cfg(test)]
mod tests;
mod traffic;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::units::Unit;

pub use bad_input::BadInputMetric;
pub use capacity::CapacityMetric;
pub use integrity::IntegrityMetric;
pub use latency::LatencyMetric;
pub use leak::{LeakFigure, LeakResource, LeakSlope};
pub use recovery::RecoveryMetric;
pub use resource::ResourceMetric;
pub use scaling::{ScalingFigure, ScalingQuantity};
pub use service::ServiceMetric;
pub use traffic::TrafficMetric;

/// What a criterion measures, by family. Evaluation computes each from stored
/// evidence only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Response time, service time and lag percentiles of a phase's requests.
    Latency(LatencyMetric),
    /// Completed requests per second and the error rate.
    Traffic(TrafficMetric),
    /// Resource use of the service's process tree.
    Resource(ResourceMetric),
    /// Whether the service crashed.
    Service(ServiceMetric),
    /// Soak phases: the trend of a resource and whether it leaks.
    Leak(LeakResource, LeakFigure),
    /// Ramp phases: the breaking point and headroom.
    Capacity(CapacityMetric),
    /// Phases with faults: the time to recover after a fault.
    Recovery(RecoveryMetric),
    /// Integrity phases: the ledger's counts after the read-back.
    Integrity(IntegrityMetric),
    /// Scaling phases: the exponent of a quantity's growth with size.
    Scaling(ScalingQuantity, ScalingFigure),
    /// Bad-input phases: the cases answered wrongly and the failed post-conditions.
    BadInput(BadInputMetric),
}

/// How many metrics there are, family by family.
const COUNT: usize = LatencyMetric::ALL.len()
    + TrafficMetric::ALL.len()
    + ResourceMetric::ALL.len()
    + ServiceMetric::ALL.len()
    + LeakResource::ALL.len() * LeakFigure::ALL.len()
    + CapacityMetric::ALL.len()
    + RecoveryMetric::ALL.len()
    + IntegrityMetric::ALL.len()
    + ScalingQuantity::ALL.len() * ScalingFigure::ALL.len()
    + BadInputMetric::ALL.len();

/// Every metric, family after family, each family in its own order.
const fn all() -> [Metric; COUNT] {
    let mut out = [Metric::Service(ServiceMetric::Crashed); COUNT];
    let mut n = 0;
    macro_rules! push_each {
        ($all:expr, $variant:path) => {{
            let mut i = 0;
            while i < $all.len() {
                out[n] = $variant($all[i]);
                n += 1;
                i += 1;
            }
        }};
    }
    // Every pair of a two-part family, the first part outer.
    macro_rules! push_pairs {
        ($firsts:expr, $seconds:expr, $variant:path) => {{
            let mut i = 0;
            while i < $firsts.len() {
                let mut j = 0;
                while j < $seconds.len() {
                    out[n] = $variant($firsts[i], $seconds[j]);
                    n += 1;
                    j += 1;
                }
                i += 1;
            }
        }};
    }
    push_each!(LatencyMetric::ALL, Metric::Latency);
    push_each!(TrafficMetric::ALL, Metric::Traffic);
    push_each!(ResourceMetric::ALL, Metric::Resource);
    push_each!(ServiceMetric::ALL, Metric::Service);
    push_pairs!(LeakResource::ALL, LeakFigure::ALL, Metric::Leak);
    push_each!(CapacityMetric::ALL, Metric::Capacity);
    push_each!(RecoveryMetric::ALL, Metric::Recovery);
    push_each!(IntegrityMetric::ALL, Metric::Integrity);
    push_pairs!(ScalingQuantity::ALL, ScalingFigure::ALL, Metric::Scaling);
    push_each!(BadInputMetric::ALL, Metric::BadInput);
    out
}

impl Metric {
    /// All metrics, in the order the spec reference lists them.
    pub const ALL: [Metric; COUNT] = all();

    /// `(spec name, stored identifier)`, from the family.
    const fn names(self) -> (&'static str, &'static str) {
        match self {
            Metric::Latency(m) => m.names(),
            Metric::Traffic(m) => m.names(),
            Metric::Resource(m) => m.names(),
            Metric::Service(m) => m.names(),
            Metric::Leak(resource, figure) => leak::names(resource, figure),
            Metric::Capacity(m) => m.names(),
            Metric::Recovery(m) => m.names(),
            Metric::Integrity(m) => m.names(),
            Metric::Scaling(quantity, figure) => scaling::names(quantity, figure),
            Metric::BadInput(m) => m.names(),
        }
    }

    /// The name used in specs and reports, e.g. `latency.p99`.
    pub const fn name(self) -> &'static str {
        self.names().0
    }

    /// The identifier a stored finding names the metric by (`LatencyP99`): the
    /// variant name of the flat enum this type replaced, so old stores still load.
    pub const fn stored_name(self) -> &'static str {
        self.names().1
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    fn from_stored_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.stored_name() == name)
    }

    /// The unit the metric's value (and its threshold) is expressed in.
    pub const fn unit(self) -> Unit {
        match self {
            Metric::Latency(m) => m.unit(),
            Metric::Traffic(m) => m.unit(),
            Metric::Resource(m) => m.unit(),
            Metric::Service(m) => m.unit(),
            Metric::Leak(resource, figure) => figure.unit(resource),
            Metric::Capacity(m) => m.unit(),
            Metric::Recovery(m) => m.unit(),
            Metric::Integrity(m) => m.unit(),
            Metric::Scaling(..) => Unit::Exponent,
            Metric::BadInput(m) => m.unit(),
        }
    }

    /// Whether a criterion may judge the metric over the whole run (`scope = "run"`)
    /// rather than one phase.
    pub const fn judged_over_run(self) -> bool {
        match self {
            Metric::Service(_) => true,
            Metric::Latency(_)
            | Metric::Traffic(_)
            | Metric::Resource(_)
            | Metric::Leak(..)
            | Metric::Capacity(_)
            | Metric::Recovery(_)
            | Metric::Integrity(_)
            | Metric::BadInput(_)
            | Metric::Scaling(..) => false,
        }
    }

    /// For leak metrics: the resource and what is read of its trend.
    pub fn leak(self) -> Option<(LeakResource, LeakFigure)> {
        match self {
            Metric::Leak(resource, figure) => Some((resource, figure)),
            _ => None,
        }
    }

    /// For scaling metrics: the quantity and what is read of its fit.
    pub fn scaling(self) -> Option<(ScalingQuantity, ScalingFigure)> {
        match self {
            Metric::Scaling(quantity, figure) => Some((quantity, figure)),
            _ => None,
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.stored_name())
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Metric::from_stored_name(&name).ok_or_else(|| {
            serde::de::Error::unknown_variant(&name, &["a stored metric such as LatencyP99"])
        })
    }
}

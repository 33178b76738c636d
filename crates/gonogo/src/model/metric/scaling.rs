//! The scaling family: the exponent of a quantity's growth with the data set size,
//! `scaling.<quantity>.<figure>`, fitted over a scaling phase's steps.

use crate::units::Unit;

/// A quantity whose growth with the data set size is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingQuantity {
    /// Median response time of the step's measured requests.
    LatencyP50,
    /// 99th percentile response time.
    LatencyP99,
    /// Completed requests per second over the step's measured time.
    Throughput,
    /// Largest RSS of the service's process tree during the step's measured part.
    Rss,
}

impl ScalingQuantity {
    pub const ALL: [ScalingQuantity; 4] = [
        ScalingQuantity::LatencyP50,
        ScalingQuantity::LatencyP99,
        ScalingQuantity::Throughput,
        ScalingQuantity::Rss,
    ];

    /// `latency_p50`, `latency_p99`, `throughput` or `rss`, as in metric names.
    pub fn name(self) -> &'static str {
        match self {
            ScalingQuantity::LatencyP50 => "latency_p50",
            ScalingQuantity::LatencyP99 => "latency_p99",
            ScalingQuantity::Throughput => "throughput",
            ScalingQuantity::Rss => "rss",
        }
    }

    /// The unit of the quantity's per-step values.
    pub fn unit(self) -> Unit {
        match self {
            ScalingQuantity::LatencyP50 | ScalingQuantity::LatencyP99 => Unit::Seconds,
            ScalingQuantity::Throughput => Unit::PerSecond,
            ScalingQuantity::Rss => Unit::Bytes,
        }
    }
}

/// What a scaling metric reads of a quantity's fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingFigure {
    /// The OLS exponent b of metric ≈ a·size^b.
    Exponent,
    /// Upper bound of the exponent's 95% confidence interval.
    Upper,
    /// Lower bound of the exponent's 95% confidence interval.
    Lower,
}

impl ScalingFigure {
    pub const ALL: [ScalingFigure; 3] = [
        ScalingFigure::Exponent,
        ScalingFigure::Upper,
        ScalingFigure::Lower,
    ];
}

/// `(spec name, stored identifier)` of `scaling.<quantity>.<figure>`.
pub(super) const fn names(
    quantity: ScalingQuantity,
    figure: ScalingFigure,
) -> (&'static str, &'static str) {
    use ScalingFigure::{Exponent, Lower, Upper};
    use ScalingQuantity::{LatencyP50, LatencyP99, Rss, Throughput};
    match (quantity, figure) {
        (LatencyP50, Exponent) => ("scaling.latency_p50.exponent", "ScalingLatencyP50Exponent"),
        (LatencyP50, Upper) => (
            "scaling.latency_p50.exponent_upper",
            "ScalingLatencyP50ExponentUpper",
        ),
        (LatencyP50, Lower) => (
            "scaling.latency_p50.exponent_lower",
            "ScalingLatencyP50ExponentLower",
        ),
        (LatencyP99, Exponent) => ("scaling.latency_p99.exponent", "ScalingLatencyP99Exponent"),
        (LatencyP99, Upper) => (
            "scaling.latency_p99.exponent_upper",
            "ScalingLatencyP99ExponentUpper",
        ),
        (LatencyP99, Lower) => (
            "scaling.latency_p99.exponent_lower",
            "ScalingLatencyP99ExponentLower",
        ),
        (Throughput, Exponent) => ("scaling.throughput.exponent", "ScalingThroughputExponent"),
        (Throughput, Upper) => (
            "scaling.throughput.exponent_upper",
            "ScalingThroughputExponentUpper",
        ),
        (Throughput, Lower) => (
            "scaling.throughput.exponent_lower",
            "ScalingThroughputExponentLower",
        ),
        (Rss, Exponent) => ("scaling.rss.exponent", "ScalingRssExponent"),
        (Rss, Upper) => ("scaling.rss.exponent_upper", "ScalingRssExponentUpper"),
        (Rss, Lower) => ("scaling.rss.exponent_lower", "ScalingRssExponentLower"),
    }
}

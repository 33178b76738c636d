//! The plan of a scaling phase: the data set sizes, how the service is brought to
//! each size, and the quantities whose growth with size is fitted.
//!
//! Owns: [`ScalingPlan`], [`Loader`], [`ScalingQuantity`] and [`ScalingFigure`] (what
//! a `scaling.<quantity>.<figure>` metric reads). Does not own: resolving them from
//! the spec (`plan::resolve::scaling`), running the steps (`run::scaling`) or the fit
//! (`evaluate::scaling`).

use crate::model::Metric;
use crate::units::Unit;

/// Steps of data set size, each loaded and then measured like a steady phase.
///
/// The phase's `model`, `duration` and `warmup` apply to each step's measured part.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPlan {
    /// Item counts, strictly increasing, at least 3.
    pub sizes: Vec<u64>,
    pub loader: Loader,
}

/// How the service is brought to the next size before a step is measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Loader {
    /// Send a workload's requests (closed model, `connections` at once): at step k,
    /// `sizes[k] − sizes[k−1]` requests, with `{seq}` continuing across steps so every
    /// request writes a new item.
    Workload {
        /// Index into [`super::Plan::workloads`].
        workload: usize,
        connections: usize,
    },
    /// Run a command (program and arguments, `{n}` replaced by the size) before each
    /// step; a nonzero exit fails the step.
    Setup { command: Vec<String> },
}

impl Loader {
    /// The setup command with `{n}` replaced by `size`.
    pub fn setup_command(command: &[String], size: u64) -> Vec<String> {
        command
            .iter()
            .map(|arg| arg.replace("{n}", &size.to_string()))
            .collect()
    }
}

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

impl Metric {
    /// For scaling metrics: the quantity and what is read of its fit.
    pub fn scaling(self) -> Option<(ScalingQuantity, ScalingFigure)> {
        use ScalingFigure::{Exponent, Lower, Upper};
        use ScalingQuantity::{LatencyP50, LatencyP99, Rss, Throughput};
        Some(match self {
            Metric::ScalingLatencyP50Exponent => (LatencyP50, Exponent),
            Metric::ScalingLatencyP50ExponentUpper => (LatencyP50, Upper),
            Metric::ScalingLatencyP50ExponentLower => (LatencyP50, Lower),
            Metric::ScalingLatencyP99Exponent => (LatencyP99, Exponent),
            Metric::ScalingLatencyP99ExponentUpper => (LatencyP99, Upper),
            Metric::ScalingLatencyP99ExponentLower => (LatencyP99, Lower),
            Metric::ScalingThroughputExponent => (Throughput, Exponent),
            Metric::ScalingThroughputExponentUpper => (Throughput, Upper),
            Metric::ScalingThroughputExponentLower => (Throughput, Lower),
            Metric::ScalingRssExponent => (Rss, Exponent),
            Metric::ScalingRssExponentUpper => (Rss, Upper),
            Metric::ScalingRssExponentLower => (Rss, Lower),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scaling_metric_is_named_after_its_quantity_and_figure() {
        let scaling: Vec<Metric> = Metric::ALL
            .into_iter()
            .filter(|m| m.scaling().is_some())
            .collect();
        assert_eq!(scaling.len(), 12);
        for metric in scaling {
            let (quantity, figure) = metric.scaling().unwrap();
            let suffix = match figure {
                ScalingFigure::Exponent => "exponent",
                ScalingFigure::Upper => "exponent_upper",
                ScalingFigure::Lower => "exponent_lower",
            };
            assert_eq!(
                metric.name(),
                format!("scaling.{}.{suffix}", quantity.name())
            );
            assert_eq!(metric.unit(), Unit::Exponent);
            assert_eq!(Metric::from_name(metric.name()), Some(metric));
        }
    }

    #[test]
    fn setup_commands_get_the_size() {
        let command = vec!["sh".into(), "-c".into(), "seed {n} && echo {n}".into()];
        assert_eq!(
            Loader::setup_command(&command, 4000),
            vec!["sh", "-c", "seed 4000 && echo 4000"]
        );
    }
}

//! The plan of a scaling phase: the data set sizes, how the service is brought to
//! each size, and the quantities whose growth with size is fitted.
//!
//! Owns: [`ScalingPlan`] and [`Loader`]. [`ScalingQuantity`] and [`ScalingFigure`]
//! (what a `scaling.<quantity>.<figure>` metric reads) are the scaling metric
//! family's, in `model`, re-exported here. Does not own: resolving them from
//! the spec (`plan::resolve::scaling`), running the steps (`run::scaling`) or the fit
//! (`evaluate::scaling`).

pub use crate::model::{ScalingFigure, ScalingQuantity};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Metric;
    use crate::units::Unit;

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

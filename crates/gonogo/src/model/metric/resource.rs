//! The resources family: RSS, CPU, file descriptors and threads of the service's
//! process tree, read from the resource samples of a phase.

use crate::units::Unit;

/// A resource metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceMetric {
    /// Largest RSS of the service's process tree during the phase.
    RssMax,
    /// Mean CPU use of the service's process tree, in cores.
    CpuMean,
    FdsMax,
    ThreadsMax,
}

impl ResourceMetric {
    pub const ALL: [ResourceMetric; 4] = [
        ResourceMetric::RssMax,
        ResourceMetric::CpuMean,
        ResourceMetric::FdsMax,
        ResourceMetric::ThreadsMax,
    ];

    /// `(spec name, stored identifier)`.
    pub(super) const fn names(self) -> (&'static str, &'static str) {
        match self {
            ResourceMetric::RssMax => ("rss.max", "RssMax"),
            ResourceMetric::CpuMean => ("cpu.mean", "CpuMean"),
            ResourceMetric::FdsMax => ("fds.max", "FdsMax"),
            ResourceMetric::ThreadsMax => ("threads.max", "ThreadsMax"),
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            ResourceMetric::RssMax => Unit::Bytes,
            ResourceMetric::CpuMean => Unit::Cores,
            ResourceMetric::FdsMax | ResourceMetric::ThreadsMax => Unit::Count,
        }
    }
}

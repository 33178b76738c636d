//! The resources family: RSS, CPU, file descriptors and threads of the service's
//! process tree, read from the resource samples of a phase.

use crate::units::Unit;

family! {
    /// A resource metric.
    pub enum ResourceMetric {
        /// Largest RSS of the service's process tree during the phase.
        RssMax => "rss.max", "RssMax", Bytes;
        /// Mean CPU use of the service's process tree, in cores.
        CpuMean => "cpu.mean", "CpuMean", Cores;
        FdsMax => "fds.max", "FdsMax", Count;
        ThreadsMax => "threads.max", "ThreadsMax", Count;
    }
}

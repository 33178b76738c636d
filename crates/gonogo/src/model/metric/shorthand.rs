//! Shorthands for single metrics (`Metric::LatencyP99`), the names of the flat enum
//! the families replaced: tests and plans read better with them. They are derived
//! data only; matching on metrics goes through the families, so that the compiler
//! checks every family is handled.

use super::*;

#[allow(non_upper_case_globals)]
impl Metric {
    pub const LatencyP50: Metric = named("LatencyP50");
    pub const LatencyP90: Metric = named("LatencyP90");
    pub const LatencyP99: Metric = named("LatencyP99");
    pub const LatencyP999: Metric = named("LatencyP999");
    pub const LatencyMax: Metric = named("LatencyMax");
    pub const ServiceTimeP99: Metric = named("ServiceTimeP99");
    pub const LagP99: Metric = named("LagP99");
    pub const Throughput: Metric = named("Throughput");
    pub const ErrorRate: Metric = named("ErrorRate");
    pub const RssMax: Metric = named("RssMax");
    pub const CpuMean: Metric = named("CpuMean");
    pub const FdsMax: Metric = named("FdsMax");
    pub const ThreadsMax: Metric = named("ThreadsMax");
    pub const ServiceCrashed: Metric = named("ServiceCrashed");
    pub const LeakRssSlope: Metric = named("LeakRssSlope");
    pub const LeakRssSlopeUpper: Metric = named("LeakRssSlopeUpper");
    pub const LeakRssDetected: Metric = named("LeakRssDetected");
    pub const LeakRssProjected: Metric = named("LeakRssProjected");
    pub const LeakFdsSlope: Metric = named("LeakFdsSlope");
    pub const LeakFdsSlopeUpper: Metric = named("LeakFdsSlopeUpper");
    pub const LeakFdsDetected: Metric = named("LeakFdsDetected");
    pub const LeakFdsProjected: Metric = named("LeakFdsProjected");
    pub const LeakThreadsSlope: Metric = named("LeakThreadsSlope");
    pub const LeakThreadsSlopeUpper: Metric = named("LeakThreadsSlopeUpper");
    pub const LeakThreadsDetected: Metric = named("LeakThreadsDetected");
    pub const LeakThreadsProjected: Metric = named("LeakThreadsProjected");
    pub const CapacityLastGoodRate: Metric = named("CapacityLastGoodRate");
    pub const CapacityFirstBadRate: Metric = named("CapacityFirstBadRate");
    pub const Headroom: Metric = named("Headroom");
    pub const RecoveryTime: Metric = named("RecoveryTime");
    pub const IntegrityLost: Metric = named("IntegrityLost");
    pub const IntegrityUnexpected: Metric = named("IntegrityUnexpected");
    pub const IntegrityRecovered: Metric = named("IntegrityRecovered");
    pub const IntegrityIndeterminate: Metric = named("IntegrityIndeterminate");
    pub const IntegrityAcknowledged: Metric = named("IntegrityAcknowledged");
    pub const IntegrityRpo: Metric = named("IntegrityRpo");
    pub const ScalingLatencyP50Exponent: Metric = named("ScalingLatencyP50Exponent");
    pub const ScalingLatencyP50ExponentUpper: Metric = named("ScalingLatencyP50ExponentUpper");
    pub const ScalingLatencyP50ExponentLower: Metric = named("ScalingLatencyP50ExponentLower");
    pub const ScalingLatencyP99Exponent: Metric = named("ScalingLatencyP99Exponent");
    pub const ScalingLatencyP99ExponentUpper: Metric = named("ScalingLatencyP99ExponentUpper");
    pub const ScalingLatencyP99ExponentLower: Metric = named("ScalingLatencyP99ExponentLower");
    pub const ScalingThroughputExponent: Metric = named("ScalingThroughputExponent");
    pub const ScalingThroughputExponentUpper: Metric = named("ScalingThroughputExponentUpper");
    pub const ScalingThroughputExponentLower: Metric = named("ScalingThroughputExponentLower");
    pub const ScalingRssExponent: Metric = named("ScalingRssExponent");
    pub const ScalingRssExponentUpper: Metric = named("ScalingRssExponentUpper");
    pub const ScalingRssExponentLower: Metric = named("ScalingRssExponentLower");
}

/// The metric stored as `stored`, at compile time.
const fn named(stored: &str) -> Metric {
    let mut i = 0;
    while i < Metric::ALL.len() {
        if eq(Metric::ALL[i].stored_name(), stored) {
            return Metric::ALL[i];
        }
        i += 1;
    }
    panic!("no metric of that stored name")
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

//! The families keep today's names, units and stored identifiers.

use super::*;

/// The flat enum's metrics, in order: (stored identifier, spec name).
const TODAY: [(&str, &str); 58] = [
    ("LatencyP50", "latency.p50"),
    ("LatencyP90", "latency.p90"),
    ("LatencyP99", "latency.p99"),
    ("LatencyP999", "latency.p999"),
    ("LatencyMax", "latency.max"),
    ("ServiceTimeP99", "service_time.p99"),
    ("LagP99", "lag.p99"),
    ("Throughput", "throughput"),
    ("ErrorRate", "error_rate"),
    ("RssMax", "rss.max"),
    ("CpuMean", "cpu.mean"),
    ("FdsMax", "fds.max"),
    ("ThreadsMax", "threads.max"),
    ("ServiceCrashed", "service.crashed"),
    ("LeakRssSlope", "leak.rss.slope"),
    ("LeakRssSlopeUpper", "leak.rss.slope_upper"),
    ("LeakRssDetected", "leak.rss.detected"),
    ("LeakRssProjected", "leak.rss.projected"),
    ("LeakFdsSlope", "leak.fds.slope"),
    ("LeakFdsSlopeUpper", "leak.fds.slope_upper"),
    ("LeakFdsDetected", "leak.fds.detected"),
    ("LeakFdsProjected", "leak.fds.projected"),
    ("LeakThreadsSlope", "leak.threads.slope"),
    ("LeakThreadsSlopeUpper", "leak.threads.slope_upper"),
    ("LeakThreadsDetected", "leak.threads.detected"),
    ("LeakThreadsProjected", "leak.threads.projected"),
    ("CapacityLastGoodRate", "capacity.last_good_rate"),
    ("CapacityFirstBadRate", "capacity.first_bad_rate"),
    ("Headroom", "headroom"),
    ("RecoveryTime", "recovery.time"),
    ("IntegrityLost", "integrity.lost"),
    ("IntegrityUnexpected", "integrity.unexpected"),
    ("IntegrityRecovered", "integrity.recovered"),
    ("IntegrityIndeterminate", "integrity.indeterminate"),
    ("IntegrityAcknowledged", "integrity.acknowledged"),
    ("IntegrityRpo", "integrity.rpo"),
    ("ScalingLatencyP50Exponent", "scaling.latency_p50.exponent"),
    (
        "ScalingLatencyP50ExponentUpper",
        "scaling.latency_p50.exponent_upper",
    ),
    (
        "ScalingLatencyP50ExponentLower",
        "scaling.latency_p50.exponent_lower",
    ),
    ("ScalingLatencyP99Exponent", "scaling.latency_p99.exponent"),
    (
        "ScalingLatencyP99ExponentUpper",
        "scaling.latency_p99.exponent_upper",
    ),
    (
        "ScalingLatencyP99ExponentLower",
        "scaling.latency_p99.exponent_lower",
    ),
    ("ScalingThroughputExponent", "scaling.throughput.exponent"),
    (
        "ScalingThroughputExponentUpper",
        "scaling.throughput.exponent_upper",
    ),
    (
        "ScalingThroughputExponentLower",
        "scaling.throughput.exponent_lower",
    ),
    ("ScalingRssExponent", "scaling.rss.exponent"),
    ("ScalingRssExponentUpper", "scaling.rss.exponent_upper"),
    ("ScalingRssExponentLower", "scaling.rss.exponent_lower"),
    ("BadInputFindings", "bad_input.findings"),
    ("BadInputPost", "bad_input.post"),
    ("BadInputEscaped", "bad_input.escaped"),
    ("BadInputTraversal", "bad_input.traversal"),
    ("BadInputEncoding", "bad_input.encoding"),
    ("BadInputOversize", "bad_input.oversize"),
    ("BadInputFraming", "bad_input.framing"),
    ("BadInputMethod", "bad_input.method"),
    ("BadInputBody", "bad_input.body"),
    ("BadInputSlow", "bad_input.slow"),
];

#[test]
fn every_metric_keeps_its_name_order_and_stored_identifier() {
    assert_eq!(Metric::ALL.len(), TODAY.len());
    for (metric, (stored, name)) in Metric::ALL.into_iter().zip(TODAY) {
        assert_eq!((metric.stored_name(), metric.name()), (stored, name));
        assert_eq!(Metric::from_name(name), Some(metric));
        let json = serde_json::to_string(&metric).unwrap();
        assert_eq!(json, format!("\"{stored}\""));
        assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), metric);
    }
    assert!(serde_json::from_str::<Metric>("\"LatencyP98\"").is_err());
}

#[test]
fn every_metric_keeps_its_unit() {
    let unit = |name: &str| Metric::from_name(name).unwrap().unit();
    let units: [(Unit, &[&str]); 10] = [
        (
            Unit::Seconds,
            &[
                "latency.p50",
                "latency.max",
                "service_time.p99",
                "lag.p99",
                "recovery.time",
                "integrity.rpo",
            ],
        ),
        (
            Unit::PerSecond,
            &[
                "throughput",
                "capacity.last_good_rate",
                "capacity.first_bad_rate",
            ],
        ),
        (Unit::Factor, &["headroom"]),
        (Unit::Ratio, &["error_rate"]),
        (Unit::Bytes, &["rss.max", "leak.rss.projected"]),
        (Unit::Cores, &["cpu.mean"]),
        (
            Unit::Count,
            &[
                "fds.max",
                "threads.max",
                "leak.fds.projected",
                "leak.threads.projected",
                "integrity.lost",
                "integrity.unexpected",
                "integrity.recovered",
                "integrity.indeterminate",
                "integrity.acknowledged",
                "bad_input.findings",
                "bad_input.post",
                "bad_input.escaped",
                "bad_input.traversal",
                "bad_input.encoding",
                "bad_input.oversize",
                "bad_input.framing",
                "bad_input.method",
                "bad_input.body",
                "bad_input.slow",
            ],
        ),
        (
            Unit::Boolean,
            &[
                "service.crashed",
                "leak.rss.detected",
                "leak.fds.detected",
                "leak.threads.detected",
            ],
        ),
        (
            Unit::BytesPerHour,
            &["leak.rss.slope", "leak.rss.slope_upper"],
        ),
        (
            Unit::CountPerHour,
            &[
                "leak.fds.slope",
                "leak.fds.slope_upper",
                "leak.threads.slope",
                "leak.threads.slope_upper",
            ],
        ),
    ];
    for (expected, names) in units {
        for name in names {
            assert_eq!(unit(name), expected, "{name}");
        }
    }
    for metric in Metric::ALL.into_iter().filter(|m| m.scaling().is_some()) {
        assert_eq!(metric.unit(), Unit::Exponent);
    }
}

#[test]
fn shorthands_name_their_family_member() {
    assert_eq!(Metric::LatencyP99, Metric::Latency(LatencyMetric::P99));
    assert_eq!(
        Metric::LeakFdsSlopeUpper,
        Metric::Leak(LeakResource::Fds, LeakFigure::SlopeUpper)
    );
    assert_eq!(
        Metric::ScalingRssExponentLower,
        Metric::Scaling(ScalingQuantity::Rss, ScalingFigure::Lower)
    );
}

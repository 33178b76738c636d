//! Soak phases end to end: the testbed's leak and cache knobs against the leak rule.
//!
//! Each campaign offers 100 requests/s for a 5 s warm-up and 20 s of measured time,
//! samples resources every 200 ms and takes a 2 s rolling minimum (about 90 trend
//! points). The RSS bound is 64 MiB/h: a short soak extrapolates every byte of drift
//! to an hour, so its bound is set well above allocator noise and far below the
//! leak under test (16 KiB × 100/s ≈ 5.5 GiB/h).

use crate::support::spec::{Raw, Spec, criterion, get, phase, sampled_every};
use crate::support::{Campaign, finding};
use gonogo::exit;
use gonogo::model::{Finding, Outcome};

/// The soak phase (bounds as in the module doc) and its four criteria.
fn soak_spec() -> String {
    let leak = "{ rss = \"64MiB/h\", fds = \"3600/h\", threads = \"3600/h\", horizon = \"24h\", window = \"2s\" }";
    let mut spec = Spec::new()
        .with(sampled_every("200ms"))
        .with(get("2s"))
        .with(
            phase("soak", "soak")
                .set("rate", 100)
                .set("duration", "20s")
                .set("warmup", "5s")
                .set("leak", Raw(leak)),
        );
    for (metric, op, value) in [
        ("leak.rss.detected", "==", None),
        ("leak.rss.slope", "<=", Some("64MiB/h")),
        ("leak.fds.detected", "==", None),
        ("leak.threads.detected", "==", None),
    ] {
        spec = spec.with(match value {
            // Detection is a boolean that must stay false; the slope is advisory.
            None => criterion("soak", metric, op, false),
            Some(bound) => criterion("soak", metric, op, bound).set("severity", "advisory"),
        });
    }
    spec.into()
}

/// Run the soak against a testbed with `args`; it must exit with `expected`. The
/// findings.
fn soak(args: &[&str], expected: u8) -> Vec<Finding> {
    let campaign = Campaign::new(args, &soak_spec());
    campaign.run_expecting(expected);
    campaign.findings()
}

pub fn per_request_leak_is_flagged_within_a_short_soak() {
    let findings = soak(&["--leak-per-request", "16KiB"], exit::NO_GO);
    let detected = finding(&findings, "leak.rss.detected");
    assert_eq!(detected.outcome, Outcome::Fail, "{detected:?}");
    assert_eq!(detected.observed, Some(1.0));
    let slope = finding(&findings, "leak.rss.slope");
    let interval = slope.interval.expect("the slope has its interval");
    // 16 KiB × 100/s is about 5.5 GiB/h; allow a wide margin for the allocator.
    let per_hour = 16.0 * 1024.0 * 100.0 * 3600.0;
    let observed = slope.observed.unwrap();
    assert!(
        observed > per_hour * 0.5 && observed < per_hour * 1.5,
        "slope {observed} B/h, expected near {per_hour}: {slope:?}"
    );
    assert!(interval.lower > 0.0 && interval.lower <= observed && observed <= interval.upper);
    assert!(slope.samples >= 50, "{} trend points", slope.samples);
    for metric in ["leak.fds.detected", "leak.threads.detected"] {
        assert_eq!(
            finding(&findings, metric).outcome,
            Outcome::Pass,
            "{metric}"
        );
    }
}

pub fn one_time_cache_growth_that_plateaus_is_not_flagged() {
    // 32 MiB spread over the first 300 requests: filled after 3 s, inside the warm-up.
    let findings = soak(
        &["--cache-bytes", "32MiB", "--cache-fill-requests", "300"],
        exit::GO,
    );
    let detected = finding(&findings, "leak.rss.detected");
    assert_eq!(detected.observed, Some(0.0), "{detected:?}");
}

pub fn growth_that_plateaus_inside_the_window_is_not_a_leak() {
    // 64 MiB spread over the first 1300 requests: at 100/s the cache fills 13 s into
    // the phase, 8 s into the measured window (trend points from 7 s to 25 s), so the
    // rolling minimum rises through the first third (far above 64 MiB/h) and is flat
    // over the last third (19 s to 25 s). The whole window's slope alone called this a
    // leak; the rule reads it as a plateau.
    let findings = soak(
        &["--cache-bytes", "64MiB", "--cache-fill-requests", "1300"],
        exit::GO,
    );
    let detected = finding(&findings, "leak.rss.detected");
    assert_eq!(detected.outcome, Outcome::Pass, "{detected:?}");
    assert_eq!(detected.observed, Some(0.0), "{detected:?}");
    assert!(
        detected.explanation.contains("a plateau") && detected.explanation.contains("first third"),
        "{}",
        detected.explanation
    );
    // The growth that persists is the last third's, well under the bound.
    let slope = finding(&findings, "leak.rss.slope");
    assert_eq!(slope.outcome, Outcome::Pass, "{slope:?}");
    assert!(
        slope.observed.unwrap() < 64.0 * 1024.0 * 1024.0,
        "{slope:?}"
    );
}

pub fn steady_service_is_not_flagged() {
    let findings = soak(&[], exit::GO);
    for metric in [
        "leak.rss.detected",
        "leak.fds.detected",
        "leak.threads.detected",
    ] {
        let f = finding(&findings, metric);
        assert_eq!(f.observed, Some(0.0), "{f:?}");
    }
}

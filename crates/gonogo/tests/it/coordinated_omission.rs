//! Coordinated omission: when the service stalls, the open model's response time must
//! include the time requests spent waiting to be sent, while service time shows the
//! per-request view. Compared against the analytic expectation for a stall.

use crate::support::spec::{Spec, criterion, get, steady};
use crate::support::{Campaign, describe};
use gonogo::model::IntervalStats;

/// Arrival rate (requests/s), measured duration (s) and stall length (s).
const RATE: f64 = 1000.0;
const MEASURED_S: f64 = 10.0;
const STALL_S: f64 = 1.0;

pub fn a_one_second_stall_shows_in_response_time_as_the_analytic_p99() {
    // The testbed stalls every /kv request for STALL_S once, after 3000 requests:
    // about 3 s into the run, inside the measured window (1 s warm-up).
    let body = Spec::new().with(get("5s")).with(
        steady("steady", RATE as u32, &format!("{MEASURED_S}s"))
            .set("max_connections", 64)
            .set("warmup", "1s"),
    );
    let body = body.with(criterion("steady", "latency.p99", "<=", "10s"));
    let campaign = Campaign::new(
        &["--pause-after", "3000", "--pause-for", "1s"],
        &body.to_string(),
    );
    let output = campaign.run();
    assert!(output.status.code().is_some(), "{}", describe(&output));
    let evidence = campaign.evidence(1);
    let mut merged = IntervalStats::default();
    for interval in evidence.intervals.iter().filter(|i| !i.warmup) {
        merged.merge(&interval.stats);
    }
    let total = merged.outcomes.total() as f64;
    assert!(
        (total - RATE * MEASURED_S).abs() <= RATE * MEASURED_S * 0.02,
        "every planned request completes: {total}"
    );
    assert_eq!(merged.outcomes.failed(), 0, "{:?}", merged.outcomes);

    // Requests due during the stall [t_s, t_s + S) all complete at about t_s + S, so
    // the one due at t_s + u waits S - u: their response times are uniform on (0, S].
    // The number of requests slower than x is RATE * (S - x); the p99 is the x at
    // which that is 1% of all RATE * T requests:  p99 = S - 0.01 * T.
    let expected = STALL_S - 0.01 * MEASURED_S;
    let p99 = merged.response.value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        (p99 - expected).abs() <= expected * 0.10,
        "response-time p99 {p99:.3} s, expected {expected:.3} s ± 10%"
    );

    // Service time starts at the actual send: only the requests already in flight when
    // the stall began (at most max_connections = 64, 0.64% of all) see it, so its p99
    // stays an order of magnitude below the stall.
    let service_p99 = merged.service.value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        service_p99 < STALL_S / 10.0,
        "service-time p99 {service_p99:.3} s should not show the stall"
    );
    // The stall shows as the interval that sent least, and there every connection
    // was held by the service at once: evidence that the shortfall is the service's,
    // so the generator self-check does not blame gonogo for it.
    let stalled = evidence
        .intervals
        .iter()
        .filter(|i| !i.warmup)
        .min_by_key(|i| i.stats.sent)
        .expect("measured intervals");
    assert!(
        stalled.stats.sent < stalled.stats.planned / 2,
        "the stall stops sends: {} of {}",
        stalled.stats.sent,
        stalled.stats.planned
    );
    assert_eq!(stalled.stats.peak_in_flight, stalled.stats.connections);
    assert!(!gonogo::evaluate::generator_bound(&stalled.stats));

    // The stall made requests wait for a free connection, and the lag shows it.
    assert!(merged.cap_waits > 0, "requests waited for a connection");
    let lag_p99 = merged.lag.value_at_quantile(0.99) as f64 / 1e6;
    assert!(lag_p99 > STALL_S / 2.0, "schedule lag p99 {lag_p99:.3} s");
}

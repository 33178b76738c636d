//! Unit tests of the integrity evaluation: counts, RPO, the final-read rule and
//! the implicit "no acknowledged write lost" finding, on hand-built ledgers.

use super::*;
use crate::evaluate::fixtures::{criterion, event, go_run, phase, secs};
use crate::model::{LedgerWrite, Listing, ReadBack};

use ReadCheck::{Error, Match, Missing, Wrong};
use WriteOutcome::{Acknowledged, Failed, Indeterminate};

fn write(outcome: WriteOutcome, at_ms: u32) -> LedgerWrite {
    LedgerWrite { outcome, at_ms }
}

/// Ten writes from 2 s into the run, 100 ms apart, with their two reads.
fn ledger(writes: &[(WriteOutcome, [ReadCheck; 2])], listing: Option<Listing>) -> IntegrityLedger {
    IntegrityLedger {
        phase: "writes".into(),
        token: "0badcafe".into(),
        writes_start: secs(2.0),
        writes: writes
            .iter()
            .enumerate()
            .map(|(i, (o, _))| write(*o, i as u32 * 100))
            .collect(),
        settle: secs(1.0),
        read_back: Some(ReadBack {
            at: secs(9.0),
            reads: writes.iter().map(|(_, r)| *r).collect(),
            listing,
        }),
    }
}

#[test]
fn counts_follow_the_final_read_of_each_key() {
    let l = ledger(
        &[
            (Acknowledged, [Match, Match]),
            (Acknowledged, [Missing, Missing]), // lost
            (Acknowledged, [Match, Wrong]),     // lost, unstable
            (Acknowledged, [Wrong, Error]),     // lost (first read stands)
            (Indeterminate, [Match, Match]),    // recovered
            (Indeterminate, [Missing, Missing]),
            (Failed, [Missing, Missing]),
            (Failed, [Match, Match]),       // failed yet present
            (Acknowledged, [Error, Error]), // unread
        ],
        Some(Listing {
            keys: 6,
            never_attempted: 2,
        }),
    );
    let c = counts(&l, &[]);
    assert_eq!(
        (c.attempted, c.acknowledged, c.failed, c.indeterminate),
        (9, 5, 2, 2)
    );
    assert_eq!(c.acknowledged + c.failed + c.indeterminate, c.attempted);
    assert_eq!((c.lost, c.recovered, c.unstable), (3, 1, 1));
    assert_eq!((c.unread, c.unread_acknowledged), (1, 1));
    assert_eq!(c.failed_present, 1);
    assert_eq!(
        c.unexpected,
        Some(3),
        "2 never attempted + 1 failed present"
    );
    assert!(c.read_back);
    // Lost acks at 100, 200, 300 ms after 2 s; no fault: their span.
    assert_eq!((c.rpo, c.rpo_to_fault), (Some(secs(0.2)), false));
}

#[test]
fn rpo_runs_from_the_first_lost_ack_to_the_fault_after_it() {
    let l = ledger(
        &[
            (Acknowledged, [Match, Match]),
            (Acknowledged, [Missing, Missing]),
            (Acknowledged, [Missing, Missing]),
            (Acknowledged, [Match, Match]),
        ],
        None,
    );
    // Lost acks at 2.1 s and 2.2 s; faults at 1.0 s (before) and 2.5 s.
    let c = counts(&l, &[secs(1.0), secs(2.5)]);
    assert_eq!(c.lost, 2);
    assert!(c.rpo_to_fault);
    assert_eq!(c.rpo, Some(secs(0.4)));
    assert_eq!(c.unexpected, None, "no listing: not checked");
}

#[test]
fn no_read_back_or_only_failed_reads_is_no_final_read() {
    let mut l = ledger(&[(Acknowledged, [Error, Error])], None);
    assert!(!counts(&l, &[]).read_back);
    assert_eq!(counts(&l, &[]).rpo, None);
    l.read_back = None;
    let c = counts(&l, &[]);
    assert!(!c.read_back);
    assert_eq!((c.acknowledged, c.lost), (1, 0));
}

/// The go run of the fixtures with an integrity phase and its ledger.
fn run_with(l: IntegrityLedger) -> RunEvidence {
    let (mut evidence, _) = go_run();
    let mut p = phase("writes", 14.0, 0.0, 5.0, Some(20.0), 100.0);
    p.kind = "integrity".into();
    evidence.phases.push(p);
    evidence.events.push(event(
        16.5,
        EventKind::FaultApplied {
            fault: "writes kill at 50%".into(),
            phase: "writes".into(),
        },
    ));
    evidence.integrity.push(l);
    evidence
}

fn many(
    outcome: WriteOutcome,
    reads: [ReadCheck; 2],
    n: usize,
) -> Vec<(WriteOutcome, [ReadCheck; 2])> {
    vec![(outcome, reads); n]
}

#[test]
fn the_implicit_rule_passes_fails_or_cannot_decide() {
    let mut writes = many(Acknowledged, [Match, Match], 20);
    writes.extend(many(Indeterminate, [Missing, Missing], 3));
    let pass = implicit(&[], &run_with(ledger(&writes, None)));
    assert_eq!(pass.len(), 1);
    assert_eq!(pass[0].criterion, NO_WRITE_LOST);
    assert!(pass[0].implicit);
    assert_eq!(pass[0].outcome, Outcome::Pass, "{}", pass[0].explanation);
    assert_eq!((pass[0].observed, pass[0].samples), (Some(0.0), 20));

    writes[3].1 = [Missing, Missing];
    let fail = implicit(&[], &run_with(ledger(&writes, None)));
    assert_eq!(fail[0].outcome, Outcome::Fail);
    assert!(
        fail[0]
            .explanation
            .starts_with("1 of 20 acknowledged writes"),
        "{}",
        fail[0].explanation
    );

    let mut none = ledger(&writes, None);
    none.read_back = None;
    let undecided = implicit(&[], &run_with(none));
    assert_eq!(undecided[0].outcome, Outcome::Inconclusive);
    assert!(undecided[0].explanation.starts_with("no final read"));

    let few = implicit(
        &[],
        &run_with(ledger(&many(Acknowledged, [Match, Match], 3), None)),
    );
    assert_eq!(few[0].outcome, Outcome::Inconclusive, "3 acknowledged < 10");
}

#[test]
fn an_explicit_lost_criterion_replaces_the_implicit_rule_and_metrics_read_the_ledger() {
    let mut writes = many(Acknowledged, [Match, Match], 20);
    writes[0].1 = [Missing, Missing];
    writes.push((Acknowledged, [Error, Error]));
    let evidence = run_with(ledger(&writes, None));
    let mut lost = criterion("writes", Metric::IntegrityLost, Op::Le, "5", 5.0);
    lost.min_samples = 10;
    assert!(implicit(std::slice::from_ref(&lost), &evidence).is_empty());
    let finding = super::super::evaluate(std::slice::from_ref(&lost), &evidence);
    assert_eq!(finding[0].observed, Some(1.0));
    assert_eq!(
        finding[0].outcome,
        Outcome::Inconclusive,
        "one acknowledged key unread: 1 is a lower bound"
    );
    let mut rpo = criterion("writes", Metric::IntegrityRpo, Op::Ge, "0s", 0.0);
    rpo.min_samples = 10;
    let mut unexpected = criterion("writes", Metric::IntegrityUnexpected, Op::Le, "0", 0.0);
    unexpected.min_samples = 10;
    let findings = super::super::evaluate(&[rpo, unexpected], &evidence);
    // The only lost ack is at 2.0 s; the kill at 16.5 s is the first fault after it.
    assert_eq!(findings[0].observed, Some(14.5));
    assert!(
        findings[0].method.contains("first fault"),
        "{}",
        findings[0].method
    );
    assert_eq!(findings[1].observed, None);
    assert_eq!(findings[1].outcome, Outcome::Inconclusive);
    assert!(findings[1].explanation.starts_with("not checked"));
}

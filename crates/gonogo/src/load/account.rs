//! Every request the open-model schedule planned, accounted for at each interval's
//! close: sent, still waiting for a free connection, or given up (and why).
//!
//! Owns: the arithmetic from two running totals, the tickets due so far (from the
//! schedule's formula) and the sends counted so far (from the recorder), to an
//! interval's [`NotSent`]. Does not own: counting either total (`schedule`,
//! `recorder`) nor when intervals close (`interval`).
//!
//! Why two totals and no per-ticket state: a request is sent at or after the moment
//! it is due, so by an interval's end the sends counted so far are a subset of the
//! tickets due so far, and the difference is what waits. At the phase's last close
//! nothing can be sent any more: whatever still waits is given up, because no
//! connection came free before the phase's deadline or because the run was stopped.
//! For any interval `i`: `waiting[i-1] + planned[i] = sent[i] + given_up[i] +
//! waiting[i]`; summed over the phase, `planned = sent + given up`.

use crate::model::NotSent;

/// How the phase stands when an interval closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// More intervals follow: unsent requests still wait.
    Continues,
    /// The phase's last interval, after its deadline: every worker has stopped.
    Ended,
    /// The run was stopped during this interval, the phase's last.
    Stopped,
}

/// An interval's unsent requests at its close, from the tickets due by then
/// (`due_so_far`) and the sends counted by then (`sent_so_far`), both since the
/// phase began.
pub(crate) fn not_sent(due_so_far: u64, sent_so_far: u64, close: Close) -> NotSent {
    // A send never precedes its due time, so it cannot exceed the due tickets; should
    // the clocks ever disagree, nothing is counted twice.
    let unsent = due_so_far.saturating_sub(sent_so_far);
    match close {
        Close::Continues => NotSent {
            waiting: unsent,
            ..NotSent::default()
        },
        Close::Ended => NotSent {
            busy: unsent,
            ..NotSent::default()
        },
        Close::Stopped => NotSent {
            stopped: unsent,
            ..NotSent::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    /// One phase's intervals: (planned, sent) each, and how the phase ended.
    fn account(intervals: &[(u64, u64)], ending: Close) -> Vec<NotSent> {
        let (mut due, mut sent) = (0, 0);
        let last = intervals.len().saturating_sub(1);
        intervals
            .iter()
            .enumerate()
            .map(|(i, &(planned, sends))| {
                due += planned;
                sent += sends;
                let close = if i == last { ending } else { Close::Continues };
                not_sent(due, sent, close)
            })
            .collect()
    }

    /// Random phases whose sends never run ahead of what was due: interval by
    /// interval the carried, planned, sent and unsent requests balance, and over the
    /// phase planned = sent + given up, nothing left waiting.
    #[test]
    fn planned_always_equals_sent_plus_not_sent() {
        let mut rng = SmallRng::seed_from_u64(24);
        for _ in 0..2_000 {
            let count = rng.random_range(1..12);
            let (mut due, mut sent) = (0u64, 0u64);
            let mut intervals = Vec::new();
            for _ in 0..count {
                let planned = rng.random_range(0..500);
                due += planned;
                // Anything from nothing to every request due so far.
                let sends = rng.random_range(0..=due - sent);
                sent += sends;
                intervals.push((planned, sends));
            }
            let ending = [Close::Ended, Close::Stopped][rng.random_range(0..2)];
            let accounts = account(&intervals, ending);
            let mut carried = 0;
            for (&(planned, sends), unsent) in intervals.iter().zip(&accounts) {
                assert_eq!(
                    carried + planned,
                    sends + unsent.given_up() + unsent.waiting,
                    "{intervals:?}"
                );
                carried = unsent.waiting;
            }
            assert_eq!(carried, 0, "nothing waits after the last interval");
            let planned: u64 = intervals.iter().map(|i| i.0).sum();
            let sent: u64 = intervals.iter().map(|i| i.1).sum();
            let given_up: u64 = accounts.iter().map(NotSent::given_up).sum();
            assert_eq!(planned, sent + given_up);
            let mut whole = NotSent::default();
            accounts.iter().for_each(|a| whole.add(a));
            match ending {
                Close::Stopped => assert_eq!(whole.busy, 0),
                _ => assert_eq!(whole.stopped, 0),
            }
        }
    }

    #[test]
    fn the_reason_is_how_the_phase_ended() {
        assert_eq!(
            not_sent(150, 16, Close::Ended),
            NotSent {
                busy: 134,
                ..NotSent::default()
            }
        );
        assert_eq!(not_sent(40, 25, Close::Stopped).stopped, 15);
        assert_eq!(not_sent(40, 25, Close::Continues).waiting, 15);
        assert_eq!(not_sent(10, 10, Close::Ended), NotSent::default());
        assert_eq!(
            not_sent(3, 5, Close::Continues),
            NotSent::default(),
            "never negative"
        );
    }
}

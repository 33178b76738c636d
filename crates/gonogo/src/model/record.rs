//! The one record stream: every producer (service supervisor, load driver, resource
//! sampler, signal handlers) sends [`Record`]s stamped with the run's clock; the
//! conductor receives them in order and is the only writer to the store.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{
    Artifact, Event, EventKind, IntegrityLedger, IntervalRecord, PhaseRecord, ResourceSample,
};

/// The run's clock: every offset on the evidence timeline is measured from `start`.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    start: Instant,
}

impl RunClock {
    pub fn new() -> Self {
        RunClock {
            start: Instant::now(),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Offset of `instant` from the run start (zero for instants before it).
    pub fn offset(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }

    /// An event stamped now.
    pub fn event(&self, kind: EventKind) -> Record {
        Record::Event(Event {
            at: self.elapsed(),
            kind,
        })
    }
}

impl Default for RunClock {
    fn default() -> Self {
        Self::new()
    }
}

/// Something a producer hands to the conductor for the store.
#[derive(Debug, Clone)]
pub enum Record {
    Event(Event),
    Interval(Box<IntervalRecord>),
    Sample(ResourceSample),
    Artifact(Artifact),
    /// An integrity phase's writes and read-back, sent once when it is done.
    Integrity(Box<IntegrityLedger>),
    /// A bad-input phase's cases and post-conditions, sent once when it is done.
    BadInput(Box<super::BadInputLedger>),
    /// A phase began: its row in the store, plus a `PhaseStarted` event.
    PhaseStarted(PhaseRecord),
    /// A phase ended at `at`: closes its row, plus a `PhaseEnded` event.
    PhaseEnded {
        phase: String,
        at: Duration,
        abandoned: u64,
    },
}

pub type RecordSender = mpsc::UnboundedSender<Record>;
pub type RecordReceiver = mpsc::UnboundedReceiver<Record>;

/// A new record channel.
pub fn channel() -> (RecordSender, RecordReceiver) {
    mpsc::unbounded_channel()
}

//! The histograms of one interval, held decoded while they are recorded and as their
//! stored bytes once a run is read back from the store.
//!
//! Owns: [`IntervalHistogram`], which keeps a loaded run light. A decoded
//! auto-resizing histogram of microseconds at 3 significant digits holds a dense
//! counts array (16 KiB empty, about 70 KiB for values up to 100 ms), while the stored
//! V2 bytes of one interval are a few hundred bytes; a one-hour run has tens of
//! thousands of them. Merging and quantiles read the stored bytes directly (into the
//! target histogram, or into one scratch histogram per thread), so no more than a
//! handful of decoded histograms exist at any time, and the figures are the same as
//! from fully decoded histograms: every count is added at its bucket's value.
//! Does not own: the byte format (`store::codec`) nor SQL.

use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use hdrhistogram::Histogram;

use super::codec::{HistogramDecodeError, decode_histogram, for_each_count};
use super::evidence::{HISTOGRAM_SIGFIG, new_histogram};

/// A latency histogram of microseconds of one interval.
///
/// It dereferences to a [`Histogram<u64>`] so recording and reading code need not care
/// which form it is in; dereferencing a stored one decodes it once and keeps the
/// decoded copy (tests do that). Code that reads many stored intervals uses
/// [`IntervalHistogram::add_to`], [`IntervalHistogram::value_at_quantile`] and
/// [`IntervalHistogram::len`], which never keep a decoded copy.
#[derive(Clone)]
pub struct IntervalHistogram(Repr);

#[derive(Clone)]
enum Repr {
    Decoded(Histogram<u64>),
    Stored {
        /// V2 bytes, checked by [`IntervalHistogram::stored`].
        blob: Arc<[u8]>,
        /// Recorded values.
        len: u64,
        /// Filled on the first dereference only.
        decoded: OnceLock<Histogram<u64>>,
    },
}

thread_local! {
    /// The scratch histogram that quantiles of stored histograms are read from.
    static SCRATCH: RefCell<Histogram<u64>> = RefCell::new(new_histogram());
}

impl IntervalHistogram {
    /// A histogram held as stored bytes, checked now so later reads cannot fail.
    pub fn stored(blob: Vec<u8>) -> Result<IntervalHistogram, HistogramDecodeError> {
        let mut len = 0_u64;
        let (sigfig, low) = for_each_count(&blob, |_, count| len = len.saturating_add(count))?;
        if sigfig != HISTOGRAM_SIGFIG || low != 1 {
            // Not how gonogo records: keep it decoded, the slow and exact way.
            return decode_histogram(&blob).map(IntervalHistogram::from);
        }
        Ok(IntervalHistogram(Repr::Stored {
            blob: blob.into(),
            len,
            decoded: OnceLock::new(),
        }))
    }

    /// An empty histogram that allocates no counts array (a placeholder).
    pub fn empty() -> IntervalHistogram {
        IntervalHistogram(Repr::Stored {
            blob: Arc::from([]),
            len: 0,
            decoded: OnceLock::new(),
        })
    }

    /// Add every count of this histogram into `target` (an auto-resizing histogram of
    /// the same precision), without decoding it into a histogram of its own.
    pub fn add_to(&self, target: &mut Histogram<u64>) {
        match &self.0 {
            // Adding auto-resizing histograms of the same precision cannot fail.
            Repr::Decoded(histogram) => {
                let _ = target.add(histogram);
            }
            Repr::Stored { blob, decoded, .. } => match decoded.get() {
                Some(histogram) => {
                    let _ = target.add(histogram);
                }
                // The blob was checked when it was loaded; recording into an
                // auto-resizing histogram cannot fail.
                None => {
                    let _ = for_each_count(blob, |value, count| {
                        let _ = target.record_n(value, count);
                    });
                }
            },
        }
    }

    /// Run `read` on the histogram: itself when decoded, else the stored counts added
    /// into this thread's scratch histogram (or a fresh one when that is in use).
    pub fn with<R>(&self, read: impl FnOnce(&Histogram<u64>) -> R) -> R {
        if let Repr::Decoded(histogram) = &self.0 {
            return read(histogram);
        }
        if let Repr::Stored { decoded, .. } = &self.0
            && let Some(histogram) = decoded.get()
        {
            return read(histogram);
        }
        let outcome = SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.reset();
                self.add_to(&mut scratch);
                Ok(read(&scratch))
            }
            Err(_) => Err(read),
        });
        outcome.unwrap_or_else(|read| {
            // The scratch is in use further up this thread's stack.
            let mut fresh = new_histogram();
            self.add_to(&mut fresh);
            read(&fresh)
        })
    }

    /// The value at `quantile`, as [`Histogram::value_at_quantile`].
    pub fn value_at_quantile(&self, quantile: f64) -> u64 {
        self.with(|h| h.value_at_quantile(quantile))
    }

    /// The largest value's bucket top, as [`Histogram::max`].
    pub fn max(&self) -> u64 {
        self.with(Histogram::max)
    }

    /// Recorded values.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Repr::Decoded(histogram) => histogram.len(),
            Repr::Stored { len, .. } => *len,
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Histogram<u64>> for IntervalHistogram {
    fn from(histogram: Histogram<u64>) -> Self {
        IntervalHistogram(Repr::Decoded(histogram))
    }
}

impl Default for IntervalHistogram {
    fn default() -> Self {
        new_histogram().into()
    }
}

impl Deref for IntervalHistogram {
    type Target = Histogram<u64>;

    fn deref(&self) -> &Histogram<u64> {
        match &self.0 {
            Repr::Decoded(histogram) => histogram,
            Repr::Stored { blob, decoded, .. } => decoded.get_or_init(|| {
                let mut histogram = new_histogram();
                let _ = for_each_count(blob, |value, count| {
                    let _ = histogram.record_n(value, count);
                });
                histogram
            }),
        }
    }
}

impl DerefMut for IntervalHistogram {
    /// Decodes a stored histogram for good: it is about to change.
    fn deref_mut(&mut self) -> &mut Histogram<u64> {
        if let Repr::Stored { .. } = self.0 {
            let mut histogram = new_histogram();
            self.add_to(&mut histogram);
            self.0 = Repr::Decoded(histogram);
        }
        match &mut self.0 {
            Repr::Decoded(histogram) => histogram,
            // Replaced by a decoded histogram just above.
            Repr::Stored { .. } => unreachable!("a stored histogram was just decoded"),
        }
    }
}

impl PartialEq for IntervalHistogram {
    fn eq(&self, other: &Self) -> bool {
        let mut mine = new_histogram();
        self.add_to(&mut mine);
        let mut theirs = new_histogram();
        other.add_to(&mut theirs);
        mine == theirs
    }
}

impl fmt::Debug for IntervalHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let form = match self.0 {
            Repr::Decoded(_) => "decoded",
            Repr::Stored { .. } => "stored",
        };
        f.debug_struct("IntervalHistogram")
            .field("form", &form)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codec::encode_histogram;

    fn recorded(values: &[u64]) -> Histogram<u64> {
        let mut histogram = new_histogram();
        for &value in values {
            histogram.record(value).unwrap();
        }
        histogram
    }

    /// A spread of values over six decades, with repeats.
    fn spread(seed: u64) -> Vec<u64> {
        let mut x = seed;
        (0..2_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                1 + x % 10_u64.pow(1 + (x % 6) as u32)
            })
            .collect()
    }

    #[test]
    fn stored_histograms_merge_and_read_exactly_like_decoded_ones() {
        let a = recorded(&spread(7));
        let b = recorded(&spread(11));
        let stored_a = IntervalHistogram::stored(encode_histogram(&a).unwrap()).unwrap();
        let stored_b = IntervalHistogram::stored(encode_histogram(&b).unwrap()).unwrap();
        assert!(matches!(stored_a.0, Repr::Stored { .. }));
        assert_eq!(stored_a.len(), a.len());

        let mut expected = new_histogram();
        expected.add(&a).unwrap();
        expected.add(&b).unwrap();
        let mut merged = new_histogram();
        stored_a.add_to(&mut merged);
        stored_b.add_to(&mut merged);
        assert_eq!(merged, expected);
        for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(merged.value_at_quantile(q), expected.value_at_quantile(q));
            assert_eq!(stored_a.value_at_quantile(q), a.value_at_quantile(q));
        }
        assert_eq!(merged.max(), expected.max());
        assert_eq!(merged.min_nz(), expected.min_nz());
        assert_eq!(stored_b.max(), b.max());
        // Reading never keeps a decoded copy.
        assert!(matches!(&stored_a.0, Repr::Stored { decoded, .. } if decoded.get().is_none()));
        assert_eq!(stored_a, IntervalHistogram::from(a.clone()));
        assert_eq!(&*stored_a, &a);
    }

    #[test]
    fn an_empty_stored_histogram_is_empty_and_a_changed_one_is_decoded() {
        let mut empty =
            IntervalHistogram::stored(encode_histogram(&new_histogram()).unwrap()).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.value_at_quantile(0.99), 0);
        empty.record(1_500).unwrap();
        assert!(matches!(empty.0, Repr::Decoded(_)));
        assert_eq!(empty.len(), 1);
    }

    #[test]
    fn damaged_blobs_are_refused_when_loaded() {
        let good = encode_histogram(&recorded(&spread(3))).unwrap();
        assert!(IntervalHistogram::stored(good[..good.len() - 1].to_vec()).is_err());
        let mut truncated = good.clone();
        // The last count's varint loses its end but the declared length still fits.
        let last = truncated.len() - 1;
        truncated[last] |= 0x80;
        assert!(IntervalHistogram::stored(truncated).is_err());
        for position in 0..good.len() {
            let mut damaged = good.clone();
            damaged[position] ^= 0xff;
            // An error or a histogram, never a panic.
            if let Ok(h) = IntervalHistogram::stored(damaged) {
                let _ = h.value_at_quantile(0.99);
            }
        }
    }
}

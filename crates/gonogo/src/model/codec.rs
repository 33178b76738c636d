//! Encodings of evidence values for SQLite columns: HDR histograms as BLOBs and
//! durations as INTEGER microseconds.
//!
//! Owns: the byte format of the histogram columns and the duration unit of every
//! `*_us` column. Does not own: SQL (that is the parent `store` module).
//!
//! Histograms use hdrhistogram's **uncompressed V2** format, not V2+DEFLATE:
//! - V2 already run-length encodes the zero stretches of the counts array with
//!   zig-zag LEB128 varints, so a one-second interval's histogram stays small
//!   (its size grows with the number of distinct occupied buckets, not with the
//!   value range); DEFLATE would shave a little more at a CPU cost paid on every
//!   interval write and every read of a run.
//! - The uncompressed payload length sits in the header next to the bytes it
//!   describes, so a blob is checked against its own length *before* the library
//!   allocates for it. With DEFLATE the declared length is only known after
//!   inflating, and a corrupt blob could ask for gigabytes.
//! - The bytes are the reference format, readable by any HdrHistogram
//!   implementation (`sqlite3 ... "select hex(response_hist) ..."`).
//!
//! Durations are stored as whole microseconds (`i64`): exact for every duration
//! built from whole microseconds, sub-microsecond parts are truncated.

use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{
    DeserializeError, Deserializer, Serializer, V2SerializeError, V2Serializer,
};

/// Size of the V2 header: cookie, payload length, normalizing offset, significant
/// digits, lowest and highest trackable values, integer-to-double ratio.
const V2_HEADER_LEN: usize = 40;
/// Cookie of the uncompressed V2 format (`0x1c849303 | 0x10`).
const V2_COOKIE: u32 = 0x1c84_9313;

/// Why a histogram blob could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum HistogramDecodeError {
    #[error("blob is {len} bytes, shorter than the {V2_HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("blob does not start with the V2 histogram cookie (found {found:#010x})")]
    BadCookie { found: u32 },
    #[error("header declares a {declared}-byte payload but {actual} bytes follow it")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("the histogram's header or counts are outside what gonogo records")]
    Unsupported,
    #[error("the histogram's counts end in the middle of a number")]
    Truncated,
    #[error("cannot decode the histogram")]
    Decode(#[source] DeserializeError),
}

/// Serialize a histogram in the uncompressed V2 format.
pub fn encode_histogram(histogram: &Histogram<u64>) -> Result<Vec<u8>, V2SerializeError> {
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(histogram, &mut bytes)?;
    Ok(bytes)
}

/// Decode a blob written by [`encode_histogram`]. The result auto-resizes, like the
/// histograms the recorder creates, so merging larger values into it works.
pub fn decode_histogram(blob: &[u8]) -> Result<Histogram<u64>, HistogramDecodeError> {
    let (header, payload) = blob
        .split_first_chunk::<V2_HEADER_LEN>()
        .ok_or(HistogramDecodeError::TooShort { len: blob.len() })?;
    let cookie = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if cookie != V2_COOKIE {
        return Err(HistogramDecodeError::BadCookie { found: cookie });
    }
    let declared = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    // u32 always fits in usize on the 32- and 64-bit targets gonogo builds for.
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    if declared != payload.len() {
        return Err(HistogramDecodeError::LengthMismatch {
            declared,
            actual: payload.len(),
        });
    }
    let mut reader = blob;
    let mut histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut reader)
        .map_err(HistogramDecodeError::Decode)?;
    histogram.auto(true);
    Ok(histogram)
}

/// The bucket layout a V2 header describes: enough to turn a counts-array index back
/// into the lowest value of its bucket, as hdrhistogram does.
#[derive(Debug, Clone, Copy)]
struct Layout {
    unit_magnitude: u32,
    sub_bucket_half_count_magnitude: u32,
    /// `unit_magnitude` plus the sub-bucket count's magnitude: a bucket index may add at
    /// most `64 - top` before values overflow.
    top: u32,
}

impl Layout {
    fn of(low: u64, sigfig: u32) -> Option<Layout> {
        if low == 0 || sigfig > 5 {
            return None;
        }
        let unit_magnitude = 63 - low.leading_zeros();
        // Single-unit resolution up to 2 × 10^sigfig, rounded up to a power of two.
        let largest = 2 * 10_u64.pow(sigfig);
        let sub_bucket_count_magnitude = 64 - (largest - 1).leading_zeros();
        let top = unit_magnitude + sub_bucket_count_magnitude;
        (top <= 63).then_some(Layout {
            unit_magnitude,
            sub_bucket_half_count_magnitude: sub_bucket_count_magnitude - 1,
            top,
        })
    }

    /// The lowest value counted at `index`; `None` past the last representable value.
    fn value_at(&self, index: u64) -> Option<u64> {
        let half = 1_u64 << self.sub_bucket_half_count_magnitude;
        let bucket = index >> self.sub_bucket_half_count_magnitude;
        let (bucket, sub_bucket) = match bucket {
            0 => (0, index),
            b => (b - 1, (index & (half - 1)) + half),
        };
        let shift = u32::try_from(bucket)
            .ok()?
            .checked_add(self.unit_magnitude)?;
        (bucket + u64::from(self.top) < 64).then(|| sub_bucket << shift)
    }
}

/// One LEB128 varint as hdrhistogram writes it (the ninth byte keeps all 8 bits).
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0_u64;
    for i in 0..9 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if i == 8 {
            return Some(value | (u64::from(byte) << 56));
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    Some(value)
}

/// Walk the counts of a blob written by [`encode_histogram`] without building a
/// histogram: `visit(value, count)` for every non-zero count, `value` being the lowest
/// value of the count's bucket. Checks the blob as [`decode_histogram`] does, so a blob
/// this accepts once is accepted again. Returns the precision (significant digits,
/// lowest discernible value) the blob was recorded with.
pub fn for_each_count(
    blob: &[u8],
    mut visit: impl FnMut(u64, u64),
) -> Result<(u8, u64), HistogramDecodeError> {
    let (header, payload) = blob
        .split_first_chunk::<V2_HEADER_LEN>()
        .ok_or(HistogramDecodeError::TooShort { len: blob.len() })?;
    let word = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let cookie = word(0);
    if cookie != V2_COOKIE {
        return Err(HistogramDecodeError::BadCookie { found: cookie });
    }
    let declared = usize::try_from(word(4)).unwrap_or(usize::MAX);
    if declared != payload.len() {
        return Err(HistogramDecodeError::LengthMismatch {
            declared,
            actual: payload.len(),
        });
    }
    let low = u64::from_be_bytes([
        header[16], header[17], header[18], header[19], header[20], header[21], header[22],
        header[23],
    ]);
    let ratio = f64::from_be_bytes([
        header[32], header[33], header[34], header[35], header[36], header[37], header[38],
        header[39],
    ]);
    let sigfig = word(12);
    let layout = Layout::of(low, sigfig)
        .filter(|_| word(8) == 0 && ratio == 1.0)
        .ok_or(HistogramDecodeError::Unsupported)?;
    let mut index = 0_u64;
    let mut at = 0;
    while at < payload.len() {
        let raw = read_varint(payload, &mut at).ok_or(HistogramDecodeError::Truncated)?;
        // Zig-zag: non-negative numbers are counts, negative ones runs of zeros.
        let number = ((raw >> 1) as i64) ^ -((raw & 1) as i64);
        if number < 0 {
            index = index
                .checked_add(number.unsigned_abs())
                .ok_or(HistogramDecodeError::Unsupported)?;
            continue;
        }
        let value = layout
            .value_at(index)
            .ok_or(HistogramDecodeError::Unsupported)?;
        if number > 0 {
            visit(value, number.unsigned_abs());
        }
        index += 1;
    }
    // `sigfig <= 5` was checked by `Layout::of`.
    Ok((sigfig as u8, low))
}

/// A duration as whole microseconds (saturating at `i64::MAX`, about 292,000 years).
pub fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// The duration of a stored microsecond count; `None` for a negative count.
pub fn from_micros(micros: i64) -> Option<Duration> {
    u64::try_from(micros).ok().map(Duration::from_micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::new_histogram;

    fn sample_histogram() -> Histogram<u64> {
        let mut histogram = new_histogram();
        for value in [120_u64, 450, 450, 3_000, 2_500_000] {
            histogram.record(value).unwrap();
        }
        histogram
    }

    #[test]
    fn histogram_round_trips_and_stays_auto_resizing() {
        let original = sample_histogram();
        let mut decoded = decode_histogram(&encode_histogram(&original).unwrap()).unwrap();
        assert_eq!(decoded, original);
        assert_eq!(decoded.len(), 5);
        assert_eq!(
            decoded.value_at_quantile(0.99),
            original.value_at_quantile(0.99)
        );
        decoded.record(u64::MAX / 4).unwrap();
        assert_eq!(decoded.len(), 6);
    }

    #[test]
    fn empty_histogram_round_trips() {
        let original = new_histogram();
        let decoded = decode_histogram(&encode_histogram(&original).unwrap()).unwrap();
        assert_eq!(decoded.len(), 0);
        assert_eq!(decoded, original);
    }

    #[test]
    fn damaged_blobs_are_errors() {
        let good = encode_histogram(&sample_histogram()).unwrap();
        assert!(matches!(
            decode_histogram(&good[..10]),
            Err(HistogramDecodeError::TooShort { len: 10 })
        ));
        assert!(matches!(
            decode_histogram(b"not a histogram at all, just forty bytes!!"),
            Err(HistogramDecodeError::BadCookie { .. })
        ));
        assert!(matches!(
            decode_histogram(&good[..good.len() - 1]),
            Err(HistogramDecodeError::LengthMismatch { .. })
        ));
        let mut bad_digits = good.clone();
        bad_digits[15] = 200; // significant digits far beyond 5
        assert!(matches!(
            decode_histogram(&bad_digits),
            Err(HistogramDecodeError::Decode(_))
        ));
    }

    #[test]
    fn every_byte_flip_is_an_error_or_a_histogram_never_a_panic() {
        let good = encode_histogram(&sample_histogram()).unwrap();
        for position in 0..good.len() {
            for flip in [0x01_u8, 0x80, 0xff] {
                let mut damaged = good.clone();
                damaged[position] ^= flip;
                let _ = decode_histogram(&damaged);
            }
        }
    }

    #[test]
    fn whole_microseconds_round_trip() {
        let duration = Duration::from_micros(90_061_000_123);
        assert_eq!(from_micros(micros(duration)), Some(duration));
        assert_eq!(micros(Duration::from_nanos(1_999)), 1);
        assert_eq!(from_micros(-1), None);
    }
}

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
    use crate::evidence::model::new_histogram;

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

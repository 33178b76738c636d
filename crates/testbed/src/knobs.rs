//! The fault knobs' value types and their parsers: byte sizes (`10MiB`), latency distributions
//! (`5ms`, `uniform:1ms:5ms`, `exp:2ms`), error rates and durations, plus [`Knobs`], the validated
//! set of faults the server applies to `/kv` requests.
//!
//! This module is pure: it parses and samples, it never sleeps, allocates on purpose or reads a
//! clock. Applying the knobs to live requests is `faults`' job; the command line is `cli`'s.

use std::time::Duration;

use rand::Rng;

/// Why a knob's value could not be parsed. Messages are shown by clap after `invalid value`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KnobError {
    /// A byte size that is not `<digits>[B|KiB|MiB|GiB]`.
    #[error(
        "`{0}` is not a byte size; write a whole number of bytes or use a unit, e.g. 512KiB, 10MiB, 1GiB"
    )]
    ByteSize(String),
    /// A byte size too large to count.
    #[error("`{0}` is too large; byte sizes must fit in 64 bits")]
    ByteSizeOverflow(String),
    /// A duration humantime could not read.
    #[error("`{text}` is not a duration ({reason}); write e.g. 5ms, 1.5s, 2m")]
    Duration {
        /// The text given.
        text: String,
        /// humantime's reason.
        reason: String,
    },
    /// A latency spec of an unknown shape.
    #[error(
        "`{0}` is not a latency spec; write a fixed duration (5ms), uniform:MIN:MAX or exp:MEAN"
    )]
    LatencyShape(String),
    /// `uniform:MIN:MAX` with MIN above MAX.
    #[error("uniform latency `{0}` has its minimum above its maximum; swap them")]
    LatencyRange(String),
    /// An error rate that is not a number in [0, 1].
    #[error("`{0}` is not an error rate; write a fraction between 0 and 1, e.g. 0.05")]
    ErrorRate(String),
}

/// Parses a byte size: a whole number of bytes, optionally followed by `B`, `KiB`, `MiB` or `GiB`
/// (binary units; `KB`/`MB`/`GB` are accepted as the same binary units, case-insensitively).
pub fn parse_byte_size(text: &str) -> Result<u64, KnobError> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(KnobError::ByteSize(text.to_owned()));
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(KnobError::ByteSize(text.to_owned())),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| KnobError::ByteSizeOverflow(text.to_owned()))?;
    count
        .checked_mul(multiplier)
        .ok_or_else(|| KnobError::ByteSizeOverflow(text.to_owned()))
}

/// Parses a duration with humantime (`5ms`, `1.5s`, `2m 3s`).
pub fn parse_duration(text: &str) -> Result<Duration, KnobError> {
    humantime::parse_duration(text.trim()).map_err(|e| KnobError::Duration {
        text: text.to_owned(),
        reason: e.to_string(),
    })
}

/// Parses an error rate: a finite fraction in `[0, 1]`.
pub fn parse_error_rate(text: &str) -> Result<f64, KnobError> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(KnobError::ErrorRate(text.to_owned())),
    }
}

/// How much latency to add to each `/kv` request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always the same delay.
    Fixed(Duration),
    /// Uniformly distributed in `[min, max]`.
    Uniform {
        /// Smallest delay.
        min: Duration,
        /// Largest delay.
        max: Duration,
    },
    /// Exponentially distributed with this mean (memoryless; a long tail).
    Exponential {
        /// The mean delay.
        mean: Duration,
    },
}

impl Latency {
    /// Parses `5ms`, `uniform:1ms:5ms` or `exp:2ms`.
    pub fn parse(text: &str) -> Result<Self, KnobError> {
        let trimmed = text.trim();
        let parts: Vec<&str> = trimmed.split(':').collect();
        match parts.as_slice() {
            [fixed] => Ok(Self::Fixed(parse_duration(fixed)?)),
            ["uniform", min, max] => {
                let (min, max) = (parse_duration(min)?, parse_duration(max)?);
                if min > max {
                    return Err(KnobError::LatencyRange(text.to_owned()));
                }
                Ok(Self::Uniform { min, max })
            }
            ["exp", mean] => Ok(Self::Exponential {
                mean: parse_duration(mean)?,
            }),
            _ => Err(KnobError::LatencyShape(text.to_owned())),
        }
    }

    /// Draws one delay from the distribution.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        match *self {
            Self::Fixed(delay) => delay,
            Self::Uniform { min, max } => rng.random_range(min..=max),
            Self::Exponential { mean } => {
                // Inverse transform: -mean * ln(U) with U in (0, 1]; `1 - [0, 1)` avoids ln(0).
                let u = 1.0 - rng.random::<f64>();
                let seconds = -mean.as_secs_f64() * u.ln();
                // A draw beyond what Duration can hold is capped rather than failing.
                Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
            }
        }
    }
}

/// A one-time stall of `/kv` requests, like a long GC pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// The stall begins when `/kv` request number `after + 1` arrives.
    pub after: u64,
    /// How long the stall lasts.
    pub length: Duration,
}

/// One-time cache growth: the first `fill_requests` `/kv` requests retain `bytes` between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheGrowth {
    /// Total bytes retained once the cache is full.
    pub bytes: u64,
    /// How many requests share the growth (at least 1).
    pub fill_requests: u64,
}

impl CacheGrowth {
    /// Bytes that `/kv` request number `request` (counting from 1) adds to the cache: an equal
    /// share for each of the first `fill_requests` requests, the remainder on the last of them.
    pub fn share_for(&self, request: u64) -> u64 {
        let fill = self.fill_requests.max(1);
        if request == 0 || request > fill {
            return 0;
        }
        let share = self.bytes / fill;
        if request == fill {
            share + self.bytes % fill
        } else {
            share
        }
    }
}

/// The validated faults applied to `/kv` requests. `None`/zero means the fault is off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knobs {
    /// Added latency.
    pub latency: Option<Latency>,
    /// Fraction of requests answered 500.
    pub error_rate: f64,
    /// Bytes retained forever by each request.
    pub leak_per_request: u64,
    /// One-time cache growth.
    pub cache: Option<CacheGrowth>,
    /// Exit with status 70 after serving this many requests.
    pub crash_after: Option<u64>,
    /// One-time stall.
    pub pause: Option<Pause>,
    /// Time each `GET /kv/{key}` waits per item the store holds (a lookup that costs
    /// O(N)): response time grows linearly with the data set.
    pub get_cost_per_item: Option<Duration>,
}

impl Knobs {
    /// How long a `GET /kv/{key}` waits when the store holds `items` keys: the
    /// per-item cost times `items`, at most 60 s; zero when the knob is off.
    pub fn get_cost(&self, items: usize) -> Duration {
        let Some(per_item) = self.get_cost_per_item else {
            return Duration::ZERO;
        };
        let secs = per_item.as_secs_f64() * items as f64;
        Duration::try_from_secs_f64(secs.min(60.0)).unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn byte_sizes_accept_plain_numbers_and_binary_units() {
        assert_eq!(parse_byte_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_byte_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_byte_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_byte_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_byte_size("3 mb"), Ok(3 << 20));
        assert_eq!(parse_byte_size("0"), Ok(0));
        assert_eq!(parse_byte_size("7B"), Ok(7));
    }

    #[test]
    fn byte_sizes_reject_garbage_and_overflow() {
        for bad in ["", "MiB", "-5", "1.5MiB", "10XiB", "ten"] {
            assert_eq!(
                parse_byte_size(bad),
                Err(KnobError::ByteSize(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_byte_size("99999999999999999999"),
            Err(KnobError::ByteSizeOverflow(_))
        ));
        assert!(matches!(
            parse_byte_size("17179869184GiB"),
            Err(KnobError::ByteSizeOverflow(_))
        ));
    }

    #[test]
    fn get_cost_is_linear_in_the_items_and_off_by_default() {
        assert_eq!(Knobs::default().get_cost(1_000_000), Duration::ZERO);
        let knobs = Knobs {
            get_cost_per_item: Some(Duration::from_micros(2)),
            ..Knobs::default()
        };
        assert_eq!(knobs.get_cost(0), Duration::ZERO);
        assert_eq!(knobs.get_cost(500), Duration::from_millis(1));
        assert_eq!(knobs.get_cost(4000), Duration::from_millis(8));
        assert_eq!(
            knobs.get_cost(usize::MAX),
            Duration::from_secs(60),
            "capped"
        );
    }

    #[test]
    fn latency_specs_parse_into_their_shapes() {
        assert_eq!(
            Latency::parse("5ms"),
            Ok(Latency::Fixed(Duration::from_millis(5)))
        );
        assert_eq!(
            Latency::parse("uniform:1ms:5ms"),
            Ok(Latency::Uniform {
                min: Duration::from_millis(1),
                max: Duration::from_millis(5)
            })
        );
        assert_eq!(
            Latency::parse("exp:2ms"),
            Ok(Latency::Exponential {
                mean: Duration::from_millis(2)
            })
        );
        assert!(matches!(
            Latency::parse("uniform:5ms:1ms"),
            Err(KnobError::LatencyRange(_))
        ));
        assert!(matches!(
            Latency::parse("normal:1ms:2ms"),
            Err(KnobError::LatencyShape(_))
        ));
        assert!(matches!(
            Latency::parse("exp:fast"),
            Err(KnobError::Duration { .. })
        ));
    }

    #[test]
    fn uniform_latency_stays_in_range_and_spreads() {
        let latency = Latency::parse("uniform:1ms:5ms").expect("valid spec");
        let mut rng = StdRng::seed_from_u64(7);
        let draws: Vec<Duration> = (0..2000).map(|_| latency.sample(&mut rng)).collect();
        let (lo, hi) = (Duration::from_millis(1), Duration::from_millis(5));
        assert!(draws.iter().all(|d| (lo..=hi).contains(d)));
        assert!(draws.iter().any(|d| *d < Duration::from_millis(2)));
        assert!(draws.iter().any(|d| *d > Duration::from_millis(4)));
    }

    #[test]
    fn exponential_latency_has_the_requested_mean() {
        let latency = Latency::parse("exp:2ms").expect("valid spec");
        let mut rng = StdRng::seed_from_u64(11);
        let n = 20_000;
        let total: f64 = (0..n).map(|_| latency.sample(&mut rng).as_secs_f64()).sum();
        let mean_ms = total / f64::from(n) * 1e3;
        assert!((1.9..2.1).contains(&mean_ms), "mean was {mean_ms} ms");
    }

    #[test]
    fn error_rates_must_be_fractions() {
        assert_eq!(parse_error_rate("0"), Ok(0.0));
        assert_eq!(parse_error_rate("0.25"), Ok(0.25));
        assert_eq!(parse_error_rate("1.0"), Ok(1.0));
        for bad in ["1.5", "-0.1", "NaN", "half"] {
            assert!(parse_error_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_growth_shares_add_up_to_the_total_and_stop() {
        let cache = CacheGrowth {
            bytes: 1003,
            fill_requests: 10,
        };
        let shares: Vec<u64> = (1..=12).map(|n| cache.share_for(n)).collect();
        assert_eq!(shares[0], 100);
        assert_eq!(shares[9], 103);
        assert_eq!(shares[10..], [0, 0]);
        assert_eq!(shares.iter().sum::<u64>(), 1003);
        assert_eq!(cache.share_for(0), 0);
    }
}

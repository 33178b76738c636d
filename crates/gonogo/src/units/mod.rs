//! Parsing of the quantities people write in specs: durations (`"250us"`, `"1.5s"`,
//! `"1m30s"`), byte sizes (`"200MiB"`, `"1.5GB"`), ratios (`"0.1%"`, `"0.001"`) and
//! rates (`"500"`, `"500/s"`).
//!
//! Owns: the text → number conversions and their errors. Does not own: which unit a
//! field expects, field names, file positions (that is `spec` and `plan::resolve`).
//! Pure functions, no I/O.

pub mod format;

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a quantity could not be parsed. Messages are lowercase fragments meant to be
/// embedded in a larger diagnostic (`phase[0].duration: <this>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("the value is empty")]
    Empty,
    #[error("`{text}` is not a number")]
    NotANumber { text: String },
    #[error("`{text}` has no unit")]
    MissingUnit { text: String },
    #[error("unknown unit `{unit}` in `{text}` (allowed units: {allowed})")]
    UnknownUnit {
        text: String,
        unit: String,
        allowed: &'static str,
    },
    #[error("`{text}` is negative; only values of zero or more make sense here")]
    Negative { text: String },
    #[error("`{text}` is out of range ({range})")]
    OutOfRange { text: String, range: &'static str },
}

/// Units accepted by [`parse_duration`], for messages.
pub const DURATION_UNITS: &str = "ns, us, µs, ms, s, m, min, h";
/// Units accepted by [`parse_bytes`], for messages.
pub const BYTE_UNITS: &str =
    "B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024)";

/// A non-negative decimal number as written, kept exact: `int_part.frac_digits`.
#[derive(Debug, Clone, Copy)]
struct Decimal<'a> {
    int_part: &'a str,
    frac_part: &'a str,
}

impl Decimal<'_> {
    fn to_f64(self, whole: &str) -> Result<f64, UnitError> {
        let text = if self.frac_part.is_empty() {
            self.int_part.to_string()
        } else {
            format!("{}.{}", self.int_part, self.frac_part)
        };
        let value: f64 = text.parse().map_err(|_| UnitError::NotANumber {
            text: whole.to_string(),
        })?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(UnitError::OutOfRange {
                text: whole.to_string(),
                range: "too large",
            })
        }
    }

    /// `self × unit`, exactly, in an integer base unit (nanoseconds, bytes).
    fn times(self, unit: u128, whole: &str) -> Result<u128, UnitError> {
        let too_large = || UnitError::OutOfRange {
            text: whole.to_string(),
            range: "too large",
        };
        let int: u128 = if self.int_part.is_empty() {
            0
        } else {
            self.int_part.parse().map_err(|_| too_large())?
        };
        let mut total = int.checked_mul(unit).ok_or_else(too_large)?;
        // Keep 18 fractional digits: enough for nanoseconds of an hour and bytes of
        // a TiB, and small enough that digits × unit cannot overflow u128.
        let frac = &self.frac_part[..self.frac_part.len().min(18)];
        if !frac.is_empty() {
            let digits: u128 = frac.parse().map_err(|_| too_large())?;
            let scale = 10u128.pow(frac.len() as u32);
            // Round to nearest so that "0.1ms" is exactly 100µs.
            let part = digits
                .checked_mul(unit)
                .ok_or_else(too_large)?
                .checked_add(scale / 2)
                .ok_or_else(too_large)?
                / scale;
            total = total.checked_add(part).ok_or_else(too_large)?;
        }
        Ok(total)
    }
}

/// Split a leading unsigned decimal (`12`, `1.5`, `.5`) off `text`.
fn split_number<'a>(text: &'a str, whole: &str) -> Result<(Decimal<'a>, &'a str), UnitError> {
    if text.starts_with('-') {
        return Err(UnitError::Negative {
            text: whole.to_string(),
        });
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let (int_part, rest) = text.split_at(int_len);
    let (frac_part, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let frac_len = after.bytes().take_while(u8::is_ascii_digit).count();
            after.split_at(frac_len)
        }
        None => ("", rest),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(UnitError::NotANumber {
            text: whole.to_string(),
        });
    }
    Ok((
        Decimal {
            int_part,
            frac_part,
        },
        rest,
    ))
}

fn duration_unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" | "sec" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parse a duration: one or more `<number><unit>` groups, e.g. `"250us"`, `"50ms"`,
/// `"1.5s"`, `"2m"`, `"1m30s"`. Units: see [`DURATION_UNITS`]. A bare number is an
/// error (the unit would be a guess). Exact to the nanosecond.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let whole = trimmed(text)?;
    let mut rest = whole;
    let mut nanos: u128 = 0;
    while !rest.is_empty() {
        let (number, after) = split_number(rest, whole)?;
        let after = after.trim_start();
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.' || c.is_whitespace())
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(UnitError::MissingUnit {
                text: whole.to_string(),
            });
        }
        let scale =
            duration_unit_nanos(unit).ok_or_else(|| unknown_unit(whole, unit, DURATION_UNITS))?;
        nanos = nanos
            .checked_add(number.times(scale, whole)?)
            .ok_or_else(|| out_of_range(whole, "too large"))?;
        rest = next.trim_start();
    }
    let secs =
        u64::try_from(nanos / 1_000_000_000).map_err(|_| out_of_range(whole, "too large"))?;
    // The remainder of a division by 1e9 always fits in u32.
    let sub = u32::try_from(nanos % 1_000_000_000).map_err(|_| out_of_range(whole, "too large"))?;
    Ok(Duration::new(secs, sub))
}

/// `text` without surrounding blanks; nothing left is [`UnitError::Empty`].
fn trimmed(text: &str) -> Result<&str, UnitError> {
    let whole = text.trim();
    if whole.is_empty() {
        return Err(UnitError::Empty);
    }
    Ok(whole)
}

/// `unit` after the number of `text` is none of `allowed`.
fn unknown_unit(text: &str, unit: impl Into<String>, allowed: &'static str) -> UnitError {
    UnitError::UnknownUnit {
        text: text.to_string(),
        unit: unit.into(),
        allowed,
    }
}

fn out_of_range(text: &str, range: &'static str) -> UnitError {
    UnitError::OutOfRange {
        text: text.to_string(),
        range,
    }
}

fn byte_unit(unit: &str) -> Option<u128> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "tb" | "t" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    })
}

/// Parse a byte size: `"200MiB"`, `"1.5GB"`, `"512KiB"`, `"4096"`. Units (case
/// insensitive): see [`BYTE_UNITS`]. Rounded to the nearest byte.
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let whole = trimmed(text)?;
    let (number, unit) = split_number(whole, whole)?;
    let unit = unit.trim();
    let scale = byte_unit(unit).ok_or_else(|| unknown_unit(whole, unit, BYTE_UNITS))?;
    u64::try_from(number.times(scale, whole)?).map_err(|_| out_of_range(whole, "too large"))
}

/// Parse a ratio: a percentage `"0.1%"` (0–100 %) or a plain fraction `"0.001"`
/// (0–1). Returns a fraction in [0, 1].
pub fn parse_ratio(text: &str) -> Result<f64, UnitError> {
    let whole = trimmed(text)?;
    let (number, unit) = split_number(whole, whole)?;
    let value = number.to_f64(whole)?;
    match unit.trim() {
        "%" if value <= 100.0 => Ok(value / 100.0),
        "%" => Err(out_of_range(whole, "0% to 100%")),
        "" if value <= 1.0 => Ok(value),
        "" => Err(out_of_range(
            whole,
            "a fraction between 0 and 1; write a percentage with `%`",
        )),
        other => Err(unknown_unit(whole, other, "% or none")),
    }
}

/// Parse a rate in events per second: `"500"` or `"500/s"` (also `"1.5/s"`).
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let whole = trimmed(text)?;
    let (number, unit) = split_number(whole, whole)?;
    match unit.trim() {
        "" | "/s" => number.to_f64(whole),
        other => Err(unknown_unit(whole, other, "/s or none")),
    }
}

/// Parse a plain non-negative decimal number such as `"1.5"`.
pub fn parse_number(text: &str) -> Result<f64, UnitError> {
    let whole = trimmed(text)?;
    let (number, rest) = split_number(whole, whole)?;
    if rest.is_empty() {
        number.to_f64(whole)
    } else {
        Err(UnitError::NotANumber {
            text: whole.to_string(),
        })
    }
}

/// Time units accepted after the `/` of a growth rate, for messages.
pub const PER_TIME_UNITS: &str = "/h, /min, /s, /d";

/// Parse a growth rate and return it per hour: `"1MiB/h"`, `"64KiB/min"`
/// (`bytes = true`) or `"10/h"`, `"0.5/min"`, `"12"` (`bytes = false`; a bare count
/// is per hour). The quantity before the `/` is parsed as [`parse_bytes`] or
/// [`parse_number`] parse it; the time unit is one of [`PER_TIME_UNITS`].
pub fn parse_per_hour(text: &str, bytes: bool) -> Result<f64, UnitError> {
    let whole = trimmed(text)?;
    let (quantity, per) = match whole.rsplit_once('/') {
        Some((quantity, per)) => (quantity, Some(per.trim())),
        None => (whole, None),
    };
    let value = if bytes {
        parse_bytes(quantity)? as f64
    } else {
        parse_number(quantity)?
    };
    let per_hour = match per {
        Some("h") => 1.0,
        Some("min" | "m") => 60.0,
        Some("s") => 3600.0,
        Some("d") => 1.0 / 24.0,
        None if !bytes => 1.0,
        None => {
            return Err(UnitError::MissingUnit {
                text: whole.to_string(),
            });
        }
        Some(other) => {
            return Err(unknown_unit(whole, format!("/{other}"), PER_TIME_UNITS));
        }
    };
    Ok(value * per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `result` is an error of kind `UnitError::$kind`.
    macro_rules! assert_refused {
        ($result:expr, $kind:ident) => {{
            let result = $result;
            assert!(matches!(result, Err(UnitError::$kind { .. })), "{result:?}");
        }};
    }

    #[test]
    fn durations_in_every_unit_are_exact() {
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("0.1ms"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("0.0000000000000000000000000001h"),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn durations_compose_and_tolerate_spaces() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 1m 30s "), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("50 ms"), Ok(Duration::from_millis(50)));
    }

    #[test]
    fn bad_durations_say_why() {
        assert_eq!(parse_duration(""), Err(UnitError::Empty));
        assert_refused!(parse_duration("50"), MissingUnit);
        assert!(matches!(
            parse_duration("5%"),
            Err(UnitError::UnknownUnit { ref unit, .. }) if unit == "%"
        ));
        assert_refused!(parse_duration("-1s"), Negative);
        assert_refused!(parse_duration("ms"), NotANumber);
        assert_refused!(parse_duration("1.2.3s"), MissingUnit);
        assert_refused!(parse_duration("99999999999999999999999999h"), OutOfRange);
        let message = parse_duration("3 days").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err(format!(
                "unknown unit `days` in `3 days` (allowed units: {DURATION_UNITS})"
            ))
        );
    }

    #[test]
    fn byte_sizes_use_decimal_and_binary_prefixes() {
        assert_eq!(parse_bytes("200MiB"), Ok(200 * 1024 * 1024));
        assert_eq!(parse_bytes("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_bytes("512kib"), Ok(512 * 1024));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("10 B"), Ok(10));
        assert_eq!(parse_bytes("1.5KiB"), Ok(1536));
        assert_refused!(parse_bytes("3 parsecs"), UnknownUnit);
        assert_refused!(parse_bytes("-1MB"), Negative);
        assert_refused!(parse_bytes("99999999999TiB"), OutOfRange);
    }

    #[test]
    fn ratios_accept_percentages_and_fractions() {
        assert_eq!(parse_ratio("0.1%"), Ok(0.001));
        assert_eq!(parse_ratio("5%"), Ok(0.05));
        assert_eq!(parse_ratio("100%"), Ok(1.0));
        assert_eq!(parse_ratio("0.001"), Ok(0.001));
        assert_eq!(parse_ratio("1"), Ok(1.0));
        assert_refused!(parse_ratio("101%"), OutOfRange);
        assert_refused!(parse_ratio("2"), OutOfRange);
        assert_refused!(parse_ratio("5ms"), UnknownUnit);
    }

    #[test]
    fn rates_and_numbers() {
        assert_eq!(parse_rate("500"), Ok(500.0));
        assert_eq!(parse_rate("500/s"), Ok(500.0));
        assert_eq!(parse_rate("2.5 /s"), Ok(2.5));
        assert_refused!(parse_rate("500/min"), UnknownUnit);
        assert_eq!(parse_number("1.5"), Ok(1.5));
        assert_refused!(parse_number("1.5x"), NotANumber);
    }

    #[test]
    fn growth_rates_are_per_hour() {
        assert_eq!(parse_per_hour("1MiB/h", true).unwrap(), 1_048_576.0);
        assert_eq!(parse_per_hour("1KiB/min", true).unwrap(), 61_440.0);
        assert_eq!(parse_per_hour("10/h", false).unwrap(), 10.0);
        assert_eq!(parse_per_hour("12", false).unwrap(), 12.0);
        assert_eq!(parse_per_hour("1/s", false).unwrap(), 3600.0);
        assert_eq!(parse_per_hour("48/d", false).unwrap(), 2.0);
        assert_refused!(parse_per_hour("1MiB", true), MissingUnit);
        assert_refused!(parse_per_hour("1MiB/week", true), UnknownUnit);
        assert!(parse_per_hour("-1/h", false).is_err());
    }
}

/// Base units; thresholds and observed values are f64 in these units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Seconds,
    PerSecond,
    /// A fraction in [0, 1]; written `0.1%` or `0.001` in specs.
    Ratio,
    Bytes,
    Cores,
    Count,
    /// 0 or 1; written `true`/`false` in specs.
    Boolean,
    /// Growth of a size, bytes per hour; written `"1MiB/h"` in specs.
    BytesPerHour,
    /// Growth of a count, per hour; written `"10/h"` or `10` in specs.
    CountPerHour,
    /// A multiple, e.g. headroom; written `3` or `2.5` in specs, shown as `3.00×`.
    Factor,
    /// A power-law exponent (dimensionless, may be negative); written `1.1` in specs,
    /// shown as `1.10`.
    Exponent,
}

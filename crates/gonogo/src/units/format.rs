//! Human formatting of values by unit: durations, sizes, ratios, rates, cores, counts,
//! booleans, and wall-clock timestamps.
//!
//! Owns: every number-to-text rule used in findings and reports, so a value reads the
//! same everywhere. Does not own: layout (the renderers). Pure: no I/O, no clock.

use std::time::Duration;

use super::Unit;

/// Format a value given in `unit`'s base unit.
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Seconds => seconds(v),
        Unit::PerSecond => per_second(v),
        Unit::Ratio => percent(v),
        Unit::Bytes => bytes(v),
        Unit::Cores => cores(v),
        Unit::Count => count_f64(v),
        Unit::Boolean => boolean(v),
        Unit::BytesPerHour => format!("{}/h", bytes(v)),
        Unit::CountPerHour => format!("{}/h", sig3(v)),
        Unit::Factor => format!("{}×", sig3(v)),
        Unit::Exponent => format!("{v:.2}"),
    }
}

/// A confidence interval in `unit`: `[1.20 MiB/h, 2.40 MiB/h]`.
pub fn interval(unit: Unit, lower: f64, upper: f64) -> String {
    format!("[{}, {}]", value(unit, lower), value(unit, upper))
}

/// An optional value, or `-` when there is none.
pub fn value_or_dash(unit: Unit, v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| value(unit, v))
}

/// Round to three significant digits.
fn round_sig3(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let magnitude = v.abs().log10().floor() as i32;
    let factor = 10f64.powi(2 - magnitude);
    (v * factor).round() / factor
}

/// Three significant digits, keeping trailing zeros (`50.0`, `1.20`, `512`).
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let rounded = round_sig3(v);
    if rounded == 0.0 {
        return "0".to_string();
    }
    let magnitude = rounded.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    format!("{rounded:.decimals$}")
}

/// A duration in seconds as µs, ms or s with three significant digits.
pub fn seconds(v: f64) -> String {
    let rounded = round_sig3(v).abs();
    if rounded == 0.0 {
        "0 µs".to_string()
    } else if rounded < 1e-3 {
        format!("{} µs", sig3(v * 1e6))
    } else if rounded < 1.0 {
        format!("{} ms", sig3(v * 1e3))
    } else {
        format!("{} s", sig3(v))
    }
}

/// A [`Duration`] as [`seconds`] formats it.
pub fn duration(d: Duration) -> String {
    seconds(d.as_secs_f64())
}

/// A size in bytes: `512 B`, `12.3 KiB`, `45.6 MiB`, `1.20 GiB`.
pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if v.abs() < 1024.0 {
        return format!("{} B", v.round());
    }
    let mut scaled = v / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if scaled.abs() < 1024.0 {
            break;
        }
        scaled /= 1024.0;
        unit = next;
    }
    format!("{} {unit}", sig3(scaled))
}

/// A ratio in [0, 1] as a percentage with up to three significant digits: `0.04%`,
/// `12.3%`, `100%`.
pub fn percent(ratio: f64) -> String {
    let text = sig3(ratio * 100.0);
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{trimmed}%")
}

/// A rate: whole numbers with separators from 100/s up, three significant digits below.
pub fn per_second(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{}/s", count_f64(v))
    } else {
        format!("{}/s", sig3(v))
    }
}

/// CPU use in cores, three significant digits.
pub fn cores(v: f64) -> String {
    format!("{} cores", sig3(v))
}

/// A count with thousands separators: `29,871`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn count_f64(v: f64) -> String {
    let rounded = v.round();
    if rounded < 0.0 {
        format!("-{}", count((-rounded) as u64))
    } else {
        count(rounded as u64)
    }
}

/// 0 is `no`, anything else `yes`.
pub fn boolean(v: f64) -> String {
    if v == 0.0 { "no" } else { "yes" }.to_string()
}

/// Milliseconds since the Unix epoch as ISO-8601 UTC: `2023-11-14T22:13:20.000Z`.
pub fn iso8601_utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, millis) = (rest / 1000, rest % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day)
/// (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `text` safe to print on a terminal: control characters (escape sequences, carriage
/// returns, bells) shown as Rust escapes, so text that came from a service or a spec
/// cannot move the cursor or repaint the screen. Printable characters, non-ASCII
/// letters included, are kept as they are.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn durations_pick_a_unit_and_keep_three_significant_digits() {
        assert_eq!(seconds(0.0), "0 µs");
        assert_eq!(seconds(0.000_512), "512 µs");
        assert_eq!(seconds(0.012_34), "12.3 ms");
        assert_eq!(seconds(0.05), "50.0 ms");
        assert_eq!(seconds(0.000_999_6), "1.00 ms");
        assert_eq!(seconds(0.999_9), "1.00 s");
        assert_eq!(seconds(1.5), "1.50 s");
        assert_eq!(seconds(125.0), "125 s");
        assert_eq!(duration(Duration::from_millis(2500)), "2.50 s");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(256.0 * 1024.0 * 1024.0), "256 MiB");
        assert_eq!(bytes(1.2 * 1024.0 * 1024.0 * 1024.0), "1.20 GiB");
    }

    #[test]
    fn ratios_are_percentages() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.0004), "0.04%");
        assert_eq!(percent(0.01), "1%");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(percent(1.0), "100%");
    }

    #[test]
    fn rates_cores_counts_and_booleans() {
        assert_eq!(per_second(29_871.4), "29,871/s");
        assert_eq!(per_second(99.54), "99.5/s");
        assert_eq!(cores(0.05), "0.0500 cores");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(value(Unit::Count, 12.0), "12");
        assert_eq!(value(Unit::Boolean, 0.0), "no");
        assert_eq!(value(Unit::Boolean, 1.0), "yes");
        assert_eq!(value(Unit::BytesPerHour, 1_048_576.0), "1.00 MiB/h");
        assert_eq!(value(Unit::CountPerHour, 12.0), "12.0/h");
        assert_eq!(value(Unit::Factor, 3.0), "3.00×");
        assert_eq!(
            interval(Unit::BytesPerHour, -2048.0, 4096.0),
            "[-2.00 KiB/h, 4.00 KiB/h]"
        );
        assert_eq!(value_or_dash(Unit::Seconds, None), "-");
    }

    #[test]
    fn timestamps_match_rfc3339_with_millis() {
        for ms in [0, 1_700_000_000_123, 951_782_400_000, 4_102_444_799_999, 1] {
            let expected =
                humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms as u64))
                    .to_string();
            assert_eq!(iso8601_utc(ms), expected, "ms = {ms}");
        }
        assert_eq!(iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("ok \u{1b}[2J\r\x07"), "ok \\u{1b}[2J\\r\\u{7}");
        assert_eq!(printable("größe 5 µs"), "größe 5 µs");
    }
}

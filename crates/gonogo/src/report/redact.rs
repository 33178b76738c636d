//! Redaction of run-varying values in rendered reports, so that the output of a real
//! run can be snapshot-tested: ISO-8601 timestamps, run ids, pids, ports, durations
//! and given host names are replaced by placeholders.
//!
//! Owns: the placeholder rules. A small hand-written scanner, no regex engine.

/// Placeholders used in redacted text.
pub const TIMESTAMP: &str = "[timestamp]";
pub const DURATION: &str = "[duration]";
pub const HOST: &str = "[host]";

/// Words followed by a number that varies from run to run, and their placeholder.
const NUMBERED: [(&str, &str); 3] = [("run ", "[id]"), ("pid ", "[pid]"), ("port ", "[port]")];

/// Duration units recognised after a number, longest first so `ms` wins over `s`.
const DURATION_UNITS: [&str; 7] = ["min", "ms", "µs", "us", "ns", "s", "h"];

/// Replace ISO timestamps, `run N`, `pid N`, `port N` and durations (`12.3 ms`,
/// `0.500 s`) with placeholders.
pub fn redact(text: &str) -> String {
    redact_with_hosts(text, &[])
}

/// [`redact`], and also replace each of the given host names with `[host]`.
pub fn redact_with_hosts(text: &str, hosts: &[&str]) -> String {
    let mut text = text.to_string();
    for host in hosts.iter().filter(|h| !h.is_empty()) {
        text = text.replace(host, HOST);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !is_word(chars[i - 1]);
        if boundary {
            if let Some(end) = timestamp_end(&chars, i) {
                out.push_str(TIMESTAMP);
                i = end;
                continue;
            }
            if let Some((end, word, placeholder)) = numbered_end(&chars, i) {
                out.push_str(word);
                out.push_str(placeholder);
                i = end;
                continue;
            }
        }
        if boundary && chars[i].is_ascii_digit() {
            let number_end = number_end(&chars, i);
            match duration_unit_end(&chars, number_end) {
                Some(end) => {
                    out.push_str(DURATION);
                    i = end;
                }
                None => {
                    out.extend(&chars[i..number_end]);
                    i = number_end;
                }
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '_'
}

fn digits_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Expect exactly `n` digits at `start`.
fn fixed_digits(chars: &[char], start: usize, n: usize) -> Option<usize> {
    (digits_end(chars, start) - start >= n && start + n <= chars.len()).then_some(start + n)
}

fn expect(chars: &[char], at: usize, c: char) -> Option<usize> {
    (chars.get(at) == Some(&c)).then_some(at + 1)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` starting at `start`.
fn timestamp_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = fixed_digits(chars, start, 4)?;
    for (sep, n) in [('-', 2), ('-', 2), ('T', 2), (':', 2), (':', 2)] {
        i = expect(chars, i, sep)?;
        i = fixed_digits(chars, i, n)?;
    }
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        i = digits_end(chars, i + 1);
    }
    match chars.get(i) {
        Some('Z') => Some(i + 1),
        Some('+') | Some('-') => {
            let offset = fixed_digits(chars, i + 1, 2)
                .and_then(|j| expect(chars, j, ':'))
                .and_then(|j| fixed_digits(chars, j, 2));
            Some(offset.unwrap_or(i))
        }
        _ => Some(i),
    }
}

/// `run 12`, `pid 4242`, `port 38211`: the end, the word and the placeholder.
fn numbered_end(chars: &[char], start: usize) -> Option<(usize, &'static str, &'static str)> {
    NUMBERED.iter().find_map(|(word, placeholder)| {
        let len = word.chars().count();
        let matches = chars.len() >= start + len
            && chars[start..start + len].iter().copied().eq(word.chars());
        if !matches {
            return None;
        }
        let end = digits_end(chars, start + len);
        let whole = end > start + len && chars.get(end).is_none_or(|c| !is_word(*c));
        whole.then_some((end, *word, *placeholder))
    })
}

/// A number: digits with optional thousands separators and decimals.
fn number_end(chars: &[char], start: usize) -> usize {
    let mut i = digits_end(chars, start);
    while chars.get(i) == Some(&',') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        i = digits_end(chars, i + 1);
    }
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        i = digits_end(chars, i + 1);
    }
    i
}

/// A duration unit after a number (one optional space), ending at a word boundary.
fn duration_unit_end(chars: &[char], number_end: usize) -> Option<usize> {
    let start = if chars.get(number_end) == Some(&' ') {
        number_end + 1
    } else {
        number_end
    };
    DURATION_UNITS.iter().find_map(|unit| {
        let len = unit.chars().count();
        let matches = chars.len() >= start + len
            && chars[start..start + len].iter().copied().eq(unit.chars());
        let bounded = chars.get(start + len).is_none_or(|c| !c.is_alphanumeric());
        (matches && bounded).then_some(start + len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each input redacts to its expected text.
    fn assert_redacts(cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(redact(input), *expected, "redacting {input:?}");
        }
    }

    #[test]
    fn timestamps_are_replaced() {
        assert_redacts(&[
            (
                "started 2023-11-14T22:13:20.000Z · done",
                "started [timestamp] · done",
            ),
            ("at 2024-01-02T03:04:05+02:00.", "at [timestamp]."),
            ("\"2024-01-02T03:04:05Z\"", "\"[timestamp]\""),
        ]);
    }

    #[test]
    fn run_ids_pids_and_ports_are_replaced() {
        assert_redacts(&[
            ("NO-GO  demo (run 42)", "NO-GO  demo (run [id])"),
            (
                "pid 4242 on port 38211: testbed",
                "pid [pid] on port [port]: testbed",
            ),
            // Not a number after the word: left alone.
            ("run completed", "run completed"),
            ("rerun 3", "rerun 3"),
        ]);
    }

    #[test]
    fn durations_are_replaced_and_other_numbers_kept() {
        assert_redacts(&[
            (
                "p99 12.3 ms, max 1.50 s, lag 512 µs, 2s",
                "p99 [duration], max [duration], lag [duration], [duration]",
            ),
            (
                "1,500 requests, 3 samples, 40.6 MiB, 150/s, 0 of 10",
                "1,500 requests, 3 samples, 40.6 MiB, 150/s, 0 of 10",
            ),
            ("p99 and p99.9", "p99 and p99.9"),
        ]);
    }

    #[test]
    fn given_host_names_are_replaced() {
        assert_eq!(
            redact_with_hosts("host build-7 (4 cores)", &["build-7"]),
            "host [host] (4 cores)"
        );
    }
}

//! Exit codes: the one place they are defined. Listed in `--help` and the README.
//!
//! A CI pipeline reads the verdict from the exit code alone; the codes are a
//! contract and never change meaning.

use std::process::ExitCode;

use crate::model::Decision;

/// Every blocker criterion passed.
pub const GO: u8 = 0;
/// At least one blocker criterion failed.
pub const NO_GO: u8 = 1;
/// No blocker failed, but at least one could not be decided (too little data, the
/// load generator fell behind, the run was aborted).
pub const INCONCLUSIVE: u8 = 2;
/// The spec or the command line is invalid; nothing was run.
pub const INVALID: u8 = 3;
/// gonogo or its environment failed (service would not start, store unreadable, …).
pub const FAILURE: u8 = 4;
/// The operator interrupted the run (Ctrl-C, SIGTERM); the partial run is stored as aborted.
pub const INTERRUPTED: u8 = 130;

/// The exit-code table, for `--help`.
pub const HELP: &str = "\
Exit codes:
  0    GO: every blocker criterion passed
  1    NO-GO: at least one blocker criterion failed
  2    INCONCLUSIVE: no blocker failed, but some could not be decided
  3    invalid spec or command line
  4    tool or environment failure
  130  interrupted; the partial run is stored as aborted";

/// The exit code for a verdict.
pub fn for_decision(decision: Decision) -> u8 {
    match decision {
        Decision::Go => GO,
        Decision::NoGo => NO_GO,
        Decision::Inconclusive => INCONCLUSIVE,
    }
}

/// Convert to the process exit code.
pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_listed_in_help() {
        let codes = [GO, NO_GO, INCONCLUSIVE, INVALID, FAILURE, INTERRUPTED];
        for (i, a) in codes.iter().enumerate() {
            assert!(HELP.contains(&format!("  {a} ")), "{a} missing from help");
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(for_decision(Decision::NoGo), NO_GO);
    }
}

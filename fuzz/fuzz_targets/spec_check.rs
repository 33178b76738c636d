//! A spec text through what `gonogo check` does: parse, resolve, warnings, summary,
//! and every error rendered (see `gonogo::fuzzing::spec_check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gonogo::fuzzing::spec_check(data));

//! A server's bytes through gonogo's HTTP/1.1 response reader (see
//! `gonogo::fuzzing::http_response`; for now a copy of `load::http`'s reader, to be
//! pointed at the real one).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gonogo::fuzzing::http_response(data));

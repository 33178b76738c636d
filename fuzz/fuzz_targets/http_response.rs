//! A server's bytes through gonogo's HTTP/1.1 response reader (see
//! `gonogo::fuzzing::http_response`, which runs `load::http`'s reader from memory).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gonogo::fuzzing::http_response(data));

//! A Redis server's replies through the `redis` crate's multiplexed connection and
//! gonogo's Redis workload (see `gonogo::fuzzing::resp_reply`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| gonogo::fuzzing::resp_reply(data));

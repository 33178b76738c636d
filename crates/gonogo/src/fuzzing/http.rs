//! A server's bytes through gonogo's own HTTP/1.1 response reader: the load path's
//! reading and framing code (`load::http`), run from memory by its fuzzing hook.
//!
//! Owns: how the fuzzer's bytes become the hook's arguments (the first byte's lowest
//! bit says the request was a HEAD; the rest is what the server sent).

use std::hint::black_box;

/// Read `data` (a flags byte, then a server's bytes) as responses on one kept
/// connection; never panics, whatever the bytes.
pub fn http_response(data: &[u8]) {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let head_request = flags & 1 == 1;
    let _ = black_box(crate::load::http::fuzz_read_response(bytes, head_request));
}

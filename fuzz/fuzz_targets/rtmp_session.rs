#![no_main]

//! What an RTMP ingest connection takes from outside: any bytes, from the handshake on or
//! after a valid publish (see `src/rtmp.rs` for the input format). Deterministic smoke run:
//! crates/troupe-rtmp/tests/fuzz_smoke.rs.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = troupe_fuzz::rtmp::run(data);
});

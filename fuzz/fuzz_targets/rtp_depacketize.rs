#![no_main]

//! Decrypted RTP as WHIP ingest and recording take it, through the H.264 and Opus
//! depacketizers (harness: fuzz/src/rtp_depacketize.rs). Deterministic smoke run:
//! crates/troupe-depacketize/tests/fuzz_smoke.rs.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = troupe_fuzz::rtp_depacketize::run(data);
});

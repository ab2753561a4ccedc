#![no_main]

//! SDP offers as WHIP receives them: any text is answered or refused with an error, never a
//! panic; an answer always names the server's candidate.

use std::{net::SocketAddr, time::Instant};

use libfuzzer_sys::fuzz_target;
use troupe_media::session::answer_offer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let candidate = SocketAddr::from(([127, 0, 0, 1], 7801));
    if let Ok(answered) = answer_offer(text, candidate, Instant::now()) {
        assert!(answered.answer.contains("127.0.0.1 7801"), "{}", answered.answer);
    }
});

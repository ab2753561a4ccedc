#![no_main]

//! SDP offers as WHIP receives them: any text is answered or refused with an error, never a
//! panic; an answer always names the server's candidate. The last byte's low bit picks a
//! publish or a subscription (they negotiate different header extensions).

use std::{net::SocketAddr, time::Instant};

use libfuzzer_sys::fuzz_target;
use troupe_media::{router::Role, session::answer_offer};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, offer)) = data.split_last() else { return };
    let Ok(text) = std::str::from_utf8(offer) else { return };
    let role =
        if pick & 1 == 0 { Role::Publish } else { Role::Subscribe { publisher: "p1".into() } };
    let candidate = SocketAddr::from(([127, 0, 0, 1], 7801));
    if let Ok(answered) = answer_offer(text, &candidate.into(), &role, Instant::now()) {
        assert!(answered.answer.contains("127.0.0.1 7801"), "{}", answered.answer);
    }
});

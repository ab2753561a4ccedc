#![no_main]

//! What a WHIP PATCH and the media port take from outside: trickle-ICE fragments (any text is
//! parsed or refused with an error) and STUN usernames (any datagram yields a ufrag or none).
//! Never a panic. Deterministic smoke runs: crates/troupe-media/tests/sdp_smoke.rs.

use libfuzzer_sys::fuzz_target;
use troupe_media::{sdpfrag, stun};

fuzz_target!(|data: &[u8]| {
    if let Some(ufrag) = stun::local_ufrag(data) {
        assert!(!ufrag.contains(':'));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(fragment) = sdpfrag::parse(text)
    {
        assert!(fragment.candidates.len() <= sdpfrag::MAX_CANDIDATES);
        assert_eq!(fragment.ufrag.is_some(), fragment.pwd.is_some());
    }
});

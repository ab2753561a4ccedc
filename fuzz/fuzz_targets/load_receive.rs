#![no_main]

//! What troupe-load's subscribers take from the server under test: any datagram goes through
//! the direct receive path (RTP header in the clear, SRTP authentication and decryption,
//! padding, counting) and is counted or dropped, never a panic. Byte 0 picks the SRTP profile
//! (AES-CM/HMAC-SHA1, AES-128-GCM, AES-256-GCM); the keys are fixed. Deterministic smoke run:
//! crates/troupe-load/tests/direct_receive.rs (mutations of real SRTP datagrams).

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use str0m::crypto::dtls::SrtpProfile;
use troupe_load::{
    keytap::{self, Keys},
    peer::Tally,
    receive::{Arrival, Streams},
    rtp,
    srtp::SrtpReceiver,
};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, datagram)) = data.split_first() else { return };
    let (profile, material_len) = match pick % 3 {
        0 => (SrtpProfile::AES128_CM_SHA1_80, 2 * (16 + 14)),
        1 => (SrtpProfile::AEAD_AES_128_GCM, 2 * (16 + 12)),
        _ => (SrtpProfile::AEAD_AES_256_GCM, 2 * (32 + 12)),
    };
    let keys = Keys {
        material: (0..material_len).map(|i| i as u8).collect(),
        profile,
        active: pick & 0x80 != 0,
    };
    let mut srtp = SrtpReceiver::new(&keys, &keytap::provider()).expect("a known profile");
    if let Some(header) = rtp::Header::parse(datagram) {
        assert!(header.len <= datagram.len());
    }
    let now = Instant::now();
    let arrival = Arrival { received_ns: 0, now, started: now, group: 0 };
    let mut tally = Tally { window_open: true, ..Tally::default() };
    Streams::default().take_srtp(&mut srtp, &[97], datagram, arrival, &mut tally);
});

#![no_main]

//! What the TURN server takes from outside: any datagram or stream bytes. Parsed as STUN or
//! ChannelData, framed as a TCP stream, and handled by the server core (with fake relays):
//! never a panic, and nothing is allocated without a valid credential. Deterministic smoke
//! run: crates/troupe-turn/tests/scenarios.rs (`mutated_messages_never_panic`).

use std::{sync::Arc, time::Instant};

use libfuzzer_sys::fuzz_target;
use troupe_turn::{
    framing::StreamFramer,
    server::{ClientAddr, PeerRoute, RelaySockets, Transport, TurnConfig, TurnServer},
    stats::TurnStats,
    stun,
};

struct Relays(u16);

impl RelaySockets for Relays {
    fn open(&mut self, _even: bool) -> std::io::Result<u16> {
        self.0 += 1;
        Ok(self.0)
    }
    fn close(&mut self, _port: u16) {}
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = stun::Message::parse(data) {
        for a in m.attributes() {
            let _ = a;
        }
        let _ = m.integrity_ok(b"key");
    }
    let _ = stun::parse_channel_data(data);
    let mut framer = StreamFramer::default();
    framer.push(data);
    while let Ok(Some(m)) = framer.next_message() {
        let _ = m.len();
    }
    let node = "10.0.0.1".parse().unwrap();
    let routes = vec![PeerRoute { advertised: node, ports: 7801..=7801, deliver_to: node }];
    let mut server =
        TurnServer::new(TurnConfig::new("troupe", b"secret", node, routes), Arc::new(TurnStats::default()));
    let mut relays = Relays(0);
    let from = ClientAddr {
        transport: Transport::Udp,
        local: "10.0.0.1:3478".parse().unwrap(),
        remote: "192.0.2.1:5000".parse().unwrap(),
    };
    let mut out = Vec::new();
    let _ = server.handle_client(Instant::now(), 1_800_000_000, from, data, &mut out, &mut relays);
    let _ = server.handle_peer(Instant::now(), 1, "10.0.0.1:7801".parse().unwrap(), data, &mut out);
    assert_eq!(relays.0, 0, "an allocation without a credential");
});

//! The TURN core in simulated time, with fake relay sockets: what a client may and may not do,
//! named after the behaviour. The client side is the crate's own TURN client (coturn's
//! client checks the server independently in `tests/coturn_client.rs`).

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use troupe_turn::{
    client::{Incoming, Outcome, Request, TurnClient},
    credential,
    server::{
        ClientAction, ClientAddr, PeerRoute, RelaySockets, Transport, TurnConfig, TurnServer,
    },
    stats::TurnStats,
    stun::{self, Builder, Class, Message, attr, method},
};

const SECRET: &[u8] = b"a secret of the node's own";
const NODE: &str = "10.0.0.1";
/// The media ports clients may reach through the relay.
const MEDIA: std::ops::RangeInclusive<u16> = 7801..=7802;
const START_UNIX: u64 = 1_800_000_000;

#[derive(Default)]
struct FakeRelays {
    next: u16,
    open: Vec<u16>,
    closed: Vec<u16>,
}

impl RelaySockets for FakeRelays {
    fn open(&mut self, even: bool) -> std::io::Result<u16> {
        self.next += if even { 2 } else { 1 };
        let port = 50_000 + self.next;
        self.open.push(port);
        Ok(port)
    }
    fn close(&mut self, port: u16) {
        self.open.retain(|p| *p != port);
        self.closed.push(port);
    }
}

struct World {
    server: TurnServer,
    relays: FakeRelays,
    now: Instant,
    unix: u64,
    out: Vec<u8>,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn client_addr(port: u16, transport: Transport) -> ClientAddr {
    ClientAddr {
        transport,
        local: addr("10.0.0.1:3478"),
        remote: SocketAddr::new("192.0.2.9".parse().unwrap(), port),
    }
}

impl World {
    fn new() -> World {
        let routes = vec![PeerRoute {
            advertised: NODE.parse().unwrap(),
            ports: MEDIA,
            deliver_to: NODE.parse().unwrap(),
        }];
        let mut config = TurnConfig::new("troupe", SECRET, NODE.parse().unwrap(), routes);
        config.max_allocations_per_user = 3;
        World {
            server: TurnServer::new(config, Arc::new(TurnStats::default())),
            relays: FakeRelays::default(),
            now: Instant::now(),
            unix: START_UNIX,
            out: Vec::new(),
        }
    }

    fn send(&mut self, from: ClientAddr, message: &[u8]) -> ClientAction {
        self.server.handle_client(
            self.now,
            self.unix,
            from,
            message,
            &mut self.out,
            &mut self.relays,
        )
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.unix += by.as_secs();
        self.server.handle_timeout(self.now, &mut self.relays);
    }

    /// Runs `request` through `client` against the server until it is answered (following a
    /// challenge), returning the outcome.
    fn ask(&mut self, client: &mut TurnClient, from: ClientAddr, request: Request) -> Outcome {
        let mut message = Vec::new();
        client.request(request, &mut message);
        for _ in 0..3 {
            let action = self.send(from, &message);
            assert_eq!(action, ClientAction::Reply, "requests are answered");
            let reply = self.out.clone();
            match client.handle_response(&reply, &mut message) {
                Some(Outcome::Retried) => continue,
                Some(outcome) => return outcome,
                None => panic!("not a response to the request"),
            }
        }
        panic!("challenged more than twice");
    }

    fn allocated(&mut self, participant: &str, from: ClientAddr) -> (TurnClient, SocketAddr) {
        let c = credential::mint(SECRET, participant, self.unix + 3600);
        let mut client = TurnClient::new(&c.username, &c.password, from.transport.is_stream());
        match self.ask(&mut client, from, Request::Allocate { lifetime: None }) {
            Outcome::Allocated { relayed, mapped, lifetime } => {
                assert_eq!(mapped, Some(from.remote), "XOR-MAPPED-ADDRESS names the client");
                assert_eq!(lifetime, 600);
                (client, relayed)
            }
            other => panic!("not allocated: {other:?}"),
        }
    }
}

fn failed(outcome: Outcome) -> (u16, String) {
    match outcome {
        Outcome::Failed { code, reason } => (code, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_allocation_is_challenged_then_granted_on_the_relay_address() {
    let mut w = World::new();
    // The bare first request: 401 with a realm and a nonce, and nothing allocated.
    let mut first = Vec::new();
    Builder::new(&mut first, Class::Request, method::ALLOCATE, [1; 12])
        .bytes(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0])
        .finish(None);
    w.send(client_addr(4000, Transport::Udp), &first);
    let challenge = w.out.clone();
    let m = Message::parse(&challenge).unwrap();
    assert_eq!(m.error_code().map(|e| e.0), Some(401));
    assert_eq!(m.text(attr::REALM), Some("troupe"));
    assert!(m.text(attr::NONCE).is_some());
    assert!(w.relays.open.is_empty());
    let (_, relayed) = w.allocated("alice", client_addr(4000, Transport::Udp));
    assert_eq!(relayed, SocketAddr::new(NODE.parse().unwrap(), 50_001));
    assert_eq!(w.relays.open, [50_001]);
    assert_eq!(w.server.allocation_count(), 1);
}

#[test]
fn an_expired_credential_is_refused() {
    let mut w = World::new();
    let c = credential::mint(SECRET, "alice", w.unix - 1);
    let mut client = TurnClient::new(&c.username, &c.password, false);
    let (code, reason) = failed(w.ask(
        &mut client,
        client_addr(4000, Transport::Udp),
        Request::Allocate { lifetime: None },
    ));
    assert_eq!((code, reason.as_str()), (401, "credential expired"));
    assert!(w.relays.open.is_empty());
    assert_eq!(TurnStats::get(&w.server.stats().expired_credentials), 1);
}

#[test]
fn a_forged_password_is_refused() {
    let mut w = World::new();
    let c = credential::mint(b"someone else's secret", "alice", w.unix + 600);
    let mut client = TurnClient::new(&c.username, &c.password, false);
    let (code, reason) = failed(w.ask(
        &mut client,
        client_addr(4000, Transport::Udp),
        Request::Allocate { lifetime: None },
    ));
    assert_eq!((code, reason.as_str()), (401, "wrong credentials"));
    // A participant id changed in a real credential is a forgery too.
    let real = credential::mint(SECRET, "alice", w.unix + 600);
    let mut client =
        TurnClient::new(&real.username.replace("alice", "mallory"), &real.password, false);
    let (code, _) = failed(w.ask(
        &mut client,
        client_addr(4001, Transport::Udp),
        Request::Allocate { lifetime: None },
    ));
    assert_eq!(code, 401);
    assert!(w.relays.open.is_empty());
}

#[test]
fn a_credential_that_expires_cannot_refresh() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let c = credential::mint(SECRET, "alice", w.unix + 60);
    let mut client = TurnClient::new(&c.username, &c.password, false);
    assert!(matches!(
        w.ask(&mut client, from, Request::Allocate { lifetime: None }),
        Outcome::Allocated { .. }
    ));
    w.advance(Duration::from_secs(120));
    let (code, reason) = failed(w.ask(&mut client, from, Request::Refresh { lifetime: 600 }));
    assert_eq!((code, reason.as_str()), (401, "credential expired"));
}

#[test]
fn another_credential_cannot_use_the_allocation() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    w.allocated("alice", from);
    let other = credential::mint(SECRET, "bob", w.unix + 600);
    let mut bob = TurnClient::new(&other.username, &other.password, false);
    let (code, _) = failed(w.ask(&mut bob, from, Request::Refresh { lifetime: 600 }));
    assert_eq!(code, 441);
}

#[test]
fn permissions_and_channels_only_towards_the_media_ports() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, _) = w.allocated("alice", from);
    // A foreign address: 403, whoever asks.
    let (code, reason) =
        failed(w.ask(&mut client, from, Request::CreatePermission(vec![addr("93.184.216.34:80")])));
    assert_eq!(code, 403);
    assert!(reason.contains("only this node's media ports"), "{reason}");
    // One foreign address among allowed ones fails the whole request.
    let mixed = vec![addr("10.0.0.1:7801"), addr("8.8.8.8:53")];
    assert_eq!(failed(w.ask(&mut client, from, Request::CreatePermission(mixed))).0, 403);
    // The node's own address on a port that is not a media port (its API, say): 403.
    let api = Request::ChannelBind { channel: 0x4000, peer: addr("10.0.0.1:7800") };
    assert_eq!(failed(w.ask(&mut client, from, api)).0, 403);
    // The media ports: granted.
    assert_eq!(
        w.ask(&mut client, from, Request::CreatePermission(vec![addr("10.0.0.1:7801")])),
        Outcome::Done
    );
    let media = Request::ChannelBind { channel: 0x4000, peer: addr("10.0.0.1:7802") };
    assert_eq!(w.ask(&mut client, from, media), Outcome::Done);
    assert_eq!(TurnStats::get(&w.server.stats().forbidden_peers), 3);
    // A Send indication to a foreign address goes nowhere.
    let mut send = Vec::new();
    client.send_indication(addr("10.0.0.9:7801"), b"hi", &mut send);
    assert_eq!(w.send(from, &send), ClientAction::Nothing);
}

#[test]
fn data_flows_both_ways_over_a_channel_and_by_indication() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, relayed) = w.allocated("alice", from);
    let peer = addr("10.0.0.1:7801");
    // Before any permission, the peer's datagrams are dropped.
    assert_eq!(w.server.handle_peer(w.now, relayed.port(), peer, b"early", &mut w.out), None);
    assert_eq!(
        w.ask(&mut client, from, Request::ChannelBind { channel: 0x4001, peer }),
        Outcome::Done
    );
    let mut data = Vec::new();
    client.channel_data(0x4001, b"to the worker", &mut data);
    match w.send(from, &data) {
        ClientAction::ToPeer { relay_port, to, payload } => {
            assert_eq!((relay_port, to), (relayed.port(), peer));
            assert_eq!(&data[payload], b"to the worker");
        }
        other => panic!("{other:?}"),
    }
    let to = w.server.handle_peer(w.now, relayed.port(), peer, b"from the worker", &mut w.out);
    assert_eq!(to, Some(from));
    assert_eq!(
        TurnClient::incoming(&w.out),
        Incoming::ChannelData { channel: 0x4001, data: b"from the worker" }
    );
    // A second peer with a permission but no channel: Data indications.
    let other = addr("10.0.0.1:7802");
    assert_eq!(w.ask(&mut client, from, Request::CreatePermission(vec![other])), Outcome::Done);
    let mut send = Vec::new();
    client.send_indication(other, b"by indication", &mut send);
    let ClientAction::ToPeer { payload, .. } = w.send(from, &send) else { panic!("not relayed") };
    assert_eq!(&send[payload], b"by indication");
    w.server.handle_peer(w.now, relayed.port(), other, b"answer", &mut w.out);
    assert_eq!(TurnClient::incoming(&w.out), Incoming::Data { peer: other, data: b"answer" });
    // From an address with no permission: dropped.
    assert_eq!(
        w.server.handle_peer(w.now, relayed.port(), addr("10.0.0.2:7801"), b"x", &mut w.out),
        None
    );
}

#[test]
fn a_permission_expires_and_delivery_stops() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, relayed) = w.allocated("alice", from);
    let peer = addr("10.0.0.1:7801");
    assert_eq!(w.ask(&mut client, from, Request::CreatePermission(vec![peer])), Outcome::Done);
    assert!(w.server.handle_peer(w.now, relayed.port(), peer, b"x", &mut w.out).is_some());
    w.advance(Duration::from_secs(301));
    assert!(w.server.handle_peer(w.now, relayed.port(), peer, b"x", &mut w.out).is_none());
}

#[test]
fn refresh_with_zero_lifetime_deletes_and_closes_the_relay() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, relayed) = w.allocated("alice", from);
    assert_eq!(w.ask(&mut client, from, Request::Refresh { lifetime: 0 }), Outcome::Done);
    assert_eq!(w.relays.closed, [relayed.port()]);
    assert_eq!(w.server.allocation_count(), 0);
}

#[test]
fn an_allocation_expires_and_its_relay_closes() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, relayed) = w.allocated("alice", from);
    w.advance(Duration::from_secs(300));
    assert_eq!(
        w.ask(&mut client, from, Request::Refresh { lifetime: 600 }),
        Outcome::Done,
        "refreshed in time"
    );
    w.advance(Duration::from_secs(599));
    assert!(w.relays.closed.is_empty());
    w.advance(Duration::from_secs(2));
    assert_eq!(w.relays.closed, [relayed.port()]);
}

#[test]
fn a_participant_holds_a_bounded_number_of_allocations() {
    let mut w = World::new();
    for port in 4000..4003 {
        w.allocated("alice", client_addr(port, Transport::Udp));
    }
    let c = credential::mint(SECRET, "alice", w.unix + 600);
    let mut client = TurnClient::new(&c.username, &c.password, false);
    let (code, _) = failed(w.ask(
        &mut client,
        client_addr(4003, Transport::Udp),
        Request::Allocate { lifetime: None },
    ));
    assert_eq!(code, 486);
    // Others are not affected.
    w.allocated("bob", client_addr(4004, Transport::Udp));
}

#[test]
fn a_stream_clients_allocation_ends_with_its_connection() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Tls);
    let (mut client, relayed) = w.allocated("alice", from);
    let peer = addr("10.0.0.1:7801");
    assert_eq!(
        w.ask(&mut client, from, Request::ChannelBind { channel: 0x4000, peer }),
        Outcome::Done
    );
    w.server.handle_peer(w.now, relayed.port(), peer, b"abcde", &mut w.out);
    assert_eq!(w.out.len(), 12, "ChannelData to a stream client is padded to four bytes");
    w.server.client_closed(from, &mut w.relays);
    assert_eq!(w.relays.closed, [relayed.port()]);
}

#[test]
fn a_retransmitted_allocate_gets_the_same_answer_and_another_is_a_mismatch() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let c = credential::mint(SECRET, "alice", w.unix + 600);
    let mut client = TurnClient::new(&c.username, &c.password, false);
    let mut request = Vec::new();
    client.request(Request::Allocate { lifetime: None }, &mut request);
    w.send(from, &request);
    let challenge = w.out.clone();
    assert_eq!(client.handle_response(&challenge, &mut request), Some(Outcome::Retried));
    w.send(from, &request);
    let first = w.out.clone();
    w.send(from, &request);
    assert_eq!(w.out, first, "a retransmission is answered as the first time");
    assert_eq!(w.relays.open.len(), 1);
    let (code, _) = failed(w.ask(&mut client, from, Request::Allocate { lifetime: None }));
    assert_eq!(code, 437);
}

#[test]
fn unsupported_requests_are_refused_with_a_reason() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let c = credential::mint(SECRET, "alice", w.unix + 600);
    // A TCP relay (RFC 6062): not offered.
    let mut tcp = Vec::new();
    Builder::new(&mut tcp, Class::Request, method::ALLOCATE, [2; 12])
        .bytes(attr::REQUESTED_TRANSPORT, &[6, 0, 0, 0])
        .finish(None);
    w.send(from, &tcp);
    let nonce = Message::parse(&w.out).unwrap().text(attr::NONCE).unwrap().to_string();
    let key = credential::long_term_key(&c.username, "troupe", &c.password);
    let mut signed = Vec::new();
    Builder::new(&mut signed, Class::Request, method::ALLOCATE, [3; 12])
        .bytes(attr::REQUESTED_TRANSPORT, &[6, 0, 0, 0])
        .text(attr::USERNAME, &c.username)
        .text(attr::REALM, "troupe")
        .text(attr::NONCE, &nonce)
        .finish(Some(&key));
    w.send(from, &signed);
    let reply = Message::parse(&w.out).unwrap();
    assert_eq!(reply.error_code().map(|e| e.0), Some(442));
    assert!(reply.integrity_ok(&key), "an authenticated request's error is signed");
    // An unknown comprehension-required attribute: 420 naming it.
    let mut odd = Vec::new();
    Builder::new(&mut odd, Class::Request, method::ALLOCATE, [4; 12])
        .bytes(0x7777, b"?")
        .finish(None);
    w.send(from, &odd);
    let reply = Message::parse(&w.out).unwrap();
    assert_eq!(reply.error_code().map(|e| e.0), Some(420));
    assert_eq!(
        reply.attribute(attr::UNKNOWN_ATTRIBUTES).map(|a| a.value.to_vec()),
        Some(vec![0x77, 0x77])
    );
    // Binding works without credentials (a STUN server too).
    let mut binding = Vec::new();
    Builder::new(&mut binding, Class::Request, method::BINDING, [5; 12]).finish(None);
    assert_eq!(w.send(from, &binding), ClientAction::Reply);
    let reply = Message::parse(&w.out).unwrap();
    let mapped = reply.attribute(attr::XOR_MAPPED_ADDRESS).unwrap();
    assert_eq!(reply.xor_address(mapped), Some(from.remote));
}

/// Thousands of real messages with bits flipped, bytes cut or inserted: none panics, and
/// none allocates without credentials.
#[test]
fn mutated_messages_never_panic() {
    let mut w = World::new();
    let from = client_addr(4000, Transport::Udp);
    let (mut client, relayed) = w.allocated("alice", from);
    let peer = addr("10.0.0.1:7801");
    let mut samples = Vec::new();
    let mut m = Vec::new();
    client.request(Request::ChannelBind { channel: 0x4002, peer }, &mut m);
    samples.push(m.clone());
    client.request(Request::CreatePermission(vec![peer]), &mut m);
    samples.push(m.clone());
    client.request(Request::Allocate { lifetime: Some(60) }, &mut m);
    samples.push(m.clone());
    let mut data = Vec::new();
    client.channel_data(0x4000, b"payload", &mut data);
    samples.push(data);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let before = w.relays.open.len();
    for round in 0..5000 {
        let mut bytes = samples[round % samples.len()].clone();
        match next() % 4 {
            0 => {
                let i = (next() as usize) % bytes.len();
                bytes[i] ^= 1 << (next() % 8);
            }
            1 => bytes.truncate((next() as usize) % bytes.len()),
            2 => {
                let i = (next() as usize) % bytes.len();
                bytes.insert(i, next() as u8);
            }
            _ => {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
        }
        let other = client_addr(5000 + (round % 7) as u16, Transport::Udp);
        let _ = w.send(other, &bytes);
        let _ = w.server.handle_peer(w.now, relayed.port(), peer, &bytes, &mut w.out);
        let _ = stun::parse_channel_data(&bytes);
    }
    assert_eq!(w.relays.open.len(), before, "nothing allocated without credentials");
}

//! The TURN server on real sockets (loopback): clients over UDP, TCP and TLS allocate, bind a
//! channel to a "media" socket inside the allowed routes and exchange datagrams with it both
//! ways through the relay; a peer outside the routes is refused over the wire.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream, UdpSocket},
    sync::Arc,
    time::Duration,
};

use troupe_turn::{
    client::{Incoming, Outcome, Request, TurnClient},
    credential,
    framing::StreamFramer,
    io::{TurnHandle, TurnSettings, spawn},
    server::{PeerRoute, Transport, TurnConfig},
    stats::TurnStats,
};

const SECRET: &[u8] = b"the node's TURN secret";

/// A message link to the TURN server: datagrams, or framed messages on a stream.
enum Link {
    Udp(UdpSocket, SocketAddr),
    Stream(Box<dyn ReadWrite>, StreamFramer),
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Link {
    fn send(&mut self, bytes: &[u8]) {
        match self {
            Link::Udp(s, to) => {
                s.send_to(bytes, *to).unwrap();
            }
            Link::Stream(s, _) => {
                s.write_all(bytes).unwrap();
                s.flush().unwrap();
            }
        }
    }

    fn receive(&mut self) -> Vec<u8> {
        match self {
            Link::Udp(s, _) => {
                let mut buf = [0u8; 2048];
                let (n, _) = s.recv_from(&mut buf).expect("an answer within the timeout");
                buf[..n].to_vec()
            }
            Link::Stream(s, framer) => loop {
                if let Some(m) = framer.next_message().unwrap() {
                    return m.to_vec();
                }
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).expect("an answer within the timeout");
                assert!(n > 0, "the server closed the connection");
                framer.push(&buf[..n]);
            },
        }
    }

    fn ask(&mut self, client: &mut TurnClient, request: Request) -> Outcome {
        let mut out = Vec::new();
        client.request(request, &mut out);
        loop {
            self.send(&out);
            let reply = self.receive();
            match client.handle_response(&reply, &mut out) {
                Some(Outcome::Retried) => continue,
                Some(outcome) => return outcome,
                None => continue, // Something else (a stray Data indication).
            }
        }
    }
}

struct Setup {
    turn: TurnHandle,
    media: UdpSocket,
    cert: rustls::pki_types::CertificateDer<'static>,
}

fn setup() -> Setup {
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = media.local_addr().unwrap().port();
    let loopback = "127.0.0.1".parse().unwrap();
    let routes = vec![PeerRoute { advertised: loopback, ports: port..=port, deliver_to: loopback }];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
    let der = cert.der().clone();
    let server_config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![der.clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap(),
    );
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let turn = spawn(TurnSettings {
        udp: Some(any),
        tcp: Some(any),
        tls: Some((any, Arc::new(move || server_config.clone()))),
        relay_bind: loopback,
        config: TurnConfig::new("troupe", SECRET, loopback, routes),
    })
    .unwrap();
    Setup { turn, media, cert: der }
}

fn link(setup: &Setup, transport: Transport) -> Link {
    let addr = setup.turn.local_addr(transport).unwrap();
    match transport {
        Transport::Udp => {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            Link::Udp(s, addr)
        }
        Transport::Tcp => {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            Link::Stream(Box::new(s), StreamFramer::default())
        }
        Transport::Tls => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(setup.cert.clone()).unwrap();
            let config =
                rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            Link::Stream(Box::new(rustls::StreamOwned::new(conn, s)), StreamFramer::default())
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Allocates over `transport`, binds a channel to the media socket, and relays both ways.
fn relay_round_trip(transport: Transport) {
    let setup = setup();
    let mut link = link(&setup, transport);
    let c = credential::mint(SECRET, "p1", unix_now() + 600);
    let mut client = TurnClient::new(&c.username, &c.password, transport.is_stream());
    let Outcome::Allocated { relayed, .. } =
        link.ask(&mut client, Request::Allocate { lifetime: None })
    else {
        panic!("not allocated over {transport:?}");
    };
    let media = setup.media.local_addr().unwrap();
    assert_eq!(
        link.ask(&mut client, Request::ChannelBind { channel: 0x4000, peer: media }),
        Outcome::Done
    );
    // Client → media, through the relay: it arrives from the relayed address.
    for i in 0..20u8 {
        let mut out = Vec::new();
        client.channel_data(0x4000, &[i; 100], &mut out);
        link.send(&out);
        let mut buf = [0u8; 2048];
        let (n, from) = setup.media.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&[i; 100][..], relayed));
    }
    // Media → client.
    for i in 0..20u8 {
        setup.media.send_to(&[i; 50], relayed).unwrap();
        let message = link.receive();
        assert_eq!(
            TurnClient::incoming(&message),
            Incoming::ChannelData { channel: 0x4000, data: &[i; 50] }
        );
    }
    // A peer outside the routes (another port of this host): refused.
    let outside = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    match link.ask(&mut client, Request::ChannelBind { channel: 0x4001, peer: outside }) {
        Outcome::Failed { code, .. } => assert_eq!(code, 403),
        other => panic!("{other:?}"),
    }
    let stats = setup.turn.stats();
    assert_eq!(TurnStats::get(&stats.packets_to_peers), 20);
    assert_eq!(TurnStats::get(&stats.packets_to_clients), 20);
    assert_eq!(TurnStats::get(&stats.allocations), 1);
}

#[test]
fn relays_over_udp() {
    relay_round_trip(Transport::Udp);
}

#[test]
fn relays_over_tcp() {
    relay_round_trip(Transport::Tcp);
}

#[test]
fn relays_over_tls() {
    relay_round_trip(Transport::Tls);
}

#[test]
fn a_closed_tcp_connection_ends_its_allocation() {
    let setup = setup();
    let mut tcp = link(&setup, Transport::Tcp);
    let c = credential::mint(SECRET, "p1", unix_now() + 600);
    let mut client = TurnClient::new(&c.username, &c.password, true);
    assert!(matches!(
        tcp.ask(&mut client, Request::Allocate { lifetime: None }),
        Outcome::Allocated { .. }
    ));
    assert_eq!(TurnStats::get(&setup.turn.stats().allocations), 1);
    drop(tcp);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while TurnStats::get(&setup.turn.stats().allocations) != 0 {
        assert!(std::time::Instant::now() < deadline, "the allocation outlived its connection");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_port_in_use_is_an_error_naming_it() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let loopback = "127.0.0.1".parse().unwrap();
    let e = spawn(TurnSettings {
        udp: Some(addr),
        tcp: None,
        tls: None,
        relay_bind: loopback,
        config: TurnConfig::new("troupe", SECRET, loopback, Vec::new()),
    })
    .err()
    .expect("the port is taken");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
}

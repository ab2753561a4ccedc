//! An independent client against Troupe's TURN server: coturn's `turnutils_uclient`, with the
//! credentials it makes itself from the shared secret (the TURN REST API scheme, `-W`), sends
//! to coturn's echo peer (`turnutils_peer`) through our relay over UDP and over TCP, and
//! reports what came back. Both tools are Debian's package `coturn` (scripts/test installs it).

use std::{
    net::{SocketAddr, UdpSocket},
    process::{Child, Command, Stdio},
    time::Duration,
};

use troupe_turn::{
    io::{TurnSettings, spawn},
    server::{PeerRoute, Transport, TurnConfig},
    stats::TurnStats,
};

const SECRET: &str = "shared-with-coturn-tools";
const CLIENT: &str = "/usr/bin/turnutils_uclient";
const PEER: &str = "/usr/bin/turnutils_peer";

fn require(tool: &str) {
    assert!(
        std::path::Path::new(tool).exists(),
        "{tool} is missing: install Debian's package coturn (apt-get install coturn; scripts/test does)"
    );
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs the coturn client through our server; returns its output.
fn run(tcp: bool) -> (String, std::sync::Arc<TurnStats>) {
    require(CLIENT);
    require(PEER);
    let peer_port = free_udp_port();
    let peer = Peer(
        Command::new(PEER)
            .args(["-L", "127.0.0.1", "-p", &peer_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let loopback = "127.0.0.1".parse().unwrap();
    // The client also talks to the port after the peer's (its RTP/RTCP habit).
    let routes = vec![PeerRoute {
        advertised: loopback,
        ports: peer_port..=peer_port + 1,
        deliver_to: loopback,
    }];
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let turn = spawn(TurnSettings {
        udp: Some(any),
        tcp: Some(any),
        tls: None,
        relay_bind: loopback,
        config: TurnConfig::new("troupe", SECRET.as_bytes(), loopback, routes),
    })
    .unwrap();
    let port = turn.local_addr(if tcp { Transport::Tcp } else { Transport::Udp }).unwrap().port();
    let mut args = vec![
        "-W".to_string(),
        SECRET.into(),
        "-u".into(),
        "coturn-client".into(),
        // No RTCP allocations (they would ask for EVEN-PORT, which WebRTC never does).
        "-c".into(),
        "-e".into(),
        "127.0.0.1".into(),
        "-r".into(),
        peer_port.to_string(),
        "-n".into(),
        "30".into(),
        "-m".into(),
        "1".into(),
        "-p".into(),
        port.to_string(),
    ];
    if tcp {
        args.push("-t".into());
    }
    args.push("127.0.0.1".into());
    let out = Command::new(CLIENT).args(&args).output().unwrap();
    let text = format!(
        "peer port {peer_port}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(peer);
    (text, turn.stats().clone())
}

/// The number after `label` on the last line that has it (the client's summary).
fn figure(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"));
    let rest = &line[line.find(label).unwrap() + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty()).unwrap().parse().unwrap()
}

fn check(tcp: bool) {
    let (text, stats) = run(tcp);
    // 30 messages to the echo peer through our relay, and 30 back.
    assert_eq!(figure(&text, "tot_send_msgs="), 30, "{text}");
    assert_eq!(figure(&text, "tot_recv_msgs="), 30, "{text}");
    assert_eq!(figure(&text, "Total lost packets"), 0, "{text}");
    assert!(TurnStats::get(&stats.packets_to_peers) >= 30, "{text}");
    assert!(TurnStats::get(&stats.packets_to_clients) >= 30, "{text}");
    assert_eq!(
        TurnStats::get(&stats.auth_failures),
        0,
        "its own REST credentials were accepted: {text}"
    );
}

#[test]
fn coturns_client_relays_through_us_over_udp() {
    check(false);
}

#[test]
fn coturns_client_relays_through_us_over_tcp() {
    check(true);
}

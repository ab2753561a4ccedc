//! A peer's TURN relay (`--transport turn`): an allocation on the server's TURN with the
//! credentials its WHIP answer handed out (RFC 9725 `Link` headers), a channel bound to the
//! server's UDP media candidate, and every datagram carried as ChannelData — what a browser
//! does when only a relay gets through. Allocation, permission and channel are refreshed
//! before they expire.

use std::{
    net::{SocketAddr, UdpSocket},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use str0m::net::Transmit;
use troupe_turn::client::{Incoming, Outcome, Request, TurnClient};

/// An ICE server from a WHIP answer's `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    pub url: String,
    pub username: String,
    pub credential: String,
}

/// Parses `Link: <turn:…>; rel="ice-server"; username="…"; credential="…"` values.
pub fn parse_links<'a>(values: impl Iterator<Item = &'a str>) -> Vec<IceServer> {
    let param = |link: &str, name: &str| {
        let at = link.find(&format!("{name}=\""))? + name.len() + 2;
        Some(link[at..].split('"').next()?.to_string())
    };
    values
        .flat_map(|v| {
            v.split(", <").map(|l| l.trim_start_matches('<').to_string()).collect::<Vec<_>>()
        })
        .filter(|l| l.contains("rel=\"ice-server\""))
        .filter_map(|l| {
            Some(IceServer {
                url: l.split('>').next()?.to_string(),
                username: param(&l, "username")?,
                credential: param(&l, "credential")?,
            })
        })
        .collect()
}

/// The UDP TURN server of a list (`turn:host:port?transport=udp`, or no transport).
pub fn udp_server(servers: &[IceServer]) -> Option<(SocketAddr, &IceServer)> {
    servers.iter().find_map(|s| {
        let rest = s.url.strip_prefix("turn:")?;
        let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !(query.is_empty() || query == "transport=udp") {
            return None;
        }
        let addr: SocketAddr = hostport.parse().ok()?;
        Some((addr, s))
    })
}

/// How often allocation, permission and channel are refreshed (all last 5 minutes or more).
const REFRESH_EVERY: Duration = Duration::from_secs(120);
const CHANNEL: u16 = 0x4000;

pub struct TurnLink {
    server: SocketAddr,
    client: TurnClient,
    relayed: SocketAddr,
    peer: SocketAddr,
    next_refresh: Instant,
    /// Refresh messages waiting to go (the loop sends them with the peer's output).
    pending: Vec<Vec<u8>>,
    refresh_channel_next: bool,
}

impl TurnLink {
    /// Allocates on `server` and binds a channel to `peer` (the server's media candidate),
    /// waiting for the answers on `socket` (the peer's own, not yet watched by its loop).
    pub fn establish(
        socket: &UdpSocket,
        server: SocketAddr,
        ice: &IceServer,
        peer: SocketAddr,
    ) -> Result<TurnLink> {
        let mut client = TurnClient::new(&ice.username, &ice.credential, false);
        let relayed = match ask(socket, server, &mut client, Request::Allocate { lifetime: None })?
        {
            Outcome::Allocated { relayed, .. } => relayed,
            other => bail!("TURN allocation on {server} refused: {other:?}"),
        };
        match ask(socket, server, &mut client, Request::ChannelBind { channel: CHANNEL, peer })? {
            Outcome::Done => {}
            other => bail!("TURN channel to {peer} refused: {other:?}"),
        }
        Ok(TurnLink {
            server,
            client,
            relayed,
            peer,
            next_refresh: Instant::now() + REFRESH_EVERY,
            pending: Vec::new(),
            refresh_channel_next: true,
        })
    }

    /// The relayed address: the peer's candidate, and where str0m's datagrams arrive.
    pub fn relayed(&self) -> SocketAddr {
        self.relayed
    }

    /// str0m's datagrams as ChannelData to the TURN server.
    pub fn wrap(&mut self, transmits: &[Transmit]) -> Vec<Transmit> {
        let mut out: Vec<Transmit> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|contents| self.to_server(contents))
            .collect();
        for t in transmits {
            if t.destination != self.peer {
                continue; // Only the channel's peer is reachable through this relay.
            }
            let mut contents = Vec::with_capacity(t.contents.len() + 4);
            self.client.channel_data(CHANNEL, &t.contents, &mut contents);
            out.push(self.to_server(contents));
        }
        out
    }

    fn to_server(&self, contents: Vec<u8>) -> Transmit {
        Transmit {
            proto: str0m::net::Protocol::Udp,
            source: self.relayed,
            destination: self.server,
            contents: contents.into(),
        }
    }

    /// A datagram from the TURN server: the relayed datagram and who sent it, or `None` for
    /// the server's own answers (taken here).
    pub fn unwrap<'a>(&mut self, data: &'a [u8]) -> Option<(SocketAddr, &'a [u8])> {
        match TurnClient::incoming(data) {
            Incoming::ChannelData { channel: CHANNEL, data } => Some((self.peer, data)),
            Incoming::Data { peer, data } => Some((peer, data)),
            Incoming::Response => {
                let mut again = Vec::new();
                if let Some(Outcome::Retried) = self.client.handle_response(data, &mut again) {
                    self.pending.push(again);
                }
                None
            }
            _ => None,
        }
    }

    /// Queues the next refresh when it is due (alternately the channel, which also refreshes
    /// the permission, and the allocation).
    pub fn on_time(&mut self, now: Instant) {
        if now < self.next_refresh {
            return;
        }
        self.next_refresh = now + REFRESH_EVERY / 2;
        let request = if self.refresh_channel_next {
            Request::ChannelBind { channel: CHANNEL, peer: self.peer }
        } else {
            Request::Refresh { lifetime: 600 }
        };
        self.refresh_channel_next = !self.refresh_channel_next;
        let mut message = Vec::new();
        self.client.request(request, &mut message);
        self.pending.push(message);
    }

    pub fn next_due(&self) -> Instant {
        self.next_refresh
    }
}

/// One request and its answer (following a challenge), retransmitted every 500 ms, within 5 s.
fn ask(
    socket: &UdpSocket,
    server: SocketAddr,
    client: &mut TurnClient,
    request: Request,
) -> Result<Outcome> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut out = Vec::new();
    client.request(request, &mut out);
    let mut sent_at = Instant::now() - Duration::from_secs(1);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if sent_at.elapsed() >= Duration::from_millis(500) {
            socket.send_to(&out, server).context("sending to the TURN server")?;
            sent_at = Instant::now();
        }
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == server => match client.handle_response(&buf[..n], &mut out) {
                Some(Outcome::Retried) => sent_at = Instant::now() - Duration::from_secs(1),
                Some(outcome) => return Ok(outcome),
                None => {}
            },
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => return Err(e).context("receiving from the TURN server"),
        }
    }
    Err(anyhow!("the TURN server {server} did not answer within 5 s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_read_as_a_browser_would() {
        let values = [
            "<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; username=\"9:p\"; credential=\"c=\"; credential-type=\"password\"",
            "<turn:127.0.0.1:3478?transport=tcp>; rel=\"ice-server\"; username=\"9:p\"; credential=\"c=\"; credential-type=\"password\"",
        ];
        let servers = parse_links(values.into_iter());
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, "9:p");
        assert_eq!(servers[0].credential, "c=");
        let (addr, chosen) = udp_server(&servers).unwrap();
        assert_eq!(addr, "127.0.0.1:3478".parse().unwrap());
        assert_eq!(chosen.url, "turn:127.0.0.1:3478?transport=udp");
        assert!(udp_server(&servers[1..]).is_none(), "TCP is not the UDP relay");
    }
}

//! The TURN server's core, sans-IO: allocations, permissions and channels (RFC 8656, UDP
//! relays), authenticated with REST-API credentials ([`crate::credential`]) and stateless
//! nonces ([`crate::nonce`]). It is fed client messages, peer datagrams and the time, and says
//! what to send; it never reads a socket or a clock (relay sockets are opened through
//! [`RelaySockets`]), so tests drive it in simulated time.
//!
//! Troupe's rules on top of the RFC:
//! - **No open relay**: peers are only this node's media ports ([`PeerRoute`]); a permission
//!   or channel towards anything else is refused with 403, a Send to it dropped.
//! - **Bounded**: allocations per participant and in all, permissions and channels per
//!   allocation.
//! - **Short-lived credentials**: every authenticated request checks the username's expiry,
//!   so an expired credential cannot refresh an allocation.
//!
//! Per relayed packet: one hash lookup (the client's 5-tuple, or the relay port) and a scan
//! of the allocation's few channels or permissions; no allocation (payloads are returned as
//! ranges of the input, headers written into the caller's buffer).

use std::{
    collections::HashMap,
    io,
    net::{IpAddr, SocketAddr},
    ops::{Range, RangeInclusive},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    credential,
    nonce::{NonceCheck, Nonces},
    stats::TurnStats,
    stun::{self, Builder, Class, Message, attr, method},
};

/// How a client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// Streams pad ChannelData to four bytes (RFC 8656 §12.5).
    pub fn is_stream(self) -> bool {
        self != Transport::Udp
    }
}

/// A client's 5-tuple: its transport, the server's address it talks to, its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr {
    pub transport: Transport,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// Where relayed traffic may go: `advertised` (the address clients name, the node IP) with a
/// port in `ports`, delivered to `deliver_to` on the same port (the local address of the
/// media sockets: the same, unless the node IP is a NAT's public address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRoute {
    pub advertised: IpAddr,
    pub ports: RangeInclusive<u16>,
    pub deliver_to: IpAddr,
}

#[derive(Debug, Clone)]
pub struct TurnConfig {
    pub realm: String,
    /// The credentials' HMAC secret.
    pub secret: Vec<u8>,
    /// The nonces' MAC key (random per server start).
    pub nonce_key: [u8; 20],
    /// The address relayed addresses name (XOR-RELAYED-ADDRESS).
    pub relay_ip: IpAddr,
    pub routes: Vec<PeerRoute>,
    /// Allocations one participant may hold (each peer connection of a browser takes one per
    /// TURN URL it was given).
    pub max_allocations_per_user: usize,
    pub max_allocations: usize,
    pub default_lifetime: Duration,
    pub max_lifetime: Duration,
    pub permission_lifetime: Duration,
    pub channel_lifetime: Duration,
    pub nonce_lifetime_secs: u64,
}

impl TurnConfig {
    /// RFC 8656's lifetimes and Troupe's bounds, for `realm`, `secret` and the routes.
    pub fn new(realm: &str, secret: &[u8], relay_ip: IpAddr, routes: Vec<PeerRoute>) -> Self {
        TurnConfig {
            realm: realm.to_string(),
            secret: secret.to_vec(),
            nonce_key: rand::random(),
            relay_ip,
            routes,
            max_allocations_per_user: 48,
            max_allocations: 10_000,
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            permission_lifetime: Duration::from_secs(300),
            channel_lifetime: Duration::from_secs(600),
            nonce_lifetime_secs: 600,
        }
    }
}

/// Opens and closes relay sockets for the core: the I/O layer binds real ones, tests fake them.
pub trait RelaySockets {
    /// Binds a new relay socket (on an even port when asked); returns its port.
    fn open(&mut self, even: bool) -> io::Result<u16>;
    fn close(&mut self, port: u16);
}

/// What to do with a client's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAction {
    Nothing,
    /// Send `out` back to the client.
    Reply,
    /// Send `payload` (a range of the message) from relay `relay_port` to `to`.
    ToPeer {
        relay_port: u16,
        to: SocketAddr,
        payload: Range<usize>,
    },
}

/// Permissions and channels one allocation may hold.
const MAX_PERMISSIONS: usize = 16;
const MAX_CHANNELS: usize = 16;
const SOFTWARE: &str = "Troupe";

struct Channel {
    number: u16,
    /// The peer as clients name it (advertised address).
    peer: SocketAddr,
    expires: Instant,
}

struct Allocation {
    client: ClientAddr,
    relay_port: u16,
    username: String,
    participant: String,
    key: [u8; 16],
    expires: Instant,
    /// The Allocate's transaction and success response, for a retransmitted Allocate.
    allocate_transaction: [u8; 12],
    allocate_response: Vec<u8>,
    permissions: Vec<(IpAddr, Instant)>,
    channels: Vec<Channel>,
}

impl Allocation {
    fn permitted(&self, ip: IpAddr, now: Instant) -> bool {
        self.permissions.iter().any(|(p, until)| *p == ip && *until > now)
    }
}

pub struct TurnServer {
    config: TurnConfig,
    nonces: Nonces,
    allocations: Vec<Option<Allocation>>,
    free: Vec<usize>,
    by_client: HashMap<ClientAddr, usize>,
    by_relay: HashMap<u16, usize>,
    per_participant: HashMap<String, usize>,
    stats: Arc<TurnStats>,
}

/// A request that passed authentication.
struct Authenticated {
    username: String,
    participant: String,
    key: [u8; 16],
}

impl TurnServer {
    pub fn new(config: TurnConfig, stats: Arc<TurnStats>) -> TurnServer {
        let nonces = Nonces::new(config.nonce_key, config.nonce_lifetime_secs);
        TurnServer {
            config,
            nonces,
            allocations: Vec::new(),
            free: Vec::new(),
            by_client: HashMap::new(),
            by_relay: HashMap::new(),
            per_participant: HashMap::new(),
            stats,
        }
    }

    pub fn stats(&self) -> &Arc<TurnStats> {
        &self.stats
    }

    pub fn allocation_count(&self) -> usize {
        self.by_client.len()
    }

    /// Whether `client` holds an allocation.
    pub fn has_allocation(&self, client: &ClientAddr) -> bool {
        self.by_client.contains_key(client)
    }

    /// Handles one message from a client: a STUN message or ChannelData. Replies are written
    /// into `out` (emptied first).
    pub fn handle_client(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: ClientAddr,
        message: &[u8],
        out: &mut Vec<u8>,
        relays: &mut dyn RelaySockets,
    ) -> ClientAction {
        out.clear();
        if message.first().is_some_and(|b| b & 0xC0 == 0x40) {
            return self.client_channel_data(now, from, message);
        }
        let Ok(msg) = Message::parse(message) else {
            TurnStats::add(&self.stats.malformed, 1);
            return ClientAction::Nothing;
        };
        match (msg.class, msg.method) {
            (Class::Indication, method::SEND) => self.send_indication(now, from, &msg),
            (Class::Request, method::BINDING) => {
                let mut b = Builder::new(out, Class::Success, method::BINDING, msg.transaction);
                b.xor_address(attr::XOR_MAPPED_ADDRESS, from.remote).text(attr::SOFTWARE, SOFTWARE);
                b.finish(None);
                ClientAction::Reply
            }
            (Class::Request, m) => {
                let unknown = msg.unknown_required();
                if !unknown.is_empty() {
                    let mut value = Vec::new();
                    for u in unknown {
                        value.extend_from_slice(&u.to_be_bytes());
                    }
                    let mut b = Builder::new(out, Class::Error, m, msg.transaction);
                    b.error(420, "unknown comprehension-required attribute")
                        .bytes(attr::UNKNOWN_ATTRIBUTES, &value);
                    b.finish(None);
                    return ClientAction::Reply;
                }
                match m {
                    method::ALLOCATE => self.allocate(now, unix_now, from, &msg, out, relays),
                    method::REFRESH => self.refresh(now, unix_now, from, &msg, out, relays),
                    method::CREATE_PERMISSION => {
                        self.create_permission(now, unix_now, from, &msg, out)
                    }
                    method::CHANNEL_BIND => self.channel_bind(now, unix_now, from, &msg, out),
                    _ => {
                        reply_error(out, &msg, 400, "unsupported request method", None);
                        ClientAction::Reply
                    }
                }
            }
            // Responses and other indications from a client mean nothing to a server.
            _ => ClientAction::Nothing,
        }
    }

    /// Handles a datagram that arrived on relay `relay_port` from `from`: for its client, as
    /// ChannelData or a Data indication written into `out`.
    pub fn handle_peer(
        &mut self,
        now: Instant,
        relay_port: u16,
        from: SocketAddr,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<ClientAddr> {
        out.clear();
        let dropped = |stats: &TurnStats| {
            TurnStats::add(&stats.peer_packets_dropped, 1);
            None
        };
        let Some(peer) = self.advertised_peer(from) else { return dropped(&self.stats) };
        let Some(&index) = self.by_relay.get(&relay_port) else { return dropped(&self.stats) };
        let Some(a) = self.allocations[index].as_ref() else { return dropped(&self.stats) };
        if a.expires <= now || !a.permitted(peer.ip(), now) {
            return dropped(&self.stats);
        }
        match a.channels.iter().find(|c| c.peer == peer && c.expires > now) {
            Some(channel) => stun::push_channel_data(
                out,
                channel.number,
                payload,
                a.client.transport.is_stream(),
            ),
            None => {
                let mut b = Builder::new(out, Class::Indication, method::DATA, rand::random());
                b.xor_address(attr::XOR_PEER_ADDRESS, peer).bytes(attr::DATA, payload);
                b.finish(None);
            }
        }
        TurnStats::add(&self.stats.packets_to_clients, 1);
        TurnStats::add(&self.stats.bytes_to_clients, payload.len() as u64);
        Some(a.client)
    }

    /// Ends expired allocations (closing their relays) and forgets expired permissions and
    /// channels.
    pub fn handle_timeout(&mut self, now: Instant, relays: &mut dyn RelaySockets) {
        let expired: Vec<usize> = self
            .allocations
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.as_ref().filter(|a| a.expires <= now).map(|_| i))
            .collect();
        for index in expired {
            self.remove(index, relays);
        }
        for a in self.allocations.iter_mut().flatten() {
            a.permissions.retain(|(_, until)| *until > now);
            a.channels.retain(|c| c.expires > now);
        }
    }

    /// A stream client's connection closed: its allocation ends with it (RFC 8656 §3.1).
    pub fn client_closed(&mut self, client: ClientAddr, relays: &mut dyn RelaySockets) {
        if let Some(&index) = self.by_client.get(&client) {
            self.remove(index, relays);
        }
    }

    /// Ends every allocation (the server stops).
    pub fn close_all(&mut self, relays: &mut dyn RelaySockets) {
        for index in 0..self.allocations.len() {
            self.remove(index, relays);
        }
    }

    fn remove(&mut self, index: usize, relays: &mut dyn RelaySockets) {
        let Some(a) = self.allocations.get_mut(index).and_then(Option::take) else { return };
        self.by_client.remove(&a.client);
        self.by_relay.remove(&a.relay_port);
        if let Some(n) = self.per_participant.get_mut(&a.participant) {
            *n -= 1;
            if *n == 0 {
                self.per_participant.remove(&a.participant);
            }
        }
        relays.close(a.relay_port);
        self.free.push(index);
        TurnStats::set(&self.stats.allocations, self.by_client.len() as u64);
    }

    /// The advertised address of a datagram's sender, if it is on an allowed route.
    fn advertised_peer(&self, from: SocketAddr) -> Option<SocketAddr> {
        self.config
            .routes
            .iter()
            .find(|r| r.deliver_to == from.ip() && r.ports.contains(&from.port()))
            .map(|r| SocketAddr::new(r.advertised, from.port()))
    }

    /// Where a peer named by a client is delivered, if it is allowed.
    fn deliver_to(&self, peer: SocketAddr) -> Option<SocketAddr> {
        self.config
            .routes
            .iter()
            .find(|r| r.advertised == peer.ip() && r.ports.contains(&peer.port()))
            .map(|r| SocketAddr::new(r.deliver_to, peer.port()))
    }

    fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.config.routes.iter().any(|r| r.advertised == ip)
    }

    fn client_channel_data(
        &mut self,
        now: Instant,
        from: ClientAddr,
        message: &[u8],
    ) -> ClientAction {
        let dropped = |stats: &TurnStats| {
            TurnStats::add(&stats.client_packets_dropped, 1);
            ClientAction::Nothing
        };
        let Some((number, data)) = stun::parse_channel_data(message) else {
            return dropped(&self.stats);
        };
        let Some(&index) = self.by_client.get(&from) else { return dropped(&self.stats) };
        let Some(a) = self.allocations[index].as_ref() else { return dropped(&self.stats) };
        let Some(channel) = a.channels.iter().find(|c| c.number == number && c.expires > now)
        else {
            return dropped(&self.stats);
        };
        if !a.permitted(channel.peer.ip(), now) {
            return dropped(&self.stats);
        }
        let Some(to) = self.deliver_to(channel.peer) else { return dropped(&self.stats) };
        TurnStats::add(&self.stats.packets_to_peers, 1);
        TurnStats::add(&self.stats.bytes_to_peers, data.len() as u64);
        ClientAction::ToPeer { relay_port: a.relay_port, to, payload: 4..4 + data.len() }
    }

    fn send_indication(
        &mut self,
        now: Instant,
        from: ClientAddr,
        msg: &Message<'_>,
    ) -> ClientAction {
        let dropped = |stats: &TurnStats| {
            TurnStats::add(&stats.client_packets_dropped, 1);
            ClientAction::Nothing
        };
        let Some(&index) = self.by_client.get(&from) else { return dropped(&self.stats) };
        let (Some(peer), Some(data)) = (
            msg.attribute(attr::XOR_PEER_ADDRESS).and_then(|a| msg.xor_address(a)),
            msg.attribute(attr::DATA),
        ) else {
            return dropped(&self.stats);
        };
        let Some(to) = self.deliver_to(peer) else {
            TurnStats::add(&self.stats.forbidden_peers, 1);
            return dropped(&self.stats);
        };
        let Some(a) = self.allocations[index].as_ref() else { return dropped(&self.stats) };
        if !a.permitted(peer.ip(), now) {
            return dropped(&self.stats);
        }
        let start = data.offset + 4;
        TurnStats::add(&self.stats.packets_to_peers, 1);
        TurnStats::add(&self.stats.bytes_to_peers, data.value.len() as u64);
        ClientAction::ToPeer {
            relay_port: a.relay_port,
            to,
            payload: start..start + data.value.len(),
        }
    }

    /// Checks a request's long-term credential; on failure writes the error response.
    fn authenticate(
        &mut self,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Authenticated, ()> {
        let realm = self.config.realm.clone();
        let challenge = |out: &mut Vec<u8>, nonces: &Nonces, code: u16, reason: &str| {
            let mut b = Builder::new(out, Class::Error, msg.method, msg.transaction);
            b.error(code, reason)
                .text(attr::REALM, &realm)
                .text(attr::NONCE, &nonces.issue(from.remote, unix_now))
                .text(attr::SOFTWARE, SOFTWARE);
            b.finish(None);
        };
        if msg.attribute(attr::MESSAGE_INTEGRITY).is_none() {
            // The first request of every client: no credentials yet (not counted as a failure).
            challenge(out, &self.nonces, 401, "credentials required");
            return Err(());
        }
        let (Some(username), Some(_), Some(nonce)) =
            (msg.text(attr::USERNAME), msg.text(attr::REALM), msg.text(attr::NONCE))
        else {
            reply_error(out, msg, 400, "USERNAME, REALM and NONCE are required", None);
            TurnStats::add(&self.stats.auth_failures, 1);
            return Err(());
        };
        if self.nonces.check(nonce, from.remote, unix_now) == NonceCheck::Stale {
            challenge(out, &self.nonces, 438, "stale nonce");
            return Err(());
        }
        let participant = match credential::check(username, unix_now) {
            Ok((_, participant)) => participant.to_string(),
            Err(e) => {
                TurnStats::add(&self.stats.auth_failures, 1);
                if e == credential::CredentialError::Expired {
                    TurnStats::add(&self.stats.expired_credentials, 1);
                }
                let reason = match e {
                    credential::CredentialError::Expired => "credential expired",
                    credential::CredentialError::Malformed => "unknown user",
                };
                challenge(out, &self.nonces, 401, reason);
                return Err(());
            }
        };
        let password = credential::password(&self.config.secret, username);
        let key = credential::long_term_key(username, &realm, &password);
        if !msg.integrity_ok(&key) {
            TurnStats::add(&self.stats.auth_failures, 1);
            challenge(out, &self.nonces, 401, "wrong credentials");
            return Err(());
        }
        Ok(Authenticated { username: username.to_string(), participant, key })
    }

    fn allocate(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
        relays: &mut dyn RelaySockets,
    ) -> ClientAction {
        let Ok(auth) = self.authenticate(unix_now, from, msg, out) else {
            return ClientAction::Reply;
        };
        let key = Some(&auth.key[..]);
        if let Some(&index) = self.by_client.get(&from)
            && let Some(a) = self.allocations[index].as_ref()
        {
            if a.allocate_transaction == msg.transaction {
                out.extend_from_slice(&a.allocate_response); // A retransmission.
            } else {
                reply_error(out, msg, 437, "allocation mismatch: this 5-tuple has one", key);
            }
            return ClientAction::Reply;
        }
        match msg.attribute(attr::REQUESTED_TRANSPORT).map(|a| a.value) {
            Some([17, ..]) => {}
            Some(_) => {
                reply_error(out, msg, 442, "unsupported transport protocol: UDP relays only", key);
                return ClientAction::Reply;
            }
            None => {
                reply_error(out, msg, 400, "REQUESTED-TRANSPORT is required", key);
                return ClientAction::Reply;
            }
        }
        let even_port = msg.attribute(attr::EVEN_PORT);
        if msg.attribute(attr::RESERVATION_TOKEN).is_some()
            || even_port.is_some_and(|a| a.value.first().is_some_and(|b| b & 0x80 != 0))
        {
            // Reserving the next port for a second allocation is an RTP-without-mux habit
            // WebRTC does not have; an even port alone is easy to give.
            reply_error(
                out,
                msg,
                508,
                "port reservations (RESERVATION-TOKEN) are not supported",
                key,
            );
            return ClientAction::Reply;
        }
        let wants_v6 = msg
            .attribute(attr::REQUESTED_ADDRESS_FAMILY)
            .is_some_and(|a| a.value.first() == Some(&2));
        if wants_v6 != self.config.relay_ip.is_ipv6() {
            reply_error(out, msg, 440, "address family not supported", key);
            return ClientAction::Reply;
        }
        let held = self.per_participant.get(&auth.participant).copied().unwrap_or(0);
        if held >= self.config.max_allocations_per_user {
            TurnStats::add(&self.stats.quota_refusals, 1);
            reply_error(out, msg, 486, "allocation quota reached for this participant", key);
            return ClientAction::Reply;
        }
        if self.by_client.len() >= self.config.max_allocations {
            TurnStats::add(&self.stats.quota_refusals, 1);
            reply_error(out, msg, 508, "the server holds as many allocations as it may", key);
            return ClientAction::Reply;
        }
        let Ok(relay_port) = relays.open(even_port.is_some()) else {
            reply_error(out, msg, 508, "no relay port available", key);
            return ClientAction::Reply;
        };
        let lifetime = self.lifetime(msg);
        let relayed = SocketAddr::new(self.config.relay_ip, relay_port);
        let mut b = Builder::new(out, Class::Success, method::ALLOCATE, msg.transaction);
        b.xor_address(attr::XOR_RELAYED_ADDRESS, relayed)
            .u32(attr::LIFETIME, lifetime.as_secs() as u32)
            .xor_address(attr::XOR_MAPPED_ADDRESS, from.remote)
            .text(attr::SOFTWARE, SOFTWARE);
        b.finish(key);
        let allocation = Allocation {
            client: from,
            relay_port,
            username: auth.username,
            participant: auth.participant.clone(),
            key: auth.key,
            expires: now + lifetime,
            allocate_transaction: msg.transaction,
            allocate_response: out.clone(),
            permissions: Vec::new(),
            channels: Vec::new(),
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.allocations[i] = Some(allocation);
                i
            }
            None => {
                self.allocations.push(Some(allocation));
                self.allocations.len() - 1
            }
        };
        self.by_client.insert(from, index);
        self.by_relay.insert(relay_port, index);
        *self.per_participant.entry(auth.participant).or_default() += 1;
        TurnStats::add(&self.stats.allocations_total, 1);
        TurnStats::set(&self.stats.allocations, self.by_client.len() as u64);
        ClientAction::Reply
    }

    /// The lifetime a request asks for, within the server's bounds (RFC 8656 §7.2).
    fn lifetime(&self, msg: &Message<'_>) -> Duration {
        let asked = msg.u32(attr::LIFETIME).map(|s| Duration::from_secs(u64::from(s)));
        asked.unwrap_or(self.config.default_lifetime).min(self.config.max_lifetime)
    }

    /// The caller's allocation after authentication, or the error response written (437 when
    /// there is none, 441 when the credential is not the allocation's).
    fn own_allocation(
        &mut self,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> Option<(usize, [u8; 16])> {
        let auth = self.authenticate(unix_now, from, msg, out).ok()?;
        let Some(&index) = self.by_client.get(&from) else {
            reply_error(
                out,
                msg,
                437,
                "allocation mismatch: no allocation on this 5-tuple",
                Some(&auth.key),
            );
            return None;
        };
        let a = self.allocations[index].as_ref()?;
        if a.username != auth.username {
            TurnStats::add(&self.stats.auth_failures, 1);
            reply_error(out, msg, 441, "wrong credentials: not the allocation's", Some(&auth.key));
            return None;
        }
        Some((index, a.key))
    }

    fn refresh(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
        relays: &mut dyn RelaySockets,
    ) -> ClientAction {
        let Some((index, key)) = self.own_allocation(unix_now, from, msg, out) else {
            return ClientAction::Reply;
        };
        let lifetime = self.lifetime(msg);
        if lifetime.is_zero() {
            self.remove(index, relays);
        } else if let Some(a) = self.allocations[index].as_mut() {
            a.expires = now + lifetime;
        }
        let mut b = Builder::new(out, Class::Success, method::REFRESH, msg.transaction);
        b.u32(attr::LIFETIME, lifetime.as_secs() as u32).text(attr::SOFTWARE, SOFTWARE);
        b.finish(Some(&key));
        ClientAction::Reply
    }

    fn create_permission(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> ClientAction {
        let Some((index, key)) = self.own_allocation(unix_now, from, msg, out) else {
            return ClientAction::Reply;
        };
        let peers: Vec<SocketAddr> =
            msg.all(attr::XOR_PEER_ADDRESS).filter_map(|a| msg.xor_address(a)).collect();
        if peers.is_empty() {
            reply_error(out, msg, 400, "XOR-PEER-ADDRESS is required", Some(&key));
            return ClientAction::Reply;
        }
        if peers.iter().any(|p| p.is_ipv6() != self.config.relay_ip.is_ipv6()) {
            reply_error(out, msg, 443, "peer address family mismatch", Some(&key));
            return ClientAction::Reply;
        }
        if let Some(p) = peers.iter().find(|p| !self.ip_allowed(p.ip())) {
            TurnStats::add(&self.stats.forbidden_peers, 1);
            let reason = format!("peer {} not allowed: only this node's media ports", p.ip());
            reply_error(out, msg, 403, &reason, Some(&key));
            return ClientAction::Reply;
        }
        let until = now + self.config.permission_lifetime;
        let Some(a) = self.allocations[index].as_mut() else { return ClientAction::Nothing };
        for peer in peers {
            if let Some(p) = a.permissions.iter_mut().find(|(ip, _)| *ip == peer.ip()) {
                p.1 = until;
            } else if a.permissions.len() < MAX_PERMISSIONS {
                a.permissions.push((peer.ip(), until));
            } else {
                reply_error(out, msg, 508, "too many permissions on this allocation", Some(&key));
                return ClientAction::Reply;
            }
        }
        let mut b = Builder::new(out, Class::Success, method::CREATE_PERMISSION, msg.transaction);
        b.text(attr::SOFTWARE, SOFTWARE);
        b.finish(Some(&key));
        ClientAction::Reply
    }

    fn channel_bind(
        &mut self,
        now: Instant,
        unix_now: u64,
        from: ClientAddr,
        msg: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> ClientAction {
        let Some((index, key)) = self.own_allocation(unix_now, from, msg, out) else {
            return ClientAction::Reply;
        };
        let number = msg.attribute(attr::CHANNEL_NUMBER).and_then(|a| {
            let v = a.value.get(..2)?;
            Some(u16::from_be_bytes([v[0], v[1]]))
        });
        let peer = msg.attribute(attr::XOR_PEER_ADDRESS).and_then(|a| msg.xor_address(a));
        let (Some(number), Some(peer)) = (number, peer) else {
            reply_error(
                out,
                msg,
                400,
                "CHANNEL-NUMBER and XOR-PEER-ADDRESS are required",
                Some(&key),
            );
            return ClientAction::Reply;
        };
        if !stun::is_channel(number) {
            reply_error(out, msg, 400, "channel numbers are 0x4000 to 0x7FFE", Some(&key));
            return ClientAction::Reply;
        }
        if peer.is_ipv6() != self.config.relay_ip.is_ipv6() {
            reply_error(out, msg, 443, "peer address family mismatch", Some(&key));
            return ClientAction::Reply;
        }
        if self.deliver_to(peer).is_none() {
            TurnStats::add(&self.stats.forbidden_peers, 1);
            let reason = format!("peer {peer} not allowed: only this node's media ports");
            reply_error(out, msg, 403, &reason, Some(&key));
            return ClientAction::Reply;
        }
        let channel_until = now + self.config.channel_lifetime;
        let permission_until = now + self.config.permission_lifetime;
        let Some(a) = self.allocations[index].as_mut() else { return ClientAction::Nothing };
        let by_number = a.channels.iter().position(|c| c.number == number);
        let by_peer = a.channels.iter().position(|c| c.peer == peer);
        match (by_number, by_peer) {
            (Some(i), Some(j)) if i == j => a.channels[i].expires = channel_until,
            (None, None) if a.channels.len() < MAX_CHANNELS => {
                a.channels.push(Channel { number, peer, expires: channel_until })
            }
            (None, None) => {
                reply_error(out, msg, 508, "too many channels on this allocation", Some(&key));
                return ClientAction::Reply;
            }
            _ => {
                reply_error(
                    out,
                    msg,
                    400,
                    "the channel or the peer is bound to another",
                    Some(&key),
                );
                return ClientAction::Reply;
            }
        }
        // A channel binding installs or refreshes its peer's permission (RFC 8656 §11.2).
        match a.permissions.iter_mut().find(|(ip, _)| *ip == peer.ip()) {
            Some(p) => p.1 = permission_until,
            None => a.permissions.push((peer.ip(), permission_until)),
        }
        let mut b = Builder::new(out, Class::Success, method::CHANNEL_BIND, msg.transaction);
        b.text(attr::SOFTWARE, SOFTWARE);
        b.finish(Some(&key));
        ClientAction::Reply
    }
}

/// An error response with a reason that names the problem (signed when the request was).
fn reply_error(out: &mut Vec<u8>, msg: &Message<'_>, code: u16, reason: &str, key: Option<&[u8]>) {
    out.clear();
    let mut b = Builder::new(out, Class::Error, msg.method, msg.transaction);
    b.error(code, reason).text(attr::SOFTWARE, SOFTWARE);
    b.finish(key);
}

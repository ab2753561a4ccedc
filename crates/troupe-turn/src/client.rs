//! A small TURN client, sans-IO: it writes requests and reads responses, and the caller moves
//! the bytes (UDP datagrams, or a TCP/TLS stream with [`crate::framing`]). It handles the
//! long-term credential dance (the 401 challenge, a 438 stale nonce) by itself. Used by the
//! tests and the load tool; a browser's own TURN client is what production relies on.

use std::net::SocketAddr;

use crate::{
    credential,
    stun::{self, Builder, Class, Message, attr, method},
};

/// What to ask the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Allocate { lifetime: Option<u32> },
    Refresh { lifetime: u32 },
    CreatePermission(Vec<SocketAddr>),
    ChannelBind { channel: u16, peer: SocketAddr },
}

/// What a response meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The request was challenged; it went out again with credentials (in `out`).
    Retried,
    Allocated {
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
        lifetime: u32,
    },
    /// Refresh, CreatePermission or ChannelBind succeeded.
    Done,
    Failed {
        code: u16,
        reason: String,
    },
}

/// A message from the server that is not a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    ChannelData {
        channel: u16,
        data: &'a [u8],
    },
    Data {
        peer: SocketAddr,
        data: &'a [u8],
    },
    /// A response (give it to [`TurnClient::handle_response`]).
    Response,
    Other,
}

pub struct TurnClient {
    username: String,
    password: String,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<[u8; 16]>,
    /// Pad ChannelData (TCP and TLS).
    stream: bool,
    pending: Option<([u8; 12], Request, bool)>,
}

impl TurnClient {
    pub fn new(username: &str, password: &str, stream: bool) -> TurnClient {
        TurnClient {
            username: username.to_string(),
            password: password.to_string(),
            realm: None,
            nonce: None,
            key: None,
            stream,
            pending: None,
        }
    }

    /// Writes `request` into `out` (emptied first).
    pub fn request(&mut self, request: Request, out: &mut Vec<u8>) {
        self.write(request, out, false);
    }

    fn write(&mut self, request: Request, out: &mut Vec<u8>, retried: bool) {
        out.clear();
        let transaction: [u8; 12] = rand::random();
        let m = match &request {
            Request::Allocate { .. } => method::ALLOCATE,
            Request::Refresh { .. } => method::REFRESH,
            Request::CreatePermission(_) => method::CREATE_PERMISSION,
            Request::ChannelBind { .. } => method::CHANNEL_BIND,
        };
        let mut b = Builder::new(out, Class::Request, m, transaction);
        match &request {
            Request::Allocate { lifetime } => {
                b.bytes(attr::REQUESTED_TRANSPORT, &[17, 0, 0, 0]);
                if let Some(l) = lifetime {
                    b.u32(attr::LIFETIME, *l);
                }
            }
            Request::Refresh { lifetime } => {
                b.u32(attr::LIFETIME, *lifetime);
            }
            Request::CreatePermission(peers) => {
                for p in peers {
                    b.xor_address(attr::XOR_PEER_ADDRESS, *p);
                }
            }
            Request::ChannelBind { channel, peer } => {
                b.bytes(attr::CHANNEL_NUMBER, &[(channel >> 8) as u8, *channel as u8, 0, 0])
                    .xor_address(attr::XOR_PEER_ADDRESS, *peer);
            }
        }
        if let (Some(realm), Some(nonce), Some(key)) = (&self.realm, &self.nonce, &self.key) {
            b.text(attr::USERNAME, &self.username)
                .text(attr::REALM, realm)
                .text(attr::NONCE, nonce);
            b.finish(Some(key));
        } else {
            b.finish(None);
        }
        self.pending = Some((transaction, request, retried));
    }

    /// Reads a response to the pending request; `None` if `bytes` is not one.
    pub fn handle_response(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Option<Outcome> {
        let msg = Message::parse(bytes).ok()?;
        let (transaction, request, retried) = self.pending.clone()?;
        if msg.transaction != transaction || !matches!(msg.class, Class::Success | Class::Error) {
            return None;
        }
        if msg.class == Class::Error {
            let (code, reason) = msg.error_code().unwrap_or((0, "no ERROR-CODE"));
            if matches!(code, 401 | 438)
                && !retried
                && let (Some(realm), Some(nonce)) = (msg.text(attr::REALM), msg.text(attr::NONCE))
            {
                self.key = Some(credential::long_term_key(&self.username, realm, &self.password));
                self.realm = Some(realm.to_string());
                self.nonce = Some(nonce.to_string());
                self.write(request, out, true);
                return Some(Outcome::Retried);
            }
            self.pending = None;
            return Some(Outcome::Failed { code, reason: reason.to_string() });
        }
        self.pending = None;
        if let Some(key) = &self.key
            && !msg.integrity_ok(key)
        {
            return Some(Outcome::Failed {
                code: 0,
                reason: "the response's integrity is wrong".into(),
            });
        }
        Some(match request {
            Request::Allocate { .. } => {
                let relayed =
                    msg.attribute(attr::XOR_RELAYED_ADDRESS).and_then(|a| msg.xor_address(a));
                let mapped =
                    msg.attribute(attr::XOR_MAPPED_ADDRESS).and_then(|a| msg.xor_address(a));
                match relayed {
                    Some(relayed) => Outcome::Allocated {
                        relayed,
                        mapped,
                        lifetime: msg.u32(attr::LIFETIME).unwrap_or(0),
                    },
                    None => Outcome::Failed { code: 0, reason: "no XOR-RELAYED-ADDRESS".into() },
                }
            }
            _ => Outcome::Done,
        })
    }

    /// Appends `data` for `channel` as ChannelData.
    pub fn channel_data(&self, channel: u16, data: &[u8], out: &mut Vec<u8>) {
        stun::push_channel_data(out, channel, data, self.stream);
    }

    /// Appends a Send indication of `data` to `peer`.
    pub fn send_indication(&self, peer: SocketAddr, data: &[u8], out: &mut Vec<u8>) {
        let mut b = Builder::new(out, Class::Indication, method::SEND, rand::random());
        b.xor_address(attr::XOR_PEER_ADDRESS, peer).bytes(attr::DATA, data);
        b.finish(None);
    }

    /// What a message from the server is.
    pub fn incoming(bytes: &[u8]) -> Incoming<'_> {
        if let Some((channel, data)) = stun::parse_channel_data(bytes) {
            return Incoming::ChannelData { channel, data };
        }
        let Ok(msg) = Message::parse(bytes) else { return Incoming::Other };
        match (msg.class, msg.method) {
            (Class::Indication, method::DATA) => {
                let peer = msg.attribute(attr::XOR_PEER_ADDRESS).and_then(|a| msg.xor_address(a));
                match (peer, msg.attribute(attr::DATA)) {
                    (Some(peer), Some(data)) => {
                        let start = data.offset + 4;
                        Incoming::Data { peer, data: &bytes[start..start + data.value.len()] }
                    }
                    _ => Incoming::Other,
                }
            }
            (Class::Success | Class::Error, _) => Incoming::Response,
            _ => Incoming::Other,
        }
    }
}

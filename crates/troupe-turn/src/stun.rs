//! STUN messages (RFC 8489) as TURN (RFC 8656) uses them: parsing without copying, building
//! into a caller's buffer, MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32), and the
//! ChannelData framing. Parsing never panics: anything malformed is a [`StunError`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const HEADER: usize = 20;
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// Message classes (RFC 8489 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Request,
    Indication,
    Success,
    Error,
}

/// The methods TURN uses.
pub mod method {
    pub const BINDING: u16 = 0x001;
    pub const ALLOCATE: u16 = 0x003;
    pub const REFRESH: u16 = 0x004;
    pub const SEND: u16 = 0x006;
    pub const DATA: u16 = 0x007;
    pub const CREATE_PERMISSION: u16 = 0x008;
    pub const CHANNEL_BIND: u16 = 0x009;
}

/// Attribute types (RFC 8489 §18.3, RFC 8656 §18).
pub mod attr {
    pub const MAPPED_ADDRESS: u16 = 0x0001;
    pub const USERNAME: u16 = 0x0006;
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
    pub const CHANNEL_NUMBER: u16 = 0x000C;
    pub const LIFETIME: u16 = 0x000D;
    pub const XOR_PEER_ADDRESS: u16 = 0x0012;
    pub const DATA: u16 = 0x0013;
    pub const REALM: u16 = 0x0014;
    pub const NONCE: u16 = 0x0015;
    pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
    pub const REQUESTED_ADDRESS_FAMILY: u16 = 0x0017;
    pub const EVEN_PORT: u16 = 0x0018;
    pub const REQUESTED_TRANSPORT: u16 = 0x0019;
    pub const DONT_FRAGMENT: u16 = 0x001A;
    pub const MESSAGE_INTEGRITY_SHA256: u16 = 0x001C;
    pub const PASSWORD_ALGORITHM: u16 = 0x001D;
    pub const USERHASH: u16 = 0x001E;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    pub const RESERVATION_TOKEN: u16 = 0x0022;
    pub const PRIORITY: u16 = 0x0024;
    pub const USE_CANDIDATE: u16 = 0x0025;
    pub const SOFTWARE: u16 = 0x8022;
    pub const FINGERPRINT: u16 = 0x8028;

    /// The comprehension-required attributes this server understands (or knowingly
    /// ignores); any other in 0x0000–0x7FFF gets a 420 (RFC 8489 §7.3.1).
    pub const UNDERSTOOD: &[u16] = &[
        MAPPED_ADDRESS,
        USERNAME,
        MESSAGE_INTEGRITY,
        ERROR_CODE,
        UNKNOWN_ATTRIBUTES,
        CHANNEL_NUMBER,
        LIFETIME,
        XOR_PEER_ADDRESS,
        DATA,
        REALM,
        NONCE,
        XOR_RELAYED_ADDRESS,
        REQUESTED_ADDRESS_FAMILY,
        EVEN_PORT,
        REQUESTED_TRANSPORT,
        DONT_FRAGMENT,
        MESSAGE_INTEGRITY_SHA256,
        PASSWORD_ALGORITHM,
        USERHASH,
        XOR_MAPPED_ADDRESS,
        RESERVATION_TOKEN,
        PRIORITY,
        USE_CANDIDATE,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("shorter than a STUN header")]
    Short,
    #[error("not a STUN message (first bits or magic cookie)")]
    NotStun,
    #[error("the length field disagrees with the message")]
    Length,
    #[error("an attribute runs past the end of the message")]
    Attribute,
    #[error("FINGERPRINT does not match")]
    Fingerprint,
}

/// A parsed message, borrowing the bytes it came in.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub class: Class,
    pub method: u16,
    pub transaction: [u8; 12],
    raw: &'a [u8],
}

/// One attribute: its type and value (without padding).
#[derive(Debug, Clone, Copy)]
pub struct Attribute<'a> {
    pub kind: u16,
    pub value: &'a [u8],
    /// Where the attribute starts in the message.
    pub offset: usize,
}

impl<'a> Message<'a> {
    /// Parses a whole message (exactly `bytes`: a datagram or one framed stream message).
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, StunError> {
        if bytes.len() < HEADER {
            return Err(StunError::Short);
        }
        let kind = u16::from_be_bytes([bytes[0], bytes[1]]);
        if kind & 0xC000 != 0 || bytes[4..8] != MAGIC_COOKIE.to_be_bytes() {
            return Err(StunError::NotStun);
        }
        let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if length % 4 != 0 || HEADER + length != bytes.len() {
            return Err(StunError::Length);
        }
        let mut transaction = [0u8; 12];
        transaction.copy_from_slice(&bytes[8..20]);
        let class = match ((kind >> 4) & 1) | ((kind >> 7) & 2) {
            0 => Class::Request,
            1 => Class::Indication,
            2 => Class::Success,
            _ => Class::Error,
        };
        let method = (kind & 0x000F) | ((kind >> 1) & 0x0070) | ((kind >> 2) & 0x0F80);
        let message = Message { class, method, transaction, raw: bytes };
        // Walk the attributes once: a truncated one makes the message malformed.
        for a in message.attributes() {
            a?;
        }
        if let Some(fp) = message.attribute(attr::FINGERPRINT) {
            let expected = crc32(&bytes[..fp.offset]) ^ 0x5354_554E;
            if fp.value != expected.to_be_bytes() {
                return Err(StunError::Fingerprint);
            }
        }
        Ok(message)
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The attributes in order.
    pub fn attributes(&self) -> impl Iterator<Item = Result<Attribute<'a>, StunError>> + 'a {
        let raw = self.raw;
        let mut at = HEADER;
        std::iter::from_fn(move || {
            if at >= raw.len() {
                return None;
            }
            let header = raw.get(at..at + 4);
            let Some(header) = header else {
                at = raw.len();
                return Some(Err(StunError::Attribute));
            };
            let kind = u16::from_be_bytes([header[0], header[1]]);
            let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
            let Some(value) = raw.get(at + 4..at + 4 + len) else {
                at = raw.len();
                return Some(Err(StunError::Attribute));
            };
            let offset = at;
            at += 4 + len.div_ceil(4) * 4;
            Some(Ok(Attribute { kind, value, offset }))
        })
    }

    /// The first attribute of a type. Attributes after MESSAGE-INTEGRITY (but FINGERPRINT)
    /// are not covered by it, so they are ignored (RFC 8489 §14.5).
    pub fn attribute(&self, kind: u16) -> Option<Attribute<'a>> {
        let mut integrity_seen = false;
        for a in self.attributes().flatten() {
            if a.kind == kind && (!integrity_seen || kind == attr::FINGERPRINT) {
                return Some(a);
            }
            if a.kind == attr::MESSAGE_INTEGRITY {
                integrity_seen = true;
            }
        }
        None
    }

    /// Every attribute of a type (before MESSAGE-INTEGRITY).
    pub fn all(&self, kind: u16) -> impl Iterator<Item = Attribute<'a>> + 'a {
        let mut integrity_seen = false;
        self.attributes().flatten().filter(move |a| {
            let keep = a.kind == kind && !integrity_seen;
            integrity_seen |= a.kind == attr::MESSAGE_INTEGRITY;
            keep
        })
    }

    /// Comprehension-required attributes this server does not know.
    pub fn unknown_required(&self) -> Vec<u16> {
        self.attributes()
            .flatten()
            .map(|a| a.kind)
            .filter(|k| *k < 0x8000 && !attr::UNDERSTOOD.contains(k))
            .collect()
    }

    pub fn text(&self, kind: u16) -> Option<&'a str> {
        std::str::from_utf8(self.attribute(kind)?.value).ok()
    }

    pub fn u32(&self, kind: u16) -> Option<u32> {
        let v = self.attribute(kind)?.value;
        Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
    }

    /// An XOR-…-ADDRESS value.
    pub fn xor_address(&self, attribute: Attribute<'_>) -> Option<SocketAddr> {
        decode_xor_address(attribute.value, &self.transaction)
    }

    /// ERROR-CODE: the code and its reason phrase.
    pub fn error_code(&self) -> Option<(u16, &'a str)> {
        let v = self.attribute(attr::ERROR_CODE)?.value;
        if v.len() < 4 {
            return None;
        }
        let code = u16::from(v[2] & 0x07) * 100 + u16::from(v[3]);
        Some((code, std::str::from_utf8(&v[4..]).unwrap_or("")))
    }

    /// Whether MESSAGE-INTEGRITY is present and right for `key` (RFC 8489 §14.5: HMAC-SHA1
    /// over the message up to the attribute, with the length counting up to its end).
    pub fn integrity_ok(&self, key: &[u8]) -> bool {
        let Some(mi) = self.attribute(attr::MESSAGE_INTEGRITY) else { return false };
        if mi.value.len() != 20 {
            return false;
        }
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else { return false };
        let length = (mi.offset + 24 - HEADER) as u16;
        mac.update(&self.raw[..2]);
        mac.update(&length.to_be_bytes());
        mac.update(&self.raw[4..mi.offset]);
        mac.verify_slice(mi.value).is_ok()
    }
}

fn decode_xor_address(value: &[u8], transaction: &[u8; 12]) -> Option<SocketAddr> {
    if value.len() < 4 {
        return None;
    }
    let port = u16::from_be_bytes([value[2], value[3]]) ^ (MAGIC_COOKIE >> 16) as u16;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    match value[1] {
        0x01 if value.len() == 8 => {
            let mut ip = [0u8; 4];
            for i in 0..4 {
                ip[i] = value[4 + i] ^ cookie[i];
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port))
        }
        0x02 if value.len() == 20 => {
            let mut ip = [0u8; 16];
            for i in 0..16 {
                let pad = if i < 4 { cookie[i] } else { transaction[i - 4] };
                ip[i] = value[4 + i] ^ pad;
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port))
        }
        _ => None,
    }
}

/// Builds a message into a buffer; [`Builder::finish`] adds MESSAGE-INTEGRITY and FINGERPRINT.
pub struct Builder<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    transaction: [u8; 12],
}

impl<'b> Builder<'b> {
    /// Starts a message at the end of `out` (which it appends to).
    pub fn new(out: &'b mut Vec<u8>, class: Class, method: u16, transaction: [u8; 12]) -> Self {
        let start = out.len();
        let c = match class {
            Class::Request => 0u16,
            Class::Indication => 1,
            Class::Success => 2,
            Class::Error => 3,
        };
        let kind = (method & 0x000F)
            | ((method & 0x0070) << 1)
            | ((method & 0x0F80) << 2)
            | ((c & 1) << 4)
            | ((c & 2) << 7);
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(&transaction);
        Builder { out, start, transaction }
    }

    pub fn bytes(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = value.len().min(u16::MAX as usize - 4);
        self.out.extend_from_slice(&kind.to_be_bytes());
        self.out.extend_from_slice(&(len as u16).to_be_bytes());
        self.out.extend_from_slice(&value[..len]);
        let pad = len.div_ceil(4) * 4 - len;
        self.out.extend(std::iter::repeat_n(0, pad));
        self.set_length();
        self
    }

    pub fn text(&mut self, kind: u16, value: &str) -> &mut Self {
        self.bytes(kind, value.as_bytes())
    }

    pub fn u32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    pub fn xor_address(&mut self, kind: u16, addr: SocketAddr) -> &mut Self {
        let mut value = Vec::with_capacity(20);
        let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
        let cookie = MAGIC_COOKIE.to_be_bytes();
        match addr.ip() {
            IpAddr::V4(ip) => {
                value.extend_from_slice(&[0, 0x01]);
                value.extend_from_slice(&port.to_be_bytes());
                for (i, b) in ip.octets().iter().enumerate() {
                    value.push(b ^ cookie[i]);
                }
            }
            IpAddr::V6(ip) => {
                value.extend_from_slice(&[0, 0x02]);
                value.extend_from_slice(&port.to_be_bytes());
                for (i, b) in ip.octets().iter().enumerate() {
                    let pad = if i < 4 { cookie[i] } else { self.transaction[i - 4] };
                    value.push(b ^ pad);
                }
            }
        }
        self.bytes(kind, &value)
    }

    pub fn error(&mut self, code: u16, reason: &str) -> &mut Self {
        let mut value = vec![0, 0, (code / 100) as u8, (code % 100) as u8];
        value.extend_from_slice(reason.as_bytes());
        self.bytes(attr::ERROR_CODE, &value)
    }

    fn set_length(&mut self) {
        let length = (self.out.len() - self.start - HEADER) as u16;
        self.out[self.start + 2..self.start + 4].copy_from_slice(&length.to_be_bytes());
    }

    /// Adds MESSAGE-INTEGRITY (with `key`, when given) and FINGERPRINT.
    pub fn finish(&mut self, key: Option<&[u8]>) {
        if let Some(key) = key {
            let at = self.out.len();
            let length = (at + 24 - self.start - HEADER) as u16;
            self.out[self.start + 2..self.start + 4].copy_from_slice(&length.to_be_bytes());
            let digest = match Hmac::<Sha1>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(&self.out[self.start..at]);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => vec![0; 20],
            };
            self.bytes(attr::MESSAGE_INTEGRITY, &digest);
        }
        let at = self.out.len();
        let length = (at + 8 - self.start - HEADER) as u16;
        self.out[self.start + 2..self.start + 4].copy_from_slice(&length.to_be_bytes());
        let fingerprint = crc32(&self.out[self.start..at]) ^ 0x5354_554E;
        self.bytes(attr::FINGERPRINT, &fingerprint.to_be_bytes());
    }
}

/// ChannelData (RFC 8656 §12.4): a channel number, a length, the data.
pub fn parse_channel_data(bytes: &[u8]) -> Option<(u16, &[u8])> {
    if bytes.len() < 4 {
        return None;
    }
    let channel = u16::from_be_bytes([bytes[0], bytes[1]]);
    if !is_channel(channel) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    // Over UDP the datagram may carry padding after the data; over streams the framer cut it.
    let data = bytes.get(4..4 + length)?;
    Some((channel, data))
}

/// Appends a ChannelData message; `pad` rounds it to a multiple of four (streams, §12.5).
pub fn push_channel_data(out: &mut Vec<u8>, channel: u16, data: &[u8], pad: bool) {
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&(data.len().min(u16::MAX as usize) as u16).to_be_bytes());
    out.extend_from_slice(&data[..data.len().min(u16::MAX as usize)]);
    if pad {
        let extra = data.len().div_ceil(4) * 4 - data.len();
        out.extend(std::iter::repeat_n(0, extra));
    }
}

/// A channel number: RFC 8656 gives clients 0x4000–0x4FFF; RFC 5766 gave them up to
/// 0x7FFE, and clients of its time (coturn's own tools) still pick from all of it.
pub fn is_channel(number: u16) -> bool {
    (0x4000..=0x7FFE).contains(&number)
}

/// CRC-32 (IEEE 802.3, as FINGERPRINT uses), table-free: FINGERPRINT is computed on control
/// messages only, never per relayed packet.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// RFC 5769 §2.1: a request with a short-term credential (password "VOkJxbRl1RmTxUk/WvJxBt").
    #[test]
    fn rfc5769_sample_request() {
        let bytes = unhex(
            "00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573
             7420636c 69656e74 00240004 6e0001ff 80290008 932ff9b1 51263b36 00060009
             6576746a 3a683676 59202020 00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249
             c1b571a2 80280004 e57a3bcf",
        );
        let m = Message::parse(&bytes).expect("the RFC 5769 request parses, fingerprint and all");
        assert_eq!((m.class, m.method), (Class::Request, method::BINDING));
        assert_eq!(m.text(attr::USERNAME), Some("evtj:h6vY"));
        assert_eq!(m.text(attr::SOFTWARE), Some("STUN test client"));
        assert!(m.integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBt"));
        assert!(!m.integrity_ok(b"wrong"));
    }

    /// RFC 5769 §2.2: the IPv4 response, and our builder making the same bytes.
    #[test]
    fn rfc5769_ipv4_response() {
        let bytes = unhex(
            "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563
             746f7220 00200008 0001a147 e112a643 00080014 2b91f599 fd9e90c3 8c7489f9
             2af9ba53 f06be7d7 80280004 c07d4c96",
        );
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.class, Class::Success);
        let mapped = m.attribute(attr::XOR_MAPPED_ADDRESS).unwrap();
        assert_eq!(m.xor_address(mapped), Some("192.0.2.1:32853".parse().unwrap()));
        assert!(m.integrity_ok(b"VOkJxbRl1RmTxUk/WvJxBt"));
        let mut out = Vec::new();
        let mut b = Builder::new(&mut out, Class::Success, method::BINDING, m.transaction);
        // The RFC pads SOFTWARE with a space where we pad with zero: compare the rest.
        b.bytes(attr::SOFTWARE, b"test vector")
            .xor_address(attr::XOR_MAPPED_ADDRESS, "192.0.2.1:32853".parse().unwrap());
        assert_eq!(&out[20 + 16..], &bytes[20 + 16..20 + 16 + 12], "XOR-MAPPED-ADDRESS bytes");
    }

    /// RFC 5769 §2.4: a request with a long-term credential.
    #[test]
    fn rfc5769_long_term_request() {
        let bytes = unhex(
            "00010060 2112a442 78ad3433 c6ad72c0 29da412e 00060012 e3839ee3 8388e383
             aae38383 e382afe3 82b90000 0015001c 662f2f34 39396b39 35346436 4f4c3334
             6f4c3946 53547679 36347341 0014000b 6578616d 706c652e 6f726700 00080014
             f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666",
        );
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(
            m.text(attr::USERNAME),
            Some("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}")
        );
        assert_eq!(m.text(attr::REALM), Some("example.org"));
        // key = MD5(username ":" realm ":" SASLprep(password)); the password "TheMatrIX".
        let key = crate::credential::long_term_key(
            "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",
            "example.org",
            "TheMatrIX",
        );
        assert!(m.integrity_ok(&key));
    }

    #[test]
    fn built_messages_round_trip_with_integrity_and_fingerprint() {
        let mut out = vec![9, 9]; // Something already in the buffer.
        let tid = [7u8; 12];
        let mut b = Builder::new(&mut out, Class::Success, method::ALLOCATE, tid);
        b.xor_address(attr::XOR_RELAYED_ADDRESS, "10.0.0.1:49152".parse().unwrap())
            .xor_address(attr::XOR_MAPPED_ADDRESS, "[2001:db8::1]:5000".parse().unwrap())
            .u32(attr::LIFETIME, 600)
            .text(attr::SOFTWARE, "Troupe");
        b.finish(Some(b"key"));
        let m = Message::parse(&out[2..]).unwrap();
        assert_eq!((m.class, m.method, m.transaction), (Class::Success, method::ALLOCATE, tid));
        let relayed = m.attribute(attr::XOR_RELAYED_ADDRESS).unwrap();
        assert_eq!(m.xor_address(relayed), Some("10.0.0.1:49152".parse().unwrap()));
        let mapped = m.attribute(attr::XOR_MAPPED_ADDRESS).unwrap();
        assert_eq!(m.xor_address(mapped), Some("[2001:db8::1]:5000".parse().unwrap()));
        assert_eq!(m.u32(attr::LIFETIME), Some(600));
        assert!(m.integrity_ok(b"key"));
        assert!(!m.integrity_ok(b"other"));
        // A flipped bit breaks the fingerprint.
        let mut bad = out[2..].to_vec();
        bad[30] ^= 1;
        assert_eq!(Message::parse(&bad).unwrap_err(), StunError::Fingerprint);
    }

    #[test]
    fn errors_carry_code_and_reason() {
        let mut out = Vec::new();
        Builder::new(&mut out, Class::Error, method::ALLOCATE, [1; 12])
            .error(486, "allocation quota reached")
            .finish(None);
        let m = Message::parse(&out).unwrap();
        assert_eq!(m.error_code(), Some((486, "allocation quota reached")));
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        assert_eq!(Message::parse(&[]).unwrap_err(), StunError::Short);
        assert_eq!(Message::parse(&[0x40; 20]).unwrap_err(), StunError::NotStun);
        let mut m = Vec::new();
        Builder::new(&mut m, Class::Request, method::BINDING, [0; 12]).text(attr::USERNAME, "abc");
        // Cut inside the attribute: the length field no longer matches.
        assert_eq!(Message::parse(&m[..m.len() - 4]).unwrap_err(), StunError::Length);
        // An attribute length that runs past the end.
        let mut long = m.clone();
        long[23] = 200;
        assert_eq!(Message::parse(&long).unwrap_err(), StunError::Attribute);
        for cut in 0..m.len() {
            let _ = Message::parse(&m[..cut]);
        }
    }

    #[test]
    fn channel_data() {
        let mut out = Vec::new();
        push_channel_data(&mut out, 0x4001, b"hello", true);
        assert_eq!(out.len(), 12);
        assert_eq!(parse_channel_data(&out), Some((0x4001, &b"hello"[..])));
        assert_eq!(parse_channel_data(&[0x3f, 0xff, 0, 0]), None, "not a channel number");
        assert_eq!(parse_channel_data(&[0x40, 0x00, 0, 9, 1]), None, "shorter than announced");
    }
}

//! Just enough STUN (RFC 8489) to route a connectivity check to its session without asking
//! every session: the USERNAME of an ICE check is `<receiver's ufrag>:<sender's ufrag>`
//! (RFC 8445 §7.2.2), and the receiver's ufrag names one session of the worker. str0m then
//! verifies the message properly (MESSAGE-INTEGRITY); this only picks the candidate session.

const HEADER: usize = 20;
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
const USERNAME: u16 = 0x0006;

/// Whether a datagram is STUN by its first byte (RFC 7983: 0–3).
pub fn is_stun(datagram: &[u8]) -> bool {
    datagram.first().is_some_and(|b| *b < 4)
}

/// The local (receiver's) ufrag named by a STUN message's USERNAME, if it has one. Never
/// panics or allocates; anything malformed is `None`.
pub fn local_ufrag(datagram: &[u8]) -> Option<&str> {
    if datagram.len() < HEADER || !is_stun(datagram) || datagram[4..8] != MAGIC_COOKIE {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    let body = datagram.get(HEADER..HEADER.checked_add(length)?)?;
    let mut rest = body;
    while rest.len() >= 4 {
        let kind = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let value = rest.get(4..4 + len)?;
        if kind == USERNAME {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next();
        }
        // Attributes are padded to 4 bytes.
        let padded = (4 + len).div_ceil(4) * 4;
        rest = rest.get(padded..)?;
    }
    None
}

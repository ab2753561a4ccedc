//! Reading an RTP header in place (RFC 3550 §5.1), and telling RTP from RTCP and the rest on a
//! WebRTC socket (RFC 7983, RFC 5761). SRTP leaves the header in the clear, so a subscriber
//! reads sequence numbers and SSRCs without decrypting anything.

/// The fields of an RTP header a subscriber needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub payload_type: u8,
    pub sequence: u16,
    pub ssrc: u32,
    /// Bytes of header, CSRCs and extension included: where the payload starts.
    pub len: usize,
    /// Whether the payload ends with padding (its last byte is the padding's length).
    pub padding: bool,
}

/// Whether a datagram is RTP (not RTCP, STUN or DTLS): version 2, and a payload type outside
/// RTCP's packet types 192–223 (RFC 5761 §4).
pub fn is_rtp(datagram: &[u8]) -> bool {
    datagram.len() >= 12 && datagram[0] >> 6 == 2 && !(64..96).contains(&(datagram[1] & 0x7f))
}

impl Header {
    pub fn parse(packet: &[u8]) -> Option<Header> {
        if packet.len() < 12 || packet[0] >> 6 != 2 {
            return None;
        }
        let csrcs = usize::from(packet[0] & 0x0f);
        let mut len = 12 + 4 * csrcs;
        if packet[0] & 0x10 != 0 {
            // Extension: a 4-byte header whose second half counts 32-bit words.
            let words = packet.get(len + 2..len + 4)?;
            len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        if len > packet.len() {
            return None;
        }
        Some(Header {
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            len,
            padding: packet[0] & 0x20 != 0,
        })
    }
}

/// A payload without its RTP padding (RFC 3550 §5.1: the last byte counts the padding bytes,
/// itself included). `None` when the count is impossible.
pub fn strip_padding(payload: &[u8], padding: bool) -> Option<&[u8]> {
    if !padding {
        return Some(payload);
    }
    let count = usize::from(*payload.last()?);
    if count == 0 || count > payload.len() {
        return None;
    }
    Some(&payload[..payload.len() - count])
}

/// Extends a 16-bit sequence number to the one nearest `highest` (RFC 3550 A.1): the SRTP
/// packet index (RFC 3711 §3.3.1), whose upper bits are the rollover counter.
pub fn extend(sequence: u16, highest: u64) -> u64 {
    let delta = sequence.wrapping_sub(highest as u16) as i16;
    highest.wrapping_add_signed(i64::from(delta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_csrcs_and_extensions_parse() {
        let mut packet = vec![0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 9, 9];
        let h = Header::parse(&packet).unwrap();
        assert_eq!((h.payload_type, h.sequence, h.ssrc, h.len), (96, 0x1234, 0xdeadbeef, 12));
        // One CSRC and a one-word extension.
        packet[0] = 0x91;
        packet.truncate(12);
        packet.extend_from_slice(&[0, 0, 0, 7, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0xaa]);
        assert_eq!(Header::parse(&packet).unwrap().len, 24);
        assert_eq!(Header::parse(&packet[..20]), None, "the extension runs past the end");
        assert!(is_rtp(&packet));
    }

    #[test]
    fn rtcp_stun_and_dtls_are_not_rtp() {
        let rtcp = [0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(!is_rtp(&rtcp), "a sender report");
        assert!(!is_rtp(&[0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0]), "STUN");
        assert!(!is_rtp(&[22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "DTLS");
    }

    #[test]
    fn padding_and_sequence_extension() {
        assert_eq!(strip_padding(&[1, 2, 0, 0, 3], true), Some(&[1, 2][..]));
        assert_eq!(strip_padding(&[1, 2], false), Some(&[1, 2][..]));
        assert_eq!(strip_padding(&[1, 9], true), None);
        assert_eq!(extend(5, 0xffff), 0x1_0005, "wraps forward");
        assert_eq!(extend(0xfffe, 0x1_0003), 0xfffe, "a late packet from before the wrap");
        assert_eq!(extend(100, 90), 100);
    }
}

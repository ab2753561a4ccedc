//! The RTP fixed header (RFC 3550 §5.1), with CSRCs, a header extension (§5.3.1) and padding
//! skipped to reach the payload.

use crate::DepacketizeError;

/// A parsed RTP packet borrowing its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Without padding; may be empty (padding-only packets still take a sequence number).
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    pub fn parse(packet: &'a [u8]) -> Result<Self, DepacketizeError> {
        let too_short = |needed| DepacketizeError::TooShort { len: packet.len(), needed };
        if packet.len() < 12 {
            return Err(too_short(12));
        }
        let version = packet[0] >> 6;
        if version != 2 {
            return Err(DepacketizeError::BadVersion(version));
        }
        let has_padding = packet[0] & 0x20 != 0;
        let has_extension = packet[0] & 0x10 != 0;
        let csrc_count = usize::from(packet[0] & 0x0f);
        let mut header = 12 + 4 * csrc_count;
        if packet.len() < header {
            return Err(too_short(header));
        }
        if has_extension {
            if packet.len() < header + 4 {
                return Err(too_short(header + 4));
            }
            let words = usize::from(u16::from_be_bytes([packet[header + 2], packet[header + 3]]));
            header += 4 + 4 * words;
            if packet.len() < header {
                return Err(too_short(header));
            }
        }
        let mut end = packet.len();
        if has_padding {
            let available = end - header;
            // The count includes itself, so 0 is as invalid as too large a count.
            let padding = usize::from(packet[end - 1]);
            if padding == 0 || padding > available {
                return Err(DepacketizeError::BadPadding { padding, available });
            }
            end -= padding;
        }
        Ok(RtpPacket {
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            payload: &packet[header..end],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut p = vec![0xb2, 0xe0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // two CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // one-word extension
        p.extend_from_slice(b"payload");
        p.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let rtp = RtpPacket::parse(&p).unwrap();
        assert!(rtp.marker);
        assert_eq!((rtp.payload_type, rtp.sequence, rtp.timestamp), (96, 0x1234, 0x1000));
        assert_eq!(rtp.ssrc, 0xdeadbeef);
        assert_eq!(rtp.payload, b"payload");
    }

    #[test]
    fn refuses_malformed_headers() {
        assert!(matches!(RtpPacket::parse(&[0x80; 11]), Err(DepacketizeError::TooShort { .. })));
        let mut p = vec![0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(RtpPacket::parse(&p), Err(DepacketizeError::BadVersion(1)));
        p[0] = 0x83; // three CSRCs, none present
        assert!(matches!(RtpPacket::parse(&p), Err(DepacketizeError::TooShort { needed: 24, .. })));
        p[0] = 0x90; // extension header missing
        assert!(matches!(RtpPacket::parse(&p), Err(DepacketizeError::TooShort { needed: 16, .. })));
        p[0] = 0xa0;
        p.push(0); // padding count 0
        assert!(matches!(RtpPacket::parse(&p), Err(DepacketizeError::BadPadding { .. })));
        *p.last_mut().unwrap() = 2; // more padding than payload
        assert!(matches!(RtpPacket::parse(&p), Err(DepacketizeError::BadPadding { .. })));
        *p.last_mut().unwrap() = 1;
        assert_eq!(RtpPacket::parse(&p).unwrap().payload, b"");
    }
}

//! The send-time stamp every packet carries, so that a subscriber can measure how long the
//! server took to forward it: the last [`STAMP_LEN`] bytes of the RTP payload are a magic word
//! and the publisher's send time (CLOCK_REALTIME, nanoseconds). Subscribers compare it with the
//! kernel's receive timestamp of the datagram — the same host clock, so no synchronisation.
//!
//! Both SFUs forward payloads unchanged, so the stamp arrives as written. Audio stays valid
//! Opus: the packet is rewritten as a one-frame "code 3" packet whose Opus padding (RFC 6716
//! §3.2.5, which decoders must accept whatever its value) is the stamp. Video payloads get the
//! stamp as a trailer after the packetized H.264 bytes: a subscriber that strips it has the
//! exact encoded stream again (the tests decode it), but a third-party viewer would not.

/// Bytes of a stamp at the end of a payload.
pub const STAMP_LEN: usize = 12;
const MAGIC: [u8; 4] = *b"TrLd";

/// Now, on the clock stamps and kernel receive timestamps use.
pub fn realtime_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: one valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The stamp bytes for `sent_ns`.
pub fn stamp(sent_ns: u64) -> [u8; STAMP_LEN] {
    let mut out = [0u8; STAMP_LEN];
    out[..4].copy_from_slice(&MAGIC);
    out[4..].copy_from_slice(&sent_ns.to_be_bytes());
    out
}

/// The send time a payload carries, if it ends with a stamp.
pub fn read_stamp(payload: &[u8]) -> Option<u64> {
    let tail = payload.len().checked_sub(STAMP_LEN).map(|at| &payload[at..])?;
    if tail[..4] != MAGIC {
        return None;
    }
    Some(u64::from_be_bytes(tail[4..].try_into().ok()?))
}

/// A video payload with room for the stamp at its end (filled by [`write_stamp`]).
pub fn video_template(packetized: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packetized.len() + STAMP_LEN);
    out.extend_from_slice(packetized);
    out.extend_from_slice(&stamp(0));
    out
}

/// An Opus packet of one frame (code 0, as encoders emit 20 ms frames) turned into the same
/// frame as a code 3 packet whose padding has room for the stamp. `None` for other codes.
pub fn opus_template(packet: &[u8]) -> Option<Vec<u8>> {
    let (&toc, frame) = packet.split_first()?;
    if toc & 0x03 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(packet.len() + 2 + STAMP_LEN);
    out.push(toc | 0x03);
    // Frame count byte: CBR (v = 0), padding present (p = 1), one frame (M = 1).
    out.push(0x41);
    out.push(STAMP_LEN as u8); // Padding length: this many bytes end the packet.
    out.extend_from_slice(frame);
    out.extend_from_slice(&stamp(0));
    Some(out)
}

/// Writes the send time into a template's last bytes.
pub fn write_stamp(template: &mut [u8], sent_ns: u64) {
    if let Some(at) = template.len().checked_sub(STAMP_LEN) {
        template[at..].copy_from_slice(&stamp(sent_ns));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back() {
        let mut payload = video_template(&[0x65, 1, 2, 3]);
        write_stamp(&mut payload, 1_234_567_890_123);
        assert_eq!(read_stamp(&payload), Some(1_234_567_890_123));
        assert_eq!(&payload[..4], &[0x65, 1, 2, 3]);
        assert_eq!(read_stamp(&[0x65, 1, 2, 3]), None);
        assert_eq!(read_stamp(&[]), None);
    }

    #[test]
    fn opus_padding_carries_the_stamp_and_the_frame_is_unchanged() {
        let packet = [0xFC, 10, 20, 30]; // CELT FB 20 ms, code 0.
        let mut padded = opus_template(&packet).unwrap();
        write_stamp(&mut padded, 42);
        assert_eq!(padded[0], 0xFF, "code 3, same configuration");
        assert_eq!(padded[1], 0x41, "one frame, padding present");
        let padding = padded[2] as usize;
        assert_eq!(&padded[3..padded.len() - padding], &[10, 20, 30]);
        assert_eq!(read_stamp(&padded), Some(42));
        assert_eq!(opus_template(&[0xFD, 1, 2]), None, "code 1 packets are not rewritten");
    }
}

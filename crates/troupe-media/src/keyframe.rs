//! Keyframe requests towards a publisher, throttled. Every new subscription needs a keyframe,
//! and every subscriber that loses one asks for another (PLI or FIR); forwarding each request
//! would make the publisher send keyframes back to back — large frames that cost everyone
//! bandwidth. At most one request goes out per interval; requests in between are remembered
//! and sent when the interval ends, unless a keyframe arrived meanwhile.

use std::time::{Duration, Instant};

/// The throttle for one published video track.
#[derive(Debug, Clone)]
pub struct KeyframeRequests {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeRequests {
    pub fn new(interval: Duration) -> Self {
        KeyframeRequests { interval, last_sent: None, pending: false }
    }

    /// Someone needs a keyframe. Returns whether to send a request to the publisher now.
    pub fn request(&mut self, now: Instant) -> bool {
        match self.last_sent {
            Some(last) if now < last + self.interval => {
                self.pending = true;
                false
            }
            _ => {
                self.last_sent = Some(now);
                self.pending = false;
                true
            }
        }
    }

    /// A keyframe arrived from the publisher: whoever was waiting has it now.
    pub fn keyframe_received(&mut self) {
        self.pending = false;
    }

    /// When a remembered request may be sent.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.pending, self.last_sent) {
            (true, Some(last)) => Some(last + self.interval),
            _ => None,
        }
    }

    /// Returns whether to send the remembered request now.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        if self.poll_timeout().is_some_and(|at| at <= now) {
            self.last_sent = Some(now);
            self.pending = false;
            true
        } else {
            false
        }
    }
}

/// The video codecs whose keyframes [`starts_keyframe`] recognizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    Vp8,
    H264,
}

/// Whether an RTP payload is the first packet of a keyframe (the point where a subscriber can
/// start decoding). Reads a few bytes of the payload descriptor; never allocates, never panics
/// on short or malformed payloads (they are simply not keyframe starts).
///
/// - VP8 (RFC 7741): the start of partition 0 (S bit set, PID 0) whose frame header has the
///   inverse key-frame bit P clear.
/// - H.264 (RFC 6184, packetization-mode 1): an IDR slice (type 5) or the parameter sets that
///   precede it (SPS 7, PPS 8), alone, aggregated first in a STAP-A (24), or starting an FU-A
///   (28) fragment.
pub fn starts_keyframe(codec: VideoCodec, payload: &[u8]) -> bool {
    match codec {
        VideoCodec::Vp8 => vp8_keyframe_start(payload),
        VideoCodec::H264 => h264_keyframe_start(payload),
    }
}

fn vp8_keyframe_start(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else { return false };
    let extended = first & 0x80 != 0;
    let start = first & 0x10 != 0;
    let partition = first & 0x07;
    if !start || partition != 0 {
        return false;
    }
    let mut offset = 1;
    if extended {
        let Some(&x) = payload.get(1) else { return false };
        offset += 1;
        if x & 0x80 != 0 {
            // PictureID: one byte, or two when its M bit is set.
            let Some(&pid) = payload.get(offset) else { return false };
            offset += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            offset += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            offset += 1; // TID/KEYIDX
        }
    }
    // The VP8 frame header: P (bit 0 of the first byte) is 0 for a keyframe.
    payload.get(offset).is_some_and(|&header| header & 0x01 == 0)
}

fn h264_keyframe_start(payload: &[u8]) -> bool {
    let is_key = |nal_type: u8| matches!(nal_type, 5 | 7 | 8);
    let Some(&header) = payload.first() else { return false };
    match header & 0x1F {
        24 => payload.get(3).is_some_and(|&nal| is_key(nal & 0x1F)), // STAP-A: 2-byte size first
        28 => payload.get(1).is_some_and(|&fu| fu & 0x80 != 0 && is_key(fu & 0x1F)), // FU-A start
        nal_type => is_key(nal_type),
    }
}

//! Per-subscription RTP rewriting: the subscriber sees one stream with its own SSRC and
//! continuous sequence numbers and timestamps, whatever happens upstream. When the source
//! changes (the publisher republished: new SSRC, new random sequence and timestamp bases), the
//! output goes on from where it was — sequence number +1, timestamp advanced by the wall-clock
//! time since the last packet — so that the subscriber's jitter buffer and decoder do not see
//! a jump. Video switches only on a keyframe, since the new source's delta frames cannot be
//! decoded against the old source's pictures.
//!
//! Sources are told apart by an id the caller gives each publishing session's track, not by
//! SSRC: a republish may reuse its SSRC with new bases. The caller stops feeding a replaced
//! session's packets (it ends that session), so strays cannot make the output flap. Within one
//! source, a jump of more than [`MAX_DROPOUT`] ahead or [`MAX_MISORDER`] behind is a restart of
//! the stream (RFC 3550 A.1's bounds) and is handled like a change of source.
//!
//! Per packet this is a few integer operations on fields the caller read from the header; no
//! allocation, no clock read (the caller passes `now`).

use std::time::Instant;

/// The header fields of an incoming packet that rewriting needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming {
    /// Which publishing session's track this is (see the module doc).
    pub source: u64,
    pub sequence: u16,
    pub timestamp: u32,
    /// Whether this packet starts a keyframe: the first packet of the access unit, parameter
    /// sets included (H.264 SPS/PPS sent ahead of the IDR belong to it). Audio: always true.
    pub keyframe_start: bool,
}

/// What to do with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it with these header fields.
    Forward { sequence: u16, timestamp: u32 },
    /// Do not send it.
    Drop(DropReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A new video source, waiting for its first keyframe.
    WaitingForKeyframe,
    /// Older than the first packet forwarded from this source: it has no place in the output.
    BeforeSwitch,
}

#[derive(Debug, Clone, Copy)]
struct Source {
    id: u64,
    /// Highest extended (wrap-counting) input sequence number seen.
    highest: u64,
    /// Extended input sequence number of the first packet forwarded from this source.
    first: u64,
    sequence_offset: u16,
    timestamp_offset: u32,
}

#[derive(Debug, Clone, Copy)]
struct LastOut {
    sequence: u16,
    timestamp: u32,
    at: Instant,
    /// Timestamp step between the last two packets with different timestamps: the frame
    /// duration, so that a switch never lands inside the last frame.
    step: u32,
}

/// Sequence jumps beyond these are a restart of the stream, not loss or reordering.
pub const MAX_DROPOUT: i16 = 3000;
pub const MAX_MISORDER: i16 = 100;

/// Rewrites one track of one subscription.
#[derive(Debug, Clone)]
pub struct RtpRewriter {
    clock_rate: u32,
    video: bool,
    source: Option<Source>,
    last: Option<LastOut>,
}

/// Extended sequence numbers start here, so that packets slightly older than the first one
/// seen still have a place (no underflow).
const EXTENDED_BASE: u64 = 1 << 32;

impl RtpRewriter {
    /// A rewriter for a track whose RTP clock runs at `clock_rate` Hz (48000 for Opus, 90000
    /// for video).
    pub fn new(clock_rate: u32, video: bool) -> Self {
        RtpRewriter { clock_rate, video, source: None, last: None }
    }

    /// Decides what to do with one packet received at `now`.
    pub fn rewrite(&mut self, packet: Incoming, now: Instant) -> Decision {
        let same_stream = |s: &Source| {
            let delta = packet.sequence.wrapping_sub(s.highest as u16) as i16;
            s.id == packet.source && (-MAX_MISORDER..=MAX_DROPOUT).contains(&delta)
        };
        let (source, switched) = match self.source {
            Some(source) if same_stream(&source) => (source, false),
            _ => {
                if self.video && !packet.keyframe_start {
                    return Decision::Drop(DropReason::WaitingForKeyframe);
                }
                (self.switch_to(packet, now), true)
            }
        };
        // Extend the 16-bit sequence number relative to the highest seen (RFC 3550 A.1 style):
        // a difference of less than half the space either way is the nearer one.
        let delta = packet.sequence.wrapping_sub(source.highest as u16) as i16;
        let extended = source.highest.wrapping_add_signed(i64::from(delta));
        if extended < source.first {
            return Decision::Drop(DropReason::BeforeSwitch);
        }
        let sequence = packet.sequence.wrapping_add(source.sequence_offset);
        let timestamp = packet.timestamp.wrapping_add(source.timestamp_offset);
        if extended > source.highest || switched {
            if let Some(s) = self.source.as_mut() {
                s.highest = s.highest.max(extended);
            }
            let step = match self.last {
                Some(last) if !switched && timestamp != last.timestamp => {
                    timestamp.wrapping_sub(last.timestamp)
                }
                Some(last) => last.step,
                None => 0,
            };
            self.last = Some(LastOut { sequence, timestamp, at: now, step });
        }
        Decision::Forward { sequence, timestamp }
    }

    /// Starts forwarding from a new source, continuing the output where it was.
    fn switch_to(&mut self, packet: Incoming, now: Instant) -> Source {
        let (sequence_offset, timestamp_offset) = match self.last {
            None => (0, 0),
            Some(last) => {
                let next_sequence = last.sequence.wrapping_add(1);
                let elapsed = now.saturating_duration_since(last.at);
                let ticks = (elapsed.as_micros() * u128::from(self.clock_rate) / 1_000_000) as u32;
                let next_timestamp = last.timestamp.wrapping_add(ticks.max(last.step).max(1));
                (
                    next_sequence.wrapping_sub(packet.sequence),
                    next_timestamp.wrapping_sub(packet.timestamp),
                )
            }
        };
        let first = EXTENDED_BASE + u64::from(packet.sequence);
        let source =
            Source { id: packet.source, highest: first, first, sequence_offset, timestamp_offset };
        self.source = Some(source);
        source
    }
}

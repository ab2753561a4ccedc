//! A copy of a publisher's packets for something inside the node: a recording, or the
//! packager of a channel fed over WHIP. The router hands each packet it receives from a
//! tapped publisher to the tap as it is (decrypted, RTX already un-wrapped; the payload is the
//! shared `Arc`, not a copy), before forwarding it. The tap must not block the worker thread:
//! it queues the packet and returns.

use std::{sync::Arc, time::Instant};

/// The codecs a tap is given (the ones stages forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapCodec {
    Opus,
    Vp8,
    H264,
}

/// One received RTP packet of a tapped publisher.
#[derive(Debug, Clone)]
pub struct TappedPacket {
    pub codec: TapCodec,
    /// The sequence number, extended across wrap-around (str0m's).
    pub sequence: u64,
    /// The RTP timestamp, extended across wrap-around, in the codec's clock rate.
    pub rtp_time: u64,
    pub marker: bool,
    pub payload: Arc<[u8]>,
    /// When the datagram arrived.
    pub received: Instant,
}

pub trait MediaTap: Send + Sync + 'static {
    /// Takes one packet; returns whether the tap wants a keyframe from the publisher (its
    /// depacketizer lost data, or it is starting a new file). The router throttles the
    /// requests like a subscriber's.
    fn packet(&self, packet: TappedPacket) -> bool;
}

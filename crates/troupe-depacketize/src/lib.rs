//! RTP payloads back to media for recording and WHIP ingest: H.264 access units in AVCC form
//! ([`h264::H264Depacketizer`]) and Opus frames ([`opus::OpusDepacketizer`]). Sans-IO: packets
//! go in, media comes out, no clock. Packets are reordered by sequence number within a small
//! window; after a loss, H.264 output waits for the next IDR and asks once for a keyframe.

pub mod error;
pub mod extend;
pub mod h264;
pub mod opus;
pub mod reorder;
pub mod rtp;

pub use error::DepacketizeError;
pub use h264::{AccessUnit, H264Depacketizer, H264Output};
pub use opus::{OpusDepacketizer, OpusFrame};
pub use reorder::ReorderConfig;
pub use rtp::RtpPacket;

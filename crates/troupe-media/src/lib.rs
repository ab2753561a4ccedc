//! The media plane.
//!
//! - [`session`]: a WHIP session's WebRTC endpoint (str0m, ICE-lite, RTP mode).
//! - [`client`]: a WebRTC client (str0m) that publishes or receives numbered frames, for the
//!   tests and the load tool.
//! - [`worker`]: a media worker thread — one UDP socket, its sessions, O(1) demultiplexing by
//!   remote address.
//! - [`rewrite::RtpRewriter`]: one subscription track's outgoing SSRC, sequence numbers and
//!   timestamps, continuous across a change of source.
//! - [`keyframe`]: when a keyframe request (PLI/FIR) may go to a publisher, and whether a VP8
//!   or H.264 packet starts a keyframe (where a video subscription can begin).
//!
//! The rewriter and the keyframe throttle are sans-IO: fed with header fields and the time,
//! no socket, clock or allocation per packet. Must not touch: HTTP, the store, or the events
//! plane; the WHIP endpoint and the stage hubs talk to workers through typed commands
//! (DESIGN §3).

pub mod client;
pub mod keyframe;
pub mod rewrite;
pub mod session;
pub mod worker;

//! The media plane.
//!
//! - [`session`]: a WHIP session's WebRTC endpoint (str0m, ICE-lite, RTP mode).
//! - [`client`]: a WebRTC client (str0m) that publishes or receives numbered frames, for the
//!   tests.
//! - [`router`]: the SFU core, sans-IO — sessions, demultiplexing, forwarding, keyframe
//!   requests, timers; fed datagrams and the time (tests use simulated time).
//! - [`worker`]: a media worker thread — one UDP socket ([`batch_io`]: `recvmmsg`/`sendmmsg`),
//!   its router, typed commands from the rest of the server.
//! - [`stun`]: the ufrag of a STUN check (demultiplexing a new address in O(1)); [`sdpfrag`]:
//!   trickle-ICE fragments (WHIP PATCH); [`stats`]: a worker's counters; [`slab`]: stable
//!   indices.
//! - [`rewrite::RtpRewriter`]: one subscription track's outgoing SSRC, sequence numbers and
//!   timestamps, continuous across a change of source.
//! - [`keyframe`]: when a keyframe request (PLI/FIR) may go to a publisher, and whether a VP8
//!   or H.264 packet starts a keyframe (where a video subscription can begin).
//!
//! The rewriter and the keyframe throttle are sans-IO: fed with header fields and the time,
//! no socket, clock or allocation per packet. Must not touch: HTTP, the store, or the events
//! plane; the WHIP endpoint and the stage hubs talk to workers through typed commands
//! (DESIGN §3).

pub mod batch_io;
pub mod client;
pub mod endpoint;
pub mod framing;
pub mod keyframe;
pub mod poller;
pub mod rewrite;
pub mod router;
pub mod sdpfrag;
pub mod session;
pub mod slab;
pub mod stats;
pub mod stun;
pub mod tap;
pub mod tcp_links;
pub mod worker;

/// The str0m media types that appear in this crate's API ([`session::Answered::media`]).
pub use str0m::media::{Direction, MediaKind, Mid};

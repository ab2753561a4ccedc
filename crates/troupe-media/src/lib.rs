//! The media plane. So far: the pieces of the forwarding path that are pure logic, sans-IO —
//! fed with packets' header fields and the time, with no socket, clock or allocation per
//! packet:
//!
//! - [`rewrite::RtpRewriter`]: one subscription track's outgoing SSRC, sequence numbers and
//!   timestamps, continuous across a change of source (a publisher that republishes replaces
//!   its old session; the subscriber must see one unbroken stream).
//! - [`keyframe::KeyframeRequests`]: when a keyframe request (PLI/FIR) may go to a publisher,
//!   so that many subscribers asking at once cost the publisher one keyframe.
//!
//! Must not touch: HTTP, the store, or the events plane; the workers that will drive these
//! (str0m sessions on UDP sockets) talk to the rest through typed messages (DESIGN §3).

pub mod keyframe;
pub mod rewrite;

//! The stage events plane: who is on a stage (presence), what every participant is told about
//! it (stage state), and the events WebSocket.
//!
//! Owns: the sans-IO core — [`presence::StagePresence`] and the wire [`messages`] — which
//! reads no clock and touches no socket, so that tests run thousands of simulated seconds
//! deterministically; and the runtime that drives it — one [`hub`] task per active stage, and
//! the WebSocket endpoint ([`socket`]). Must not touch media: media sessions will join the hub
//! as connections of their own kind.

pub mod history;
pub mod hub;
pub mod messages;
pub mod presence;
pub mod socket;
pub mod user_agent;

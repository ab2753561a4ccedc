//! The stage events plane: who is on a stage (presence), what every participant is told about
//! it (stage state), and the JSON messages of the events WebSocket.
//!
//! Owns: the sans-IO state machines ([`presence::StagePresence`]) and the wire messages
//! ([`messages`]). Must not touch: sockets, clocks, the store or media — callers feed inputs
//! with the current time and carry out the outputs, so that tests run thousands of simulated
//! seconds deterministically (the way str0m tests itself).

pub mod messages;
pub mod presence;

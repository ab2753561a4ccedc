//! Troupe's embedded TURN server (RFC 8656): relays for clients whose network lets nothing
//! through to the media ports but a TURN server (TCP or TLS on 443, say). UDP relays only,
//! towards this node's media ports only; REST-API credentials (no user table).
//!
//! - [`stun`]: the message codec (parse without copying, build with MESSAGE-INTEGRITY and
//!   FINGERPRINT, ChannelData).
//! - [`credential`]: minting and checking credentials; [`nonce`]: stateless nonces.
//! - [`server`]: the sans-IO core — allocations, permissions, channels, policy.
//! - [`io`]: the thread that runs it on real sockets (UDP, TCP, TLS listeners and relays);
//!   [`framing`] cuts TCP/TLS streams into messages.
//! - [`client`]: a small TURN client for tests and the load tool.
//! - [`stats`]: the counters.
//!
//! Must not touch: the media plane, HTTP, the store. The server tells it which ports it may
//! relay to; it knows nothing of stages or sessions.

pub mod client;
pub mod credential;
pub mod framing;
pub mod io;
pub mod nonce;
pub mod server;
pub mod stats;
pub mod stun;

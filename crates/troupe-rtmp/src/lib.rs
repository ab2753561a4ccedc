//! RTMP ingest, sans-IO: what OBS, ffmpeg and hardware encoders send to
//! `rtmp://host:1935/app/<streamKey>`, turned into events (publish requests, metadata,
//! H.264 and AAC frames) for a channel. No sockets, no clocks, no threads: the caller reads
//! the socket, feeds [`ServerSession::receive`], writes [`ServerSession::take_output`] and
//! handles [`ServerSession::poll_event`].
//!
//! - [`session`]: the connection's state machine (commands, acknowledgements, publish).
//! - [`handshake`]: the plain handshake; [`chunk_reader`] and [`chunk_writer`]: chunk streams.
//! - [`amf0`], [`command`], [`metadata`]: command and data messages.
//! - [`media`]: FLV audio/video bodies; [`timeline`]: 32-bit timestamps extended to u64.
//! - [`client`]: a publisher's bytes, for tests and fuzz seeds.
//!
//! Deliberately not done: playback (this is ingest only), the digest handshake and RTMPE,
//! AMF3, aggregate messages, codecs other than H.264 and AAC (refused by name).

pub mod amf0;
pub mod chunk_reader;
pub mod chunk_writer;
pub mod client;
pub mod command;
pub mod config;
pub mod control;
pub mod error;
pub mod event;
pub mod handshake;
pub mod media;
pub mod metadata;
pub mod session;
pub mod timeline;

pub use config::SessionConfig;
pub use error::{AmfError, RtmpError};
pub use event::{CodecId, Event, StreamMetadata};
pub use session::ServerSession;

//! Why a connection is refused. Every error is fatal for the connection: the caller logs it
//! and closes the socket. Messages name what was wrong so that an operator reading a log line
//! knows which side to fix.

use thiserror::Error;

/// An AMF0 value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmfError {
    #[error("AMF0 data ends inside {0}")]
    Truncated(&'static str),
    #[error("AMF0 type marker 0x{0:02x} is not supported")]
    UnsupportedMarker(u8),
    #[error("AMF0 switch to AMF3 (marker 0x11) is not supported: use objectEncoding 0")]
    Amf3,
    #[error("AMF0 values nested deeper than {0} levels")]
    TooDeep(usize),
}

/// A fatal problem with what the client sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtmpError {
    #[error("the session already failed; close the connection")]
    AlreadyFailed,

    // Handshake.
    #[error(
        "RTMP version byte {0} in C0 (only 3, plain RTMP, is supported; 6 is RTMPE, encrypted RTMP)"
    )]
    BadVersion(u8),

    // Chunk streams.
    #[error("chunk stream {csid} continues with a type {fmt} header but never had a type 0 header")]
    ChunkWithoutHeader { csid: u32, fmt: u8 },
    #[error(
        "chunk stream {csid} starts a new message (type {fmt} header) inside an unfinished one"
    )]
    NewMessageInsideMessage { csid: u32, fmt: u8 },
    #[error("a message of {length} bytes is longer than the limit of {limit} bytes")]
    MessageTooLong { length: u32, limit: u32 },
    #[error("more than {limit} chunk streams in use")]
    TooManyChunkStreams { limit: usize },
    #[error("unfinished messages would buffer {bytes} bytes, more than the limit of {limit}")]
    BufferedTooMuch { bytes: usize, limit: usize },
    #[error("Set Chunk Size {0} is out of range (1 to 2147483647)")]
    BadChunkSize(u32),

    // Messages.
    #[error("{what} message is {length} bytes, needs {needed}")]
    ShortControlMessage { what: &'static str, length: usize, needed: usize },
    #[error(
        "AMF3 {what} messages (type {type_id}) are not supported: connect with objectEncoding 0"
    )]
    Amf3Message { what: &'static str, type_id: u8 },
    #[error("RTMP message type {0} is not supported ({1})")]
    UnsupportedMessageType(u8, &'static str),
    #[error("bad AMF0 in {context}: {source}")]
    Amf { context: &'static str, source: AmfError },

    // Commands.
    #[error("command message does not start with a command name string")]
    CommandWithoutName,
    #[error("command {0:?} before connect")]
    CommandBeforeConnect(String),
    #[error("connect sent twice")]
    ConnectTwice,
    #[error("{command} is missing {what}")]
    MalformedCommand { command: &'static str, what: &'static str },
    #[error("publish on message stream {0}, which createStream did not create")]
    UnknownStream(u32),
    #[error("createStream called more than {0} times")]
    TooManyStreams(u32),
    #[error("publish sent again after a publish was already requested")]
    PublishTwice,

    // Media.
    #[error("{0} message before the publish was accepted")]
    MediaBeforePublish(&'static str),
    #[error("{0} message after the publish was rejected")]
    MediaAfterReject(&'static str),
    #[error("unsupported video codec {0}: only H.264 (AVC, FLV codec id 7) is accepted")]
    UnsupportedVideoCodec(String),
    #[error("unsupported audio codec {0}: only AAC (FLV sound format 10) is accepted")]
    UnsupportedAudioCodec(String),
    #[error("malformed video message: {0}")]
    MalformedVideo(&'static str),
    #[error("malformed audio message: {0}")]
    MalformedAudio(&'static str),
}

//! The limits one session works within, so that no client can make it buffer without bound.

/// Limits and the values the server announces to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The longest RTMP message accepted (a keyframe of a high-bitrate 1080p stream is a few
    /// hundred KiB; 8 MiB leaves room for extreme encoder settings).
    pub max_message_size: u32,
    /// The most bytes held across all unfinished messages at once.
    pub max_buffered_bytes: usize,
    /// The most distinct chunk stream ids a client may use (encoders use 3 to 6 of them).
    pub max_chunk_streams: usize,
    /// Window Acknowledgement Size sent to the client, and the window this side acknowledges
    /// with until the client announces its own.
    pub ack_window: u32,
    /// Set Peer Bandwidth sent to the client.
    pub peer_bandwidth: u32,
    /// The chunk size this side sends with (announced by Set Chunk Size).
    pub chunk_size: u32,
    /// The most message streams createStream may create on one connection.
    pub max_streams: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_message_size: 8 * 1024 * 1024,
            max_buffered_bytes: 16 * 1024 * 1024,
            max_chunk_streams: 32,
            ack_window: 2_500_000,
            peer_bandwidth: 2_500_000,
            chunk_size: 4096,
            max_streams: 8,
        }
    }
}

//! Why a packet was refused. A refused packet changes nothing but, for H.264, the access unit
//! it belonged to (which is dropped, and a keyframe asked for).

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DepacketizeError {
    #[error("RTP packet of {len} bytes is shorter than its {needed}-byte header")]
    TooShort { len: usize, needed: usize },
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    #[error("RTP padding of {padding} bytes exceeds the {available} bytes after the header")]
    BadPadding { padding: usize, available: usize },
    #[error("H.264 NAL unit type {0} is not allowed in packetization-mode 1")]
    UnsupportedNalType(u8),
    #[error("H.264 STAP-A aggregation unit is truncated")]
    TruncatedStapA,
    #[error("H.264 FU-A fragment is shorter than its 2-byte header")]
    TruncatedFuA,
    #[error("H.264 FU-A fragment arrived without its start fragment")]
    FuAWithoutStart,
    #[error("H.264 FU-A fragmented NAL unit ended without its end fragment")]
    FuAWithoutEnd,
    #[error("H.264 access unit exceeds {limit} bytes")]
    AccessUnitTooLarge { limit: usize },
    #[error("H.264 access unit exceeds {limit} NAL units")]
    TooManyNalUnits { limit: usize },
    #[error("empty Opus payload")]
    EmptyOpusPayload,
}

//! The media publishers send: the encoded clip ([`clip`]), its RTP packetization ([`h264`]),
//! and the send-time stamp each packet carries ([`stamp`]).

pub mod clip;
pub mod h264;
pub mod stamp;

//! H.264 as a remuxer needs it: SPS parsing ([`Sps`]), the avcC record ([`AvcConfig`]) and
//! conversion between Annex B byte streams (RTP, `-f h264`) and AVCC length-prefixed samples
//! (RTMP, MP4).

mod annex_b;
mod avcc;
mod bits;
mod sps;

pub use annex_b::{annex_b_nal_units, annex_b_to_avcc, avcc_nal_units, avcc_to_annex_b};
pub use avcc::AvcConfig;
pub use sps::Sps;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum H264Error {
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("invalid H.264 parameter set: {0}")]
    Invalid(&'static str),
    #[error("expected an SPS (NAL type 7), got NAL type {0}")]
    NotAnSps(u8),
    #[error("avcC version {0} is not 1")]
    AvccVersion(u8),
    #[error("the avcC record holds no {0}")]
    MissingParameterSet(&'static str),
    #[error("a NAL unit of {0} bytes is too large for its length field")]
    NalTooLarge(usize),
    #[error("a NAL length of {length} bytes runs past the {remaining} bytes left in the sample")]
    NalLengthOverrun { length: usize, remaining: usize },
}

/// NAL unit types that matter to packaging.
pub const NAL_IDR: u8 = 5;
pub const NAL_SPS: u8 = 7;
pub const NAL_PPS: u8 = 8;

/// The type of a NAL unit from its header byte.
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|header| header & 0x1f)
}

//! A WHIP session's WebRTC endpoint: a str0m `Rtc` configured the way every Troupe session is —
//! ICE-lite (the server never gathers; clients reach its one host candidate per worker), RTP
//! mode (packets are forwarded as they are, never depacketized), and the codecs the stage
//! forwards (Opus; VP8 and H.264 constrained baseline, packetization-mode 1).

use std::{net::SocketAddr, time::Instant};

use str0m::{
    Candidate, Rtc, RtcConfig,
    change::{SdpAnswer, SdpOffer},
};

/// Why an offer cannot be answered; each maps to the HTTP status of the WHIP endpoint.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the SDP offer is malformed: {0}")]
    MalformedSdp(String),
    #[error("the SDP offer cannot be accepted: {0}")]
    Rejected(String),
    /// None of the offered media has a codec the stage forwards.
    #[error("no offered media uses a codec Troupe forwards (Opus, VP8, H.264)")]
    CodecMismatch,
}

/// Builds the server side of a session from a client's offer: the `Rtc` to hand to the media
/// worker that owns `candidate` (its UDP address as clients see it), and the SDP answer.
pub fn answer_offer(
    offer_sdp: &str,
    candidate: SocketAddr,
    now: Instant,
) -> Result<(Rtc, String), SessionError> {
    let offer = SdpOffer::from_sdp_string(offer_sdp)
        .map_err(|e| SessionError::MalformedSdp(e.to_string()))?;
    let mut rtc = RtcConfig::new()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .enable_h264(true)
        .build(now);
    let host = Candidate::host(candidate, "udp")
        .map_err(|e| SessionError::Rejected(format!("bad local candidate {candidate}: {e}")))?;
    rtc.add_local_candidate(host);
    let answer: SdpAnswer =
        rtc.sdp_api().accept_offer(offer).map_err(|e| SessionError::Rejected(e.to_string()))?;
    let answer = answer.to_sdp_string();
    if !accepts_any_media(&answer) {
        return Err(SessionError::CodecMismatch);
    }
    Ok((rtc, answer))
}

/// Whether an answer accepts at least one m-line: a rejected one has port 0 (RFC 3264).
fn accepts_any_media(answer: &str) -> bool {
    answer
        .lines()
        .filter_map(|l| l.strip_prefix("m="))
        .any(|m| m.split_whitespace().nth(1).is_some_and(|port| port != "0"))
}

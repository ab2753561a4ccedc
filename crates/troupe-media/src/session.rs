//! A WHIP session's WebRTC endpoint: a str0m `Rtc` configured the way every Troupe session is —
//! ICE-lite (the server never gathers; clients reach its one host candidate per worker), RTP
//! mode (packets are forwarded as they are, never depacketized), and the codecs the stage
//! forwards (Opus; VP8 and H.264 constrained baseline, packetization-mode 1).

use std::time::{Duration, Instant};

use str0m::{
    Candidate, IceCreds, Rtc, RtcConfig,
    change::{SdpAnswer, SdpOffer},
    media::{Direction, MediaKind, Mid},
    rtp::{Extension, ExtensionMap},
};

use crate::{endpoint::Endpoint, router::Role};

/// How often str0m reports a session's statistics (the NACK counts in the metrics).
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// Sent video packets each outgoing stream keeps to answer NACKs with RTX: about a second at
/// 2.5 Mbit/s in 1 200-byte packets (a repair comes a round trip after the loss, far less than
/// a second). str0m's default, 1 000 (and up to 3 s of them), made each video subscription
/// hold about 600 KB of packet records.
const SEND_BUFFER_VIDEO: usize = 256;

/// An answered offer: the server side of the session and what the client gets back.
pub struct Answered {
    pub rtc: Rtc,
    /// The SDP answer.
    pub answer: String,
    /// The client's ICE credentials, from its offer.
    pub remote_ice: Option<IceCreds>,
    /// The server's candidates (UDP, and passive TCP when on), as put in the answer.
    pub candidates: Vec<Candidate>,
    /// The media the answer accepted, with the server's direction (str0m reports them only
    /// once DTLS completes; the worker needs them at once to check codecs).
    pub media: Vec<(Mid, MediaKind, Direction)>,
}

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

/// What a session's media is for, which decides the codecs its answer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A stage's publish or subscription: what every subscriber can decode.
    Stage,
    /// A publish on a stage that records its participants: as `Stage` but H.264 only for
    /// video (recordings are HLS, which carries no VP8; IVS stages take H.264 only, too).
    RecordedStage,
    /// Ingest into a channel (WHIP to `/ingest/whip`): remuxed into HLS, never decoded here, so
    /// H.264 of any profile (OBS sends main or high) and Opus; no VP8, which HLS players do not
    /// take in fMP4.
    ChannelIngest,
}

/// Builds the server side of a session from a client's offer: the `Rtc` to hand to the media
/// worker of `endpoint` (its candidates as clients see them, and its ufrag prefix), and the
/// SDP answer. `role` is what the session is for (a publish, or a subscription, which only
/// sends).
pub fn answer_offer(
    offer_sdp: &str,
    endpoint: &Endpoint,
    role: &Role,
    now: Instant,
) -> Result<Answered, SessionError> {
    answer_offer_for(offer_sdp, endpoint, role, Purpose::Stage, now)
}

/// [`answer_offer`] with the codecs of `purpose`.
pub fn answer_offer_for(
    offer_sdp: &str,
    endpoint: &Endpoint,
    role: &Role,
    purpose: Purpose,
    now: Instant,
) -> Result<Answered, SessionError> {
    let offer = SdpOffer::from_sdp_string(offer_sdp)
        .map_err(|e| SessionError::MalformedSdp(e.to_string()))?;
    let mut config = RtcConfig::new()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_opus(true, false)
        .set_stats_interval(Some(STATS_INTERVAL))
        .set_send_buffer_video(SEND_BUFFER_VIDEO);
    match purpose {
        Purpose::Stage | Purpose::RecordedStage => {
            if purpose == Purpose::Stage {
                config = config.enable_vp8(true);
            }
            // H.264 as IVS takes it: constrained baseline (and plain baseline, which browsers
            // also offer), packetization-mode 1 only — str0m's defaults would also accept
            // main/high profiles and mode 0, which a subscriber might not decode. Payload
            // types as str0m's.
            config.codec_config().add_h264(108.into(), Some(109.into()), true, 0x42e01f);
            config.codec_config().add_h264(127.into(), Some(121.into()), true, 0x42001f);
        }
        Purpose::ChannelIngest => config = config.enable_h264(true),
    }
    if matches!(role, Role::Subscribe { .. }) {
        // A subscription: the server only sends. Transport-wide congestion control feedback
        // (TWCC) from the subscriber would feed a sender-side bandwidth estimate, which Troupe
        // does not run (it forwards what the publisher sends): without the extension, str0m
        // neither numbers each forwarded packet nor parses a feedback packet from every
        // subscriber every 100 ms. Publishers keep it (their browser adapts its bitrate to the
        // server's feedback).
        let mut extensions = ExtensionMap::empty();
        for (id, extension) in ExtensionMap::standard().iter() {
            if *extension != Extension::TransportSequenceNumber {
                extensions.set(id, extension.clone());
            }
        }
        config = config.set_extension_map(extensions);
    }
    let mut rtc = config.build(now);
    // The worker's prefix starts the ufrag: it routes TCP connections (see `endpoint`).
    rtc.direct_api().set_local_ice_credentials(endpoint.ice_credentials());
    let candidates = endpoint.candidates().map_err(SessionError::Rejected)?;
    for candidate in &candidates {
        rtc.add_local_candidate(candidate.clone());
    }
    let answer: SdpAnswer =
        rtc.sdp_api().accept_offer(offer).map_err(|e| SessionError::Rejected(e.to_string()))?;
    let answer = answer.to_sdp_string();
    if !accepts_any_media(&answer) {
        return Err(SessionError::CodecMismatch);
    }
    let answer = candidates_in_every_section(&answer, &candidates);
    let media = accepted_media(&answer);
    Ok(Answered { rtc, answer, remote_ice: offered_credentials(offer_sdp), candidates, media })
}

/// str0m writes candidates in the first m-section only (enough with BUNDLE); clients that
/// look for them per section (the hosted service's habit breaks aiortc's video this way) find
/// them in every accepted one, each section ending with `a=end-of-candidates`.
fn candidates_in_every_section(answer: &str, candidates: &[Candidate]) -> String {
    let lines: String = candidates.iter().map(|c| format!("\r\na={}", c.to_sdp_string())).collect();
    let mut sections = answer.split("\r\nm=");
    let mut out = sections.next().unwrap_or_default().to_string();
    for section in sections {
        out.push_str("\r\nm=");
        if section.split_whitespace().nth(1) == Some("0") {
            out.push_str(section); // Rejected: no transport.
            continue;
        }
        let body = section.trim_end_matches("\r\n");
        out.push_str(body);
        if !body.lines().any(|l| l.starts_with("a=candidate:")) {
            out.push_str(&lines);
        }
        if !body.lines().any(|l| l.trim_end() == "a=end-of-candidates") {
            out.push_str("\r\na=end-of-candidates");
        }
        out.push_str(&section[body.len()..]);
    }
    out
}

/// The accepted m-lines of an answer: their mid, kind and direction.
fn accepted_media(answer: &str) -> Vec<(Mid, MediaKind, Direction)> {
    let mut media = Vec::new();
    for section in answer.split("\nm=").skip(1) {
        let mut words = section.split_whitespace();
        let kind = match words.next() {
            Some("audio") => MediaKind::Audio,
            Some("video") => MediaKind::Video,
            _ => continue,
        };
        if words.next() == Some("0") {
            continue; // Rejected.
        }
        let attribute = |name: &str| section.lines().find_map(|l| l.trim().strip_prefix(name));
        let Some(mid) = attribute("a=mid:") else { continue };
        let has = |line: &str| section.lines().any(|l| l.trim() == line);
        let direction = if has("a=sendonly") {
            Direction::SendOnly
        } else if has("a=recvonly") {
            Direction::RecvOnly
        } else if has("a=inactive") {
            Direction::Inactive
        } else {
            Direction::SendRecv
        };
        media.push((Mid::from(mid), kind, direction));
    }
    media
}

/// The ICE credentials of an offer (BUNDLE: the first ones stand for all m-lines).
fn offered_credentials(offer: &str) -> Option<IceCreds> {
    let value = |prefix: &str| {
        offer.lines().find_map(|l| l.trim_end().strip_prefix(prefix)).map(str::to_string)
    };
    Some(IceCreds { ufrag: value("a=ice-ufrag:")?, pass: value("a=ice-pwd:")? })
}

/// Whether an answer accepts at least one m-line: a rejected one has port 0 (RFC 3264).
fn accepts_any_media(answer: &str) -> bool {
    answer
        .lines()
        .filter_map(|l| l.strip_prefix("m="))
        .any(|m| m.split_whitespace().nth(1).is_some_and(|port| port != "0"))
}

//! A stage's history as the control plane reads it back (ListStageSessions, ListParticipants,
//! ListParticipantEvents): the writes a hub queues, the task that carries them out in order, and
//! the IVS vocabulary of participant events that report a refusal.
//!
//! Must not block anyone: a hub only queues writes; a slow or failing store delays or loses
//! history, never presence, stage state or media.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use troupe_store::{EventRecord, ParticipantRecord, Store};

use crate::presence::ConnectionKind;

/// A history write, carried out in order by the writer task.
pub(crate) enum HistoryWrite {
    StartSession { stage_id: String, session_id: String, at: OffsetDateTime },
    EndSession { stage_id: String, session_id: String, at: OffsetDateTime },
    Participant(Box<ParticipantRecord>),
    Event(Box<EventRecord>),
}

/// Why a participant with a valid token was refused: IVS `EventErrorCode`, the `errorCode` of
/// its PUBLISH_ERROR, SUBSCRIBE_ERROR or JOIN_ERROR event. All of the service's codes are here
/// (so that the type is the service's); Troupe records the ones its refusals can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventErrorCode {
    /// The token lacks the capability the request needs (WHIP 403 `TOKEN_NOT_ALLOWED`).
    InsufficientCapabilities,
    /// A stage limit was reached: publishers or subscribers (403 `STAGE_AT_CAPACITY`).
    QuotaExceeded,
    /// The subscription names a participant that is not publishing (404).
    PublisherNotFound,
    BitrateExceeded,
    ResolutionExceeded,
    StreamDurationExceeded,
    /// No offered audio uses a codec the stage forwards (406 `CODEC_MISMATCH`).
    InvalidAudioCodec,
    /// No offered video uses a codec the stage forwards (406 `CODEC_MISMATCH`).
    InvalidVideoCodec,
    InvalidProtocol,
    InvalidStreamKey,
    ReuseOfStreamKey,
    BFramePresent,
    /// The request itself is unusable: malformed or oversized SDP (400, 413).
    InvalidInput,
    InternalServerException,
}

impl EventErrorCode {
    /// The wire name, as ListParticipantEvents shows it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientCapabilities => "INSUFFICIENT_CAPABILITIES",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::PublisherNotFound => "PUBLISHER_NOT_FOUND",
            Self::BitrateExceeded => "BITRATE_EXCEEDED",
            Self::ResolutionExceeded => "RESOLUTION_EXCEEDED",
            Self::StreamDurationExceeded => "STREAM_DURATION_EXCEEDED",
            Self::InvalidAudioCodec => "INVALID_AUDIO_CODEC",
            Self::InvalidVideoCodec => "INVALID_VIDEO_CODEC",
            Self::InvalidProtocol => "INVALID_PROTOCOL",
            Self::InvalidStreamKey => "INVALID_STREAM_KEY",
            Self::ReuseOfStreamKey => "REUSE_OF_STREAM_KEY",
            Self::BFramePresent => "B_FRAME_PRESENT",
            Self::InvalidInput => "INVALID_INPUT",
            Self::InternalServerException => "INTERNAL_SERVER_EXCEPTION",
        }
    }

    /// The code for an offer refused because none of its media uses a codec the stage forwards.
    /// Such a refusal means every offered m-section was unusable, so the offer's kinds say which
    /// it was: video when it offers video (the usual culprit: an encoder that only does VP9,
    /// AV1 or H.265), audio when it offers audio only, and an offer of neither was no media
    /// offer at all.
    pub fn codec_mismatch(offer_sdp: &str) -> Self {
        let offers = |kind: &str| {
            offer_sdp.lines().any(|l| l.strip_prefix("m=").is_some_and(|m| m.starts_with(kind)))
        };
        if offers("video") {
            Self::InvalidVideoCodec
        } else if offers("audio") {
            Self::InvalidAudioCodec
        } else {
            Self::InvalidInput
        }
    }
}

impl std::fmt::Display for EventErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The event that records a refused attempt to open a connection of `kind`.
pub fn error_event_name(kind: &ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Events => "JOIN_ERROR",
        ConnectionKind::Publish => "PUBLISH_ERROR",
        ConnectionKind::Subscribe { .. } => "SUBSCRIBE_ERROR",
    }
}

/// Starts our session. A session still marked active in the store was left open by a node
/// that stopped without ending it (a crash): it is over, so end it where it stood and start
/// ours, rather than writing this session's history under the wrong id.
async fn start_session(
    store: &dyn Store,
    stage_id: &str,
    session_id: &str,
    at: OffsetDateTime,
) -> troupe_store::StoreResult<()> {
    for _ in 0..2 {
        let active = store.start_session(stage_id, session_id, at).await?;
        if active.session_id == session_id {
            return Ok(());
        }
        tracing::warn!(stage = stage_id, stale = %active.session_id, "ending a session left open");
        store.end_session(stage_id, &active.session_id, at).await?;
    }
    Err(troupe_store::StoreError::Conflict(format!(
        "stage {stage_id} keeps another active session"
    )))
}

/// Writes a stage's history in order. Failures are logged: history is best effort, presence
/// and media never wait for it.
pub(crate) async fn write_history(
    store: Arc<dyn Store>,
    mut writes: mpsc::UnboundedReceiver<HistoryWrite>,
) {
    while let Some(write) = writes.recv().await {
        let result = match &write {
            HistoryWrite::StartSession { stage_id, session_id, at } => {
                start_session(store.as_ref(), stage_id, session_id, *at).await
            }
            HistoryWrite::EndSession { stage_id, session_id, at } => {
                store.end_session(stage_id, session_id, *at).await.map(drop)
            }
            HistoryWrite::Participant(record) => store.upsert_participant(record).await.map(drop),
            HistoryWrite::Event(event) => store.append_event(event).await.map(drop),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "stage history could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codec_mismatch_names_the_kind_offered() {
        let audio = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n";
        let video = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\na=rtpmap:98 VP9/90000\r\n";
        let both = format!("{audio}{}", video.trim_start_matches("v=0\r\n"));
        assert_eq!(EventErrorCode::codec_mismatch(audio), EventErrorCode::InvalidAudioCodec);
        assert_eq!(EventErrorCode::codec_mismatch(video), EventErrorCode::InvalidVideoCodec);
        assert_eq!(EventErrorCode::codec_mismatch(&both), EventErrorCode::InvalidVideoCodec);
        let data = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        assert_eq!(EventErrorCode::codec_mismatch(data), EventErrorCode::InvalidInput);
        assert_eq!(EventErrorCode::codec_mismatch("\u{0}garbage"), EventErrorCode::InvalidInput);
    }

    #[test]
    fn error_codes_are_the_ivs_names() {
        assert_eq!(EventErrorCode::InsufficientCapabilities.as_str(), "INSUFFICIENT_CAPABILITIES");
        assert_eq!(EventErrorCode::BFramePresent.to_string(), "B_FRAME_PRESENT");
        assert_eq!(error_event_name(&ConnectionKind::Events), "JOIN_ERROR");
        assert_eq!(error_event_name(&ConnectionKind::Publish), "PUBLISH_ERROR");
        let subscribe = ConnectionKind::Subscribe { publisher: "p".into() };
        assert_eq!(error_event_name(&subscribe), "SUBSCRIBE_ERROR");
    }
}

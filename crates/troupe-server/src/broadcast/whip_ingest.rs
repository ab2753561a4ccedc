//! WHIP ingest into a channel: `POST /ingest/whip` with the channel's stream key as the
//! bearer token and an SDP offer with H.264 (any profile) and Opus — a browser, OBS's WHIP
//! output, GStreamer's whipsink. The session is a publisher on the media worker like a stage's
//! (ICE, DTLS, SRTP, NACK there), on a stage of its own that nobody subscribes to; a tap takes
//! its packets to a task that depacketizes them into the channel's packager.
//! `DELETE /ingest/whip/session/{id}` ends it; `PATCH` trickles or restarts ICE (RFC 9725).

#![allow(clippy::result_large_err)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, post},
};
use tokio::sync::mpsc;
use troupe_media::{
    MediaKind,
    router::{EndReason, NewSession, PatchOutcome, Role},
    sdpfrag,
    session::{Answered, Purpose, SessionError, answer_offer_for},
    tap::TappedPacket,
};

use super::{
    Broadcast,
    ingest::Ingest,
    live_channels::IngestProtocol,
    rtp_media::{Media, RtpMedia, opus_track},
    tap_queue::{KeyframeCadence, TapQueue},
};
use crate::media_plane::{self, MediaPlane};
use troupe_hls::LiveConfig;

const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct IngestState {
    broadcast: Arc<Broadcast>,
    media: Arc<MediaPlane>,
    sessions: Arc<Mutex<HashMap<u64, IngestSession>>>,
}

#[derive(Clone)]
struct IngestSession {
    worker: usize,
    channel_id: String,
}

pub fn router(broadcast: Arc<Broadcast>, media: Arc<MediaPlane>) -> Router {
    Router::new()
        .route("/ingest/whip", post(publish))
        .route("/ingest/whip/session/{id}", delete(end).patch(patch))
        .layer(DefaultBodyLimit::max(MAX_SDP_BYTES * 2))
        .with_state(IngestState { broadcast, media, sessions: Default::default() })
}

fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    let mut r = (status, format!("{}\n", message.into())).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn stream_key(headers: &HeaderMap) -> Result<&str, Response> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            refusal(
                StatusCode::UNAUTHORIZED,
                "send the channel's stream key as Authorization: Bearer <streamKey>",
            )
        })
}

fn sdp_body(headers: &HeaderMap, body: &Bytes, media_type: &str) -> Result<String, Response> {
    if body.len() > MAX_SDP_BYTES {
        return Err(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is {} bytes; the limit is {MAX_SDP_BYTES}", body.len()),
        ));
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with(media_type) {
        return Err(refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be Content-Type: {media_type}, not {content_type:?}"),
        ));
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| refusal(StatusCode::BAD_REQUEST, "the body is not UTF-8"))
}

async fn publish(State(state): State<IngestState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = match stream_key(&headers) {
        Ok(key) => key.to_string(),
        Err(r) => return r,
    };
    let offer = match sdp_body(&headers, &body, "application/sdp") {
        Ok(offer) => offer,
        Err(r) => return r,
    };
    // The key first: nothing of the offer is acted on for a wrong one.
    let channel = match state.broadcast.authorize(&key).await {
        Ok(channel) => channel,
        Err(refused) => return refusal(StatusCode::FORBIDDEN, refused),
    };
    let stage = format!("channel:{}", channel.id);
    let (worker_index, worker) = state.media.worker_for(&stage);
    let now = std::time::Instant::now();
    let answered = match answer_offer_for(
        &offer,
        worker.endpoint(),
        &Role::Publish,
        Purpose::ChannelIngest,
        now,
    ) {
        Ok(answered) => answered,
        Err(SessionError::CodecMismatch) => {
            return refusal(
                StatusCode::NOT_ACCEPTABLE,
                "a channel takes H.264 video and Opus audio over WHIP; the offer has neither",
            );
        }
        Err(e) => return refusal(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Answered { rtc, answer, remote_ice, candidates, media: negotiated } = answered;
    let video = negotiated.iter().any(|(_, kind, d)| *kind == MediaKind::Video && d.is_receiving());
    // Video offered in a codec HLS cannot carry (VP8, VP9, AV1): refused rather than dropped,
    // so the broadcaster learns at once instead of finding a stream without a picture.
    if !video && offer.lines().any(|l| l.starts_with("m=video") && !l.starts_with("m=video 0 ")) {
        return refusal(
            StatusCode::NOT_ACCEPTABLE,
            "a channel takes H.264 video over WHIP (it is packaged for HLS as sent, never \
             transcoded); the offer's video has no H.264: offer H.264, or send audio only",
        );
    }
    if !video && !answer_mentions(&answer, "opus") {
        return refusal(StatusCode::NOT_ACCEPTABLE, "the offer sends no media a channel takes");
    }
    let ingest = match state.broadcast.go_live(&channel, IngestProtocol::Whip, video).await {
        Ok(ingest) => ingest,
        Err(refused) => return refusal(StatusCode::CONFLICT, refused),
    };
    let live = ingest.live().clone();
    let (tap, packets) = TapQueue::new();
    let feeding = tokio::spawn(feed(ingest, packets, tap.clone(), state.broadcast.clone()));
    let id = state.media.new_session_id();
    let sessions = state.sessions.clone();
    let on_end = Box::new(move |reason: EndReason| {
        tracing::info!(id, ?reason, "WHIP ingest ended");
        sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    });
    let session = NewSession {
        id,
        stage,
        participant: "ingest".into(),
        role: Role::Publish,
        rtc,
        remote_ice,
        candidates,
        media: negotiated,
        on_end,
        tap: Some(tap),
    };
    if let Err(e) = media_plane::add_session(worker, session).await {
        feeding.abort();
        state.broadcast.ended(&live).await;
        return refusal(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
    }
    state
        .sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, IngestSession { worker: worker_index, channel_id: channel.id.clone() });
    // StopStream: end the media session; the feeding task then ends the stream.
    let worker_for_stop = worker.clone();
    let mut stop = live.stop_requested();
    tokio::spawn(async move {
        if stop.wait_for(|stop| *stop).await.is_ok() {
            worker_for_stop.end_session(id);
        }
    });
    let mut response = (StatusCode::CREATED, answer).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
    if let Ok(v) = HeaderValue::from_str(&format!("/ingest/whip/session/{id}")) {
        h.insert(header::LOCATION, v);
    }
    response
}

fn answer_mentions(answer: &str, codec: &str) -> bool {
    answer.lines().any(|l| l.starts_with("a=rtpmap:") && l.to_ascii_lowercase().contains(codec))
}

/// The session named in the path, if the key is its channel's.
async fn own_session(
    state: &IngestState,
    headers: &HeaderMap,
    id: &str,
) -> Result<(u64, IngestSession), Response> {
    let key = stream_key(headers)?;
    let channel = state
        .broadcast
        .authorize(key)
        .await
        .map_err(|refused| refusal(StatusCode::FORBIDDEN, refused))?;
    let found = id.parse::<u64>().ok().and_then(|n| {
        let sessions = state.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.get(&n).cloned().map(|s| (n, s))
    });
    found.filter(|(_, s)| s.channel_id == channel.id).ok_or_else(|| {
        refusal(StatusCode::NOT_FOUND, format!("no ingest session {id} of this channel"))
    })
}

async fn end(
    State(state): State<IngestState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match own_session(&state, &headers, &id).await {
        Ok((id, session)) => {
            if let Some(worker) = state.media.worker(session.worker) {
                worker.end_session(id);
            }
            StatusCode::OK.into_response()
        }
        Err(r) => r,
    }
}

async fn patch(
    State(state): State<IngestState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, session) = match own_session(&state, &headers, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let text = match sdp_body(&headers, &body, "application/trickle-ice-sdpfrag") {
        Ok(text) => text,
        Err(r) => return r,
    };
    let fragment = match sdpfrag::parse(&text) {
        Ok(fragment) => fragment,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(String::from);
    let Some(worker) = state.media.worker(session.worker) else {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "the media worker is gone");
    };
    match media_plane::patch_session(worker, id, fragment, if_match).await {
        Some(Ok(PatchOutcome::Trickled)) => StatusCode::NO_CONTENT.into_response(),
        Some(Ok(PatchOutcome::Restarted { answer, etag })) => {
            crate::whip::ice_restarted(answer, &etag)
        }
        Some(Err(e)) => refusal(StatusCode::PRECONDITION_FAILED, e.to_string()),
        None => refusal(StatusCode::SERVICE_UNAVAILABLE, "the media worker is gone"),
    }
}

/// Depacketizes the session's packets into the channel's packager until the session ends.
async fn feed(
    mut ingest: Ingest,
    mut packets: mpsc::Receiver<TappedPacket>,
    tap: Arc<TapQueue>,
    broadcast: Arc<Broadcast>,
) {
    // Only the session (in the worker) may own the tap: its end drops the queue's sender,
    // which ends this loop.
    let weak = Arc::downgrade(&tap);
    drop(tap);
    let mut media = RtpMedia::default();
    let mut out = Vec::new();
    // HLS segments start at keyframes: one every segment target (IVS asks the same of encoders).
    let mut cadence = KeyframeCadence::new(LiveConfig::default().target_segment);
    ingest.set_audio(opus_track());
    while let Some(packet) = packets.recv().await {
        let mut wants_keyframe = media.push(&packet, &mut out);
        for m in out.drain(..) {
            match m {
                Media::VideoTrack(track) => ingest.set_video(track),
                Media::Video(sample) => {
                    wants_keyframe |= cadence.sample(sample.keyframe, packet.received);
                    ingest.video(sample);
                }
                Media::Audio(sample) => ingest.audio(sample),
            }
        }
        if wants_keyframe && let Some(tap) = weak.upgrade() {
            tap.want_keyframe();
        }
    }
    ingest.finish();
    broadcast.ended(ingest.live()).await;
}

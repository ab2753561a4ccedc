//! WHIP (RFC 9725) on the IVS paths: `POST /whip` publishes, `POST /whip/subscribe/{id}`
//! subscribes to one publisher, `PATCH /whip/session/{id}` trickles candidates or restarts
//! ICE, `DELETE /whip/session/{id}` ends a session. The bearer token is the participant token.
//! Media sessions join their stage's hub as connections, so presence, history, replacement and
//! DisconnectParticipant/DeleteStage apply to them as to sockets.

// Helpers return the refusal `Response` itself as their error: built once per refused request,
// never on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, post},
};
use time::OffsetDateTime;
use troupe_control::{ControlPlane, participant_auth::VerifiedParticipant};
use troupe_events::{
    history::EventErrorCode,
    hub::{Outbound, StageHubs},
    presence::{ConnectionKind, Input, PublishedStreams},
    socket::{participant_info, refusal, rejection},
    user_agent::{client_details, whip_client_details},
};
use troupe_media::MediaKind;
use troupe_media::{
    router::{AddError, EndReason, NewSession, PatchError, PatchOutcome, Role, entity_tag},
    sdpfrag,
    session::{Answered, Purpose, SessionError, answer_offer_for},
};

use crate::{
    broadcast::participant_recording::{ParticipantRecordings, RecordingSettings},
    media_plane::{self, MediaPlane, SessionEntry},
    turn::IceServers,
};

/// SDP bodies larger than this are refused (DESIGN §2 limits).
const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct WhipState {
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
    media: Arc<MediaPlane>,
    ice_servers: Arc<IceServers>,
    recordings: Arc<ParticipantRecordings>,
}

pub fn router(
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
    media: Arc<MediaPlane>,
    ice_servers: Arc<IceServers>,
    recordings: Arc<ParticipantRecordings>,
) -> Router {
    Router::new()
        .route("/whip", post(publish))
        .route("/whip/subscribe/{participant_id}", post(subscribe))
        .route("/whip/session/{id}", delete(end).patch(patch))
        // Our own limit gives the IVS-shaped 413; this one only stops runaway bodies.
        .layer(DefaultBodyLimit::max(MAX_SDP_BYTES * 16))
        .with_state(WhipState { plane, hubs, media, ice_servers, recordings })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim)
}

async fn authenticate(
    state: &WhipState,
    headers: &HeaderMap,
) -> Result<VerifiedParticipant, Response> {
    let Some(token) = bearer(headers) else {
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            "TOKEN_MALFORMED",
            "send the participant token as Authorization: Bearer <token>",
        ));
    };
    state
        .plane
        .verify_participant_token(token, OffsetDateTime::now_utc())
        .await
        .map_err(|r| rejection(&r))
}

fn check_offer(headers: &HeaderMap, body: &Bytes) -> Result<String, Response> {
    check_sdp_body(headers, body, "application/sdp", "an SDP offer", StatusCode::BAD_REQUEST)
}

/// The body of a WHIP request as text: within the size limit, of the right type, UTF-8.
fn check_sdp_body(
    headers: &HeaderMap,
    body: &Bytes,
    media_type: &str,
    what: &str,
    wrong_type: StatusCode,
) -> Result<String, Response> {
    if body.len() > MAX_SDP_BYTES {
        return Err(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_INPUT",
            format!("the body is {} bytes; the limit is {MAX_SDP_BYTES}", body.len()),
        ));
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with(media_type) {
        return Err(refusal(
            wrong_type,
            "INVALID_INPUT",
            format!("the body must be {what} (Content-Type: {media_type}), not {content_type:?}"),
        ));
    }
    String::from_utf8(body.to_vec()).map_err(|_| {
        refusal(StatusCode::BAD_REQUEST, "INVALID_INPUT", format!("{what} is not UTF-8"))
    })
}

/// What publishing and subscribing both check first: the token, the capability the request
/// needs, and the offer.
async fn admit(
    state: &WhipState,
    headers: &HeaderMap,
    body: &Bytes,
    attempt: &ConnectionKind,
) -> Result<(VerifiedParticipant, String), Response> {
    let verified = authenticate(state, headers).await?;
    let allowed = if *attempt == ConnectionKind::Publish {
        verified.require_publish()
    } else {
        verified.require_subscribe()
    };
    if let Err(r) = allowed {
        let code = EventErrorCode::InsufficientCapabilities;
        record_refusal(state, headers, &verified, attempt, code);
        return Err(rejection(&r));
    }
    let offer = check_offer(headers, body).inspect_err(|_| {
        record_refusal(state, headers, &verified, attempt, EventErrorCode::InvalidInput)
    })?;
    Ok((verified, offer))
}

/// Records the refusal of a participant whose token was valid in its history (PUBLISH_ERROR or
/// SUBSCRIBE_ERROR with `code`). The stage's hub writes it in the background: the refusal is
/// answered at once.
fn record_refusal(
    state: &WhipState,
    headers: &HeaderMap,
    verified: &VerifiedParticipant,
    attempt: &ConnectionKind,
    code: EventErrorCode,
) {
    state.hubs.record_error(verified, whip_client_details(headers), attempt.clone(), code);
}

async fn publish(State(state): State<WhipState>, headers: HeaderMap, body: Bytes) -> Response {
    let (verified, offer) = match admit(&state, &headers, &body, &ConnectionKind::Publish).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    start_session(&state, &headers, &verified, &offer, Role::Publish).await
}

async fn subscribe(
    State(state): State<WhipState>,
    Path(publisher): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = ConnectionKind::Subscribe { publisher: publisher.clone() };
    let (verified, offer) = match admit(&state, &headers, &body, &kind).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    // Checked again, atomically, when the worker adds the session; asked first so that a
    // subscription to nobody costs no DTLS certificate.
    let (_, worker) = state.media.worker_for(&verified.stage.id);
    if !media_plane::is_publishing(worker, &verified.stage.id, &publisher).await {
        return add_refusal(
            &state,
            &headers,
            &verified,
            &kind,
            AddError::PublisherNotFound(publisher),
        );
    }
    // The subscriber limit; the hub records a refusal itself (SUBSCRIBE_ERROR, QUOTA_EXCEEDED).
    let client = whip_client_details(&headers);
    if let Err(r) = state.hubs.admit(&verified, client, kind).await {
        return refusal(StatusCode::FORBIDDEN, r.code(), r.to_string());
    }
    start_session(&state, &headers, &verified, &offer, Role::Subscribe { publisher }).await
}

/// Answers the offer, hands the session to the stage's worker (which admits it or not) and
/// joins it to the stage's hub.
async fn start_session(
    state: &WhipState,
    headers: &HeaderMap,
    verified: &VerifiedParticipant,
    offer: &str,
    role: Role,
) -> Response {
    let stage_id = verified.stage.id.clone();
    let participant = verified.participant_id().to_string();
    let (worker_index, worker) = state.media.worker_for(&stage_id);
    let kind = match &role {
        Role::Publish => ConnectionKind::Publish,
        Role::Subscribe { publisher } => ConnectionKind::Subscribe { publisher: publisher.clone() },
    };
    // A stage that records its publishers needs their video in H.264 (HLS recordings).
    let records_video = matches!(role, Role::Publish)
        && RecordingSettings::of(&verified.stage).is_some_and(|s| s.keep.video);
    let purpose = if records_video { Purpose::RecordedStage } else { Purpose::Stage };
    let now = std::time::Instant::now();
    let answered = match answer_offer_for(offer, worker.endpoint(), &role, purpose, now) {
        Ok(answered) => answered,
        Err(e @ SessionError::CodecMismatch) => {
            let code = EventErrorCode::codec_mismatch(offer);
            record_refusal(state, headers, verified, &kind, code);
            return refusal(StatusCode::NOT_ACCEPTABLE, "CODEC_MISMATCH", e.to_string());
        }
        Err(e) => {
            record_refusal(state, headers, verified, &kind, EventErrorCode::InvalidInput);
            return refusal(StatusCode::BAD_REQUEST, "INVALID_INPUT", e.to_string());
        }
    };
    let Answered { mut rtc, answer, remote_ice, candidates, media: negotiated } = answered;
    // What a publish sends, for the stage state: the m-lines on which the server receives.
    let sends = |wanted: MediaKind| {
        negotiated.iter().any(|(_, kind, direction)| *kind == wanted && direction.is_receiving())
    };
    let streams =
        PublishedStreams { audio: sends(MediaKind::Audio), video: sends(MediaKind::Video) };
    let id = state.media.new_session_id();
    let etag = entity_tag(&rtc.direct_api().local_ice_credentials().ufrag);
    state.media.register(SessionEntry {
        worker: worker_index,
        id,
        stage_id: stage_id.clone(),
        participant_id: participant.clone(),
    });
    // The worker reports the end of the session, whatever ends it (client gone, DELETE,
    // replaced, maximum duration); the session's task below tells the hub.
    let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<EndReason>();
    let media = state.media.clone();
    let on_end = Box::new(move |reason: EndReason| {
        media.forget(id);
        let _ = ended_tx.send(reason);
    });
    let session = NewSession {
        id,
        stage: stage_id.clone(),
        participant: participant.clone(),
        role,
        rtc,
        remote_ice,
        candidates,
        media: negotiated,
        on_end,
        // A stage that records gets each publisher's packets (autoParticipantRecordingConfiguration).
        tap: match kind {
            ConnectionKind::Publish => state.recordings.tap_for(&verified.stage, &participant),
            _ => None,
        },
    };
    // The worker admits first (stage capacity, publisher present, codecs), so that a refused
    // publish never shows up in the stage state.
    if let Err(e) = media_plane::add_session(worker, session).await {
        state.media.forget(id);
        return add_refusal(state, headers, verified, &kind, e);
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut client = client_details(user_agent);
    client.details.protocol = Some("WHIP".into());
    let hub = state.hubs.hub(&stage_id);
    let publishes = kind == ConnectionKind::Publish;
    let Some((connection, mut outbound)) =
        hub.connect(participant.clone(), participant_info(verified), kind, client).await
    else {
        worker.end_session(id);
        return refusal(StatusCode::NOT_FOUND, "STAGE_DELETED", "the stage is gone");
    };
    if publishes {
        hub.input(Input::Streams { participant: participant.clone(), connection, streams }).await;
    }
    // The session's life on the hub: when the hub closes the connection (replaced,
    // disconnected, stage deleted), the media ends; when the media ends, the hub learns of it.
    let worker_for_close = worker.clone();
    tokio::spawn(async move {
        let mut ended = ended_rx;
        let mut closing = false;
        loop {
            tokio::select! {
                reason = &mut ended => {
                    tracing::debug!(id, ?reason, "media session ended");
                    hub.input(Input::Closed { connection }).await;
                    return;
                }
                message = outbound.recv(), if !closing => {
                    if matches!(message, Some(Outbound::Close { .. }) | None) {
                        worker_for_close.end_session(id);
                        closing = true;
                    }
                }
            }
        }
    });
    let location = format!("/whip/session/{id}");
    let mut response = (StatusCode::CREATED, answer).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // RFC 9725 §4.6: the relays this client may use, with a credential of its own.
    let now = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    for link in state.ice_servers.links(&participant, now, verified.claims.exp) {
        if let Ok(v) = HeaderValue::from_str(&link) {
            h.append(header::LINK, v);
        }
    }
    response
}

/// The WHIP answer to a session the worker did not admit, recorded in the participant's
/// history.
fn add_refusal(
    state: &WhipState,
    headers: &HeaderMap,
    verified: &VerifiedParticipant,
    attempt: &ConnectionKind,
    error: AddError,
) -> Response {
    let code = match &error {
        AddError::StageAtCapacity { .. } => EventErrorCode::QuotaExceeded,
        AddError::PublisherNotFound(_) => EventErrorCode::PublisherNotFound,
        AddError::CodecMismatch { kind: "audio", .. } => EventErrorCode::InvalidAudioCodec,
        AddError::CodecMismatch { .. } => EventErrorCode::InvalidVideoCodec,
        AddError::DuplicateId(_) | AddError::WorkerStopped => {
            EventErrorCode::InternalServerException
        }
    };
    record_refusal(state, headers, verified, attempt, code);
    let message = error.to_string();
    match error {
        AddError::StageAtCapacity { .. } => {
            refusal(StatusCode::FORBIDDEN, "STAGE_AT_CAPACITY", message)
        }
        AddError::PublisherNotFound(_) => {
            refusal(StatusCode::NOT_FOUND, "PUBLISHER_NOT_FOUND", message)
        }
        AddError::CodecMismatch { .. } => {
            refusal(StatusCode::NOT_ACCEPTABLE, "CODEC_MISMATCH", message)
        }
        AddError::DuplicateId(_) | AddError::WorkerStopped => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "FAILED", message)
        }
    }
}

/// The session named in the path, if it is the caller's.
async fn own_session(
    state: &WhipState,
    headers: &HeaderMap,
    id: &str,
) -> Result<SessionEntry, Response> {
    let verified = authenticate(state, headers).await?;
    let entry = id.parse::<u64>().ok().and_then(|id| state.media.session(id));
    let mine = |e: &SessionEntry| {
        e.participant_id == verified.participant_id() && e.stage_id == verified.stage.id
    };
    entry.filter(mine).ok_or_else(|| {
        refusal(StatusCode::NOT_FOUND, "INVALID_INPUT", format!("no session {id} of yours"))
    })
}

async fn end(
    State(state): State<WhipState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let entry = match own_session(&state, &headers, &id).await {
        Ok(entry) => entry,
        Err(r) => return r,
    };
    if let Some(worker) = state.media.worker(entry.worker) {
        worker.end_session(entry.id);
    }
    StatusCode::OK.into_response()
}

/// RFC 9725 §4.3: a trickle-ICE fragment (RFC 8840) with the client's candidates (`204`), or
/// with new ICE credentials — an ICE restart, answered `200` with the server's new
/// credentials and candidate. `If-Match`, when given, must name the current ICE session.
async fn patch(
    State(state): State<WhipState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let entry = match own_session(&state, &headers, &id).await {
        Ok(entry) => entry,
        Err(r) => return r,
    };
    let text = match check_sdp_body(
        &headers,
        &body,
        "application/trickle-ice-sdpfrag",
        "a trickle-ICE SDP fragment",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    ) {
        Ok(text) => text,
        Err(r) => return r,
    };
    let fragment = match sdpfrag::parse(&text) {
        Ok(fragment) => fragment,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, "INVALID_INPUT", e.to_string()),
    };
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(String::from);
    let Some(worker) = state.media.worker(entry.worker) else {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "FAILED", "the media worker is gone");
    };
    match media_plane::patch_session(worker, entry.id, fragment, if_match).await {
        Some(Ok(PatchOutcome::Trickled)) => StatusCode::NO_CONTENT.into_response(),
        Some(Ok(PatchOutcome::Restarted { answer, etag })) => ice_restarted(answer, &etag),
        Some(Err(e @ PatchError::NotFound(_))) => {
            refusal(StatusCode::NOT_FOUND, "INVALID_INPUT", e.to_string())
        }
        Some(Err(e @ PatchError::PreconditionFailed { .. })) => {
            refusal(StatusCode::PRECONDITION_FAILED, "INVALID_INPUT", e.to_string())
        }
        None => refusal(StatusCode::SERVICE_UNAVAILABLE, "FAILED", "the media worker is gone"),
    }
}

/// RFC 9725 §4.3's answer to an ICE restart: `200` with the server's new ICE fragment and the
/// new ICE session's entity tag (also WHIP ingest's).
pub fn ice_restarted(answer: String, etag: &str) -> Response {
    let mut response = (StatusCode::OK, answer).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/trickle-ice-sdpfrag"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    response
}

//! WHIP (RFC 9725) on the IVS paths: `POST /whip` publishes, `POST /whip/subscribe/{id}`
//! subscribes to one publisher, `DELETE /whip/session/{id}` ends a session. The bearer token
//! is the participant token. Media sessions join their stage's hub as connections, so presence,
//! history, replacement and DisconnectParticipant/DeleteStage apply to them as to sockets.

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
    presence::{ConnectionKind, Input},
    socket::{participant_info, refusal, rejection},
    user_agent::{client_details, whip_client_details},
};
use troupe_media::{
    session::{SessionError, answer_offer},
    worker::{Role, WorkerHandle},
};

use crate::media_plane::{MediaPlane, SessionEntry};

/// SDP bodies larger than this are refused (DESIGN §2 limits).
const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct WhipState {
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
    media: Arc<MediaPlane>,
    max_publishers: usize,
}

pub fn router(
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
    media: Arc<MediaPlane>,
    max_publishers: usize,
) -> Router {
    Router::new()
        .route("/whip", post(publish))
        .route("/whip/subscribe/{participant_id}", post(subscribe))
        .route("/whip/session/{id}", delete(end).patch(patch))
        // Our own limit gives the IVS-shaped 413; this one only stops runaway bodies.
        .layer(DefaultBodyLimit::max(MAX_SDP_BYTES * 16))
        .with_state(WhipState { plane, hubs, media, max_publishers })
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
    if body.len() > MAX_SDP_BYTES {
        return Err(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_INPUT",
            format!("the SDP offer is {} bytes; the limit is {MAX_SDP_BYTES}", body.len()),
        ));
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/sdp") {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            format!(
                "the body must be an SDP offer (Content-Type: application/sdp), not {content_type:?}"
            ),
        ));
    }
    String::from_utf8(body.to_vec()).map_err(|_| {
        refusal(StatusCode::BAD_REQUEST, "INVALID_INPUT", "the SDP offer is not UTF-8")
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

/// The key a publisher's sessions go by on its worker.
fn publisher_key(stage_id: &str, participant_id: &str) -> String {
    format!("{stage_id}/{participant_id}")
}

async fn publish(State(state): State<WhipState>, headers: HeaderMap, body: Bytes) -> Response {
    let (verified, offer) = match admit(&state, &headers, &body, &ConnectionKind::Publish).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let stage_id = verified.stage.id.clone();
    let key = publisher_key(&stage_id, verified.participant_id());
    let (_, worker) = state.media.worker_for(&stage_id);
    let id = state.media.new_session_id();
    if !worker.claim_publisher(&key, &format!("{stage_id}/"), id, state.max_publishers) {
        let quota = EventErrorCode::QuotaExceeded;
        record_refusal(&state, &headers, &verified, &ConnectionKind::Publish, quota);
        return refusal(
            StatusCode::FORBIDDEN,
            "STAGE_AT_CAPACITY",
            format!("the stage already has {} publishers", state.max_publishers),
        );
    }
    let role = Role::Publish { key: key.clone() };
    let response =
        start_session(&state, &headers, &verified, &offer, role, ConnectionKind::Publish, id).await;
    if response.status() != StatusCode::CREATED {
        worker.release_publisher(&key, id);
    }
    response
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
    let key = publisher_key(&verified.stage.id, &publisher);
    let (_, worker) = state.media.worker_for(&verified.stage.id);
    if !worker.is_publishing(&key) {
        record_refusal(&state, &headers, &verified, &kind, EventErrorCode::PublisherNotFound);
        return refusal(
            StatusCode::NOT_FOUND,
            "PUBLISHER_NOT_FOUND",
            format!("participant {publisher} is not publishing on this stage"),
        );
    }
    // The subscriber limit; the hub records a refusal itself (SUBSCRIBE_ERROR, QUOTA_EXCEEDED).
    let client = whip_client_details(&headers);
    if let Err(r) = state.hubs.admit(&verified, client, kind.clone()).await {
        return refusal(StatusCode::FORBIDDEN, r.code(), r.to_string());
    }
    let role = Role::Subscribe { publisher: key };
    let id = state.media.new_session_id();
    start_session(&state, &headers, &verified, &offer, role, kind, id).await
}

/// Answers the offer, hands the session to the stage's worker and joins it to the stage's hub.
async fn start_session(
    state: &WhipState,
    headers: &HeaderMap,
    verified: &VerifiedParticipant,
    offer: &str,
    role: Role,
    kind: ConnectionKind,
    id: u64,
) -> Response {
    let stage_id = verified.stage.id.clone();
    let participant = verified.participant_id().to_string();
    let (worker_index, worker) = state.media.worker_for(&stage_id);
    let (rtc, answer) =
        match answer_offer(offer, state.media.candidate(worker), std::time::Instant::now()) {
            Ok(pair) => pair,
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
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut client = client_details(user_agent);
    client.details.protocol = Some("WHIP".into());
    let hub = state.hubs.hub(&stage_id);
    let Some((connection, mut outbound)) =
        hub.connect(participant.clone(), participant_info(verified), kind, client).await
    else {
        return refusal(StatusCode::NOT_FOUND, "STAGE_DELETED", "the stage is gone");
    };
    state.media.register(SessionEntry {
        worker: worker_index,
        id,
        stage_id: stage_id.clone(),
        participant_id: participant.clone(),
    });
    // When the worker ends the session (client gone, DELETE, failure), the hub learns of it.
    let runtime = tokio::runtime::Handle::current();
    let (media, hub_for_end) = (state.media.clone(), hub.clone());
    let on_end = Box::new(move || {
        media.forget(id);
        runtime.spawn(async move { hub_for_end.input(Input::Closed { connection }).await });
    });
    if !worker.add_session(id, rtc, role, on_end) {
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "FAILED",
            "the media worker is not running",
        );
    }
    // When the hub closes the connection (replaced, disconnected, stage deleted), the media ends.
    let worker_for_close: WorkerHandle = worker.clone();
    tokio::spawn(async move {
        while let Some(message) = outbound.recv().await {
            if let Outbound::Close { .. } = message {
                worker_for_close.end_session(id);
                break;
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
    response
}

async fn end(
    State(state): State<WhipState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let verified = match authenticate(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let entry = id.parse::<u64>().ok().and_then(|id| state.media.session(id));
    let mine = |e: &SessionEntry| {
        e.participant_id == verified.participant_id() && e.stage_id == verified.stage.id
    };
    let Some(entry) = entry.filter(mine) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "INVALID_INPUT",
            format!("no session {id} of yours"),
        );
    };
    if let Some(worker) = state.media.worker(entry.worker) {
        worker.end_session(entry.id);
    }
    StatusCode::OK.into_response()
}

/// Trickle ICE and ICE restarts are not supported yet: the answer carries every candidate the
/// server has (ICE-lite), so clients need not trickle. RFC 9725 lets a server refuse with 405.
async fn patch() -> Response {
    let mut response = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        "INVALID_INPUT",
        "trickle ICE and ICE restart are not supported: the answer has all candidates",
    );
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
    response
}

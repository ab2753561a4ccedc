//! `GET /events/{stageId}`: the stage events WebSocket. The participant token comes as the
//! WebSocket subprotocol and is echoed back (browsers refuse the handshake otherwise). Refusals
//! before the upgrade are HTTP errors with `{"code", "message"}`; after it, close codes.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{
        Path, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use time::OffsetDateTime;
use troupe_control::{
    ControlPlane,
    participant_auth::{TokenRejection, VerifiedParticipant},
};

use crate::{
    hub::{ClientDetails, HubHandle, Outbound, StageHubs},
    messages::{
        ClientMessage, DisconnectReason, MAX_MESSAGE_BYTES, ProtocolError, ServerMessage,
        parse_client_message,
    },
    presence::{ConnectionKind, Input, ParticipantInfo},
    user_agent::client_details,
};

#[derive(Clone)]
struct SocketState {
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
}

/// The events route, to merge into the server's router.
pub fn events_router(plane: ControlPlane, hubs: Arc<StageHubs>) -> Router {
    Router::new().route("/events/{stage_id}", get(upgrade)).with_state(SocketState { plane, hubs })
}

/// An HTTP refusal on the events and WHIP endpoints: `{"code": ..., "message": ...}`.
pub fn refusal(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "code": code, "message": message.into() });
    (status, Json(body)).into_response()
}

fn rejection(r: &TokenRejection) -> Response {
    let status = StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    refusal(status, r.code(), r.to_string())
}

/// The token a client offers as the WebSocket subprotocol.
fn offered_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    value.split(',').map(str::trim).find(|p| !p.is_empty()).map(str::to_string)
}

fn participant_info(verified: &VerifiedParticipant) -> ParticipantInfo {
    let claims = &verified.claims;
    ParticipantInfo {
        user_id: claims.user_id.clone(),
        attributes: claims.attributes.clone(),
        can_publish: claims.capabilities.allow_publish,
        can_subscribe: claims.capabilities.allow_subscribe,
    }
}

async fn upgrade(
    State(state): State<SocketState>,
    Path(stage_id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(token) = offered_token(&headers) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "TOKEN_MALFORMED",
            "the participant token must be sent as the WebSocket subprotocol",
        );
    };
    let verified =
        match state.plane.verify_participant_token(&token, OffsetDateTime::now_utc()).await {
            Ok(v) => v,
            Err(r) => return rejection(&r),
        };
    if verified.claims.topic != stage_id {
        return refusal(
            StatusCode::FORBIDDEN,
            "TOKEN_NOT_ALLOWED",
            format!("the token is for stage {}, not {stage_id}", verified.claims.topic),
        );
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let client = client_details(user_agent);
    let hub = state.hubs.hub(&stage_id);
    let plane = state.plane.clone();
    // Frames a little over the message limit still arrive, so that an oversized message gets
    // our close code rather than the library's generic error.
    ws.protocols([token])
        .max_message_size(MAX_MESSAGE_BYTES * 4)
        .on_upgrade(move |socket| serve(socket, plane, hub, verified, client))
}

/// Why the socket loop ended.
enum End {
    /// The client closed, or the connection dropped.
    Gone,
    /// We close with this code and reason.
    Close(u16, String),
}

async fn serve(
    mut socket: WebSocket,
    plane: ControlPlane,
    hub: HubHandle,
    mut verified: VerifiedParticipant,
    client: ClientDetails,
) {
    let participant = verified.participant_id().to_string();
    let info = participant_info(&verified);
    let Some((connection, mut outbound)) =
        hub.connect(participant.clone(), info, ConnectionKind::Events, client).await
    else {
        let _ = socket.send(close_message(4500, "STAGE_UNAVAILABLE")).await;
        return;
    };
    let end = loop {
        let expires_in = Duration::from_secs(
            u64::try_from(verified.claims.exp - OffsetDateTime::now_utc().unix_timestamp())
                .unwrap_or(0),
        );
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    match handle_text(&text, &plane, &hub, &mut verified, &mut socket).await {
                        Ok(()) => {}
                        Err(end) => break end,
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let e = ProtocolError::UnsupportedData;
                    break End::Close(e.close_code(), e.code_name().to_string());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break End::Gone,
                Some(Err(e)) => {
                    tracing::debug!(participant, error = %e, "events socket error");
                    break End::Close(4413, "MESSAGE_TOO_LARGE".into());
                }
            },
            message = outbound.recv() => match message {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text.as_ref().into())).await.is_err() {
                        break End::Gone;
                    }
                }
                Some(Outbound::Close { code, reason }) => break End::Close(code, reason.to_string()),
                None => break End::Gone,
            },
            () = tokio::time::sleep(expires_in) => {
                let reason = DisconnectReason::TokenExpired;
                let _ = socket
                    .send(Message::Text(ServerMessage::disconnected(reason).to_json().into()))
                    .await;
                break End::Close(reason.close_code(), reason.as_str().to_string());
            }
        }
    };
    if let End::Close(code, reason) = end {
        let _ = socket.send(close_message(code, &reason)).await;
    }
    hub.input(Input::Closed { connection });
    tracing::debug!(participant, connection = connection.0, "events socket closed");
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

/// One client message. `Err` ends the socket with a close code.
async fn handle_text(
    text: &str,
    plane: &ControlPlane,
    hub: &HubHandle,
    verified: &mut VerifiedParticipant,
    socket: &mut WebSocket,
) -> Result<(), End> {
    let message = parse_client_message(text, MAX_MESSAGE_BYTES)
        .map_err(|e| End::Close(e.close_code(), e.code_name().to_string()))?;
    let participant = verified.participant_id().to_string();
    match message {
        None => Ok(()), // A type this server does not know: ignored, for newer clients.
        Some(ClientMessage::Ping) => {
            let pong = ServerMessage::Pong.to_json();
            socket.send(Message::Text(pong.into())).await.map_err(|_| End::Gone)
        }
        Some(ClientMessage::Mute { audio_muted, video_stopped }) => {
            hub.input(Input::Mute { participant, audio_muted, video_stopped });
            Ok(())
        }
        Some(ClientMessage::ExchangeToken { token }) => {
            let fresh = plane
                .verify_participant_token(&token, OffsetDateTime::now_utc())
                .await
                .map_err(|r| End::Close(4401, r.code().to_string()))?;
            let (old, new) = (&verified.claims, &fresh.claims);
            let same = old.topic == new.topic
                && old.resource == new.resource
                && old.jti == new.jti
                && old.whip_url == new.whip_url
                && old.events_url == new.events_url;
            if !same {
                return Err(End::Close(4403, "TOKEN_NOT_ALLOWED".into()));
            }
            *verified = fresh;
            hub.exchanged(participant, participant_info(verified));
            Ok(())
        }
    }
}

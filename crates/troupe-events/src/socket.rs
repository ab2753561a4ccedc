//! `GET /events/{stageId}`: the stage events WebSocket. The participant token comes as the
//! WebSocket subprotocol and is echoed back (browsers refuse the handshake otherwise). Refusals
//! before the upgrade are HTTP errors with `{"code", "message"}`; after it, close codes.
//!
//! A browser cannot read the HTTP status of a refused WebSocket handshake (it only sees close
//! code 1006), so the same path also answers a plain `GET` with the token as
//! `Authorization: Bearer`: it runs the same checks and answers the same refusal, or
//! `426 UPGRADE_REQUIRED` when the token would be accepted. The Web SDK asks this way after a
//! failed handshake, to tell an expired token or a deleted stage from a network failure.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{
        Path, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use time::OffsetDateTime;
use troupe_control::{
    ControlNotice, ControlPlane,
    participant_auth::{LEEWAY_SECS, TokenRejection, VerifiedParticipant},
};

use crate::{
    hub::{ClientDetails, HubHandle, Outbound, StageHubs},
    messages::{
        Capability, ClientMessage, DisconnectReason, MAX_MESSAGE_BYTES, ProtocolError,
        ServerMessage, parse_client_message,
    },
    presence::{ConnectionId, ConnectionKind, Input, ParticipantInfo},
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

/// The HTTP refusal for a token the verifier rejected.
pub fn rejection(r: &TokenRejection) -> Response {
    let status = StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    refusal(status, r.code(), r.to_string())
}

/// The token a client offers as the WebSocket subprotocol.
fn offered_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    value.split(',').map(str::trim).find(|p| !p.is_empty()).map(str::to_string)
}

/// The token of a plain `GET` that checks a token without connecting.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_string()).filter(|t| !t.is_empty())
}

/// What the stage shows of a participant, from its verified token.
pub fn participant_info(verified: &VerifiedParticipant) -> ParticipantInfo {
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
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let offered = match &ws {
        Ok(_) => offered_token(&headers),
        Err(_) => bearer_token(&headers),
    };
    let Some(token) = offered else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "TOKEN_MALFORMED",
            "the participant token must be sent as the WebSocket subprotocol \
             (or, to check it without connecting, as Authorization: Bearer)",
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
    // The subscriber limit, before the upgrade, so that a full stage is an HTTP 403 the client
    // can read (and a JOIN_ERROR in the participant's history).
    if let Err(r) = state.hubs.admit(&verified, client.clone(), ConnectionKind::Events).await {
        return refusal(StatusCode::FORBIDDEN, r.code(), r.to_string());
    }
    let Ok(ws) = ws else {
        return refusal(
            StatusCode::UPGRADE_REQUIRED,
            "UPGRADE_REQUIRED",
            "the token is accepted here: open a WebSocket to this URL with it as the subprotocol",
        );
    };
    let hub = state.hubs.hub(&stage_id);
    let plane = state.plane.clone();
    // Frames a little over the message limit still arrive, so that an oversized message gets
    // our close code rather than the library's generic error.
    let hubs = state.hubs.clone();
    ws.protocols([token])
        .max_message_size(MAX_MESSAGE_BYTES * 4)
        .max_frame_size(MAX_MESSAGE_BYTES * 4)
        .on_upgrade(move |socket| serve(socket, plane, hubs, hub, verified, client))
}

/// Why the socket loop ended.
enum End {
    /// The connection dropped, or the client closed it without saying it is leaving.
    Gone,
    /// The client closed normally (1000): the participant is leaving, not reconnecting.
    Left,
    /// We close with this code and reason.
    Close(u16, String),
}

/// The close code of a client that is done (RFC 6455 §7.4.1); the Web SDK's `leave()` sends it.
const NORMAL_CLOSURE: u16 = 1000;

/// How often the server pings a quiet socket, and how long it waits for any frame before it
/// takes the connection for dead (a laptop that slept, a network that vanished without a FIN).
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// How long one send may take before the client is taken for stuck: a client that stops
/// reading must not pin a growing queue of stage states.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait for the client's answer to our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// When the token stops being accepted (the verifier tolerates the same clock skew).
fn expiry(verified: &VerifiedParticipant) -> tokio::time::Instant {
    let left = verified.claims.exp + LEEWAY_SECS - OffsetDateTime::now_utc().unix_timestamp();
    tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
}

async fn send(socket: &mut WebSocket, message: Message) -> Result<(), End> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(End::Gone),
    }
}

async fn serve(
    mut socket: WebSocket,
    plane: ControlPlane,
    hubs: Arc<StageHubs>,
    hub: HubHandle,
    mut verified: VerifiedParticipant,
    client: ClientDetails,
) {
    let participant = verified.participant_id().to_string();
    let info = participant_info(&verified);
    let Some((connection, mut outbound)) =
        hub.connect(participant.clone(), info, ConnectionKind::Events, client).await
    else {
        // The hub is gone: the stage was deleted while this socket was being upgraded. Say
        // so as DeleteStage would have; anything else is a server-side failure.
        let now = OffsetDateTime::now_utc();
        let (code, reason) = match plane.verify_participant_token(&verified.token, now).await {
            Err(TokenRejection::StageDeleted(_)) => {
                let reason = DisconnectReason::StageDeleted;
                let text = ServerMessage::disconnected(reason).to_json();
                let _ = send(&mut socket, Message::Text(text.into())).await;
                (reason.close_code(), reason.as_str())
            }
            _ => (4500, "STAGE_UNAVAILABLE"),
        };
        let _ = send(&mut socket, close_message(code, reason)).await;
        return;
    };
    // DisconnectParticipant or DeleteStage may have landed between the check before the
    // upgrade and the hub learning of this connection: check again, and let the notice path
    // close it the way it closes everyone else.
    match plane.verify_participant_token(&verified.token, OffsetDateTime::now_utc()).await {
        Err(TokenRejection::Disconnected(_)) => {
            hubs.notice(ControlNotice::ParticipantDisconnected {
                stage_id: verified.stage.id.clone(),
                participant_id: participant.clone(),
                reason: None,
            })
        }
        Err(TokenRejection::StageDeleted(_)) => {
            hubs.notice(ControlNotice::StageDeleted { stage_id: verified.stage.id.clone() })
        }
        _ => {}
    }
    let mut expires = Box::pin(tokio::time::sleep_until(expiry(&verified)));
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();
    let end = loop {
        tokio::select! {
            incoming = socket.recv() => {
                last_heard = tokio::time::Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let before = verified.claims.exp;
                        if let Err(end) = handle_text(
                            &text, &plane, &hub, connection, &mut verified, &mut socket,
                        )
                        .await
                        {
                            break end;
                        }
                        if verified.claims.exp != before {
                            expires.as_mut().reset(expiry(&verified));
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let e = ProtocolError::UnsupportedData;
                        break End::Close(e.close_code(), e.code_name().to_string());
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(Some(frame)))) if frame.code == NORMAL_CLOSURE => {
                        break End::Left;
                    }
                    Some(Ok(Message::Close(_))) | None => break End::Gone,
                    Some(Err(e)) => {
                        tracing::debug!(participant, error = %e, "events socket error");
                        break End::Close(4413, "MESSAGE_TOO_LARGE".into());
                    }
                }
            }
            message = outbound.recv() => match message {
                Some(Outbound::Text(text)) => {
                    if let Err(end) = send(&mut socket, Message::Text(text)).await {
                        break end;
                    }
                }
                Some(Outbound::Close { code, reason }) => break End::Close(code, reason.to_string()),
                None => break End::Gone,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    break End::Gone;
                }
                if let Err(end) = send(&mut socket, Message::Ping(Vec::new().into())).await {
                    break end;
                }
            }
            () = &mut expires => {
                let reason = DisconnectReason::TokenExpired;
                let text = ServerMessage::disconnected(reason).to_json();
                let _ = send(&mut socket, Message::Text(text.into())).await;
                break End::Close(reason.close_code(), reason.as_str().to_string());
            }
        }
    };
    let closed = if matches!(end, End::Left) {
        Input::Left { connection }
    } else {
        Input::Closed { connection }
    };
    hub.input(closed).await;
    if let End::Close(code, reason) = end {
        // Close properly: our frame, then the client's answer, so browsers see a clean close.
        if send(&mut socket, close_message(code, &reason)).await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                while let Some(Ok(_)) = socket.recv().await {}
            })
            .await;
        }
    }
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
    connection: ConnectionId,
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
            hub.input(Input::Mute { participant, audio_muted, video_stopped }).await;
            Ok(())
        }
        Some(ClientMessage::ExchangeToken { token }) if token == verified.token => {
            // Nothing changes, but the client waits for its answer all the same.
            let caps = &verified.claims.capabilities;
            let capabilities = Capability::from_flags(caps.allow_publish, caps.allow_subscribe);
            let ack = ServerMessage::token_exchanged(capabilities).to_json();
            socket.send(Message::Text(ack.into())).await.map_err(|_| End::Gone)
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
            // The hub answers TOKEN_EXCHANGED once the new token is in effect.
            hub.exchanged(participant, connection, participant_info(verified)).await;
            Ok(())
        }
    }
}

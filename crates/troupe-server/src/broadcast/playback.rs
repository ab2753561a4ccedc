//! Low-latency HLS playback of live channels, at `channel.playbackUrl` =
//! `/playback/<channelId>/index.m3u8`:
//!
//! - `index.m3u8`: the multivariant playlist (one variant: the stream as it was pushed);
//! - `media.m3u8`: the media playlist, with blocking reload (`_HLS_msn`, `_HLS_part`: the
//!   request waits until that part exists);
//! - `<file>`: the init segment, segments and parts, whose names carry the stream's start
//!   (so a restarted stream never reuses a name and they can be cached for good); a request
//!   for the part the playlist hints at waits until it is complete;
//! - `status.json`: live or offline, viewers — for the watch page.
//!
//! Everything is served from memory: a response is a clone of bytes rendered once, so many
//! viewers cost little, and the cache headers let a CDN in front take the load: segments and
//! parts never change (immutable), playlists are fresh for a second, blocking responses for
//! longer (their URL names the part they waited for, and a later playlist is as good).

// Refusals are built once per refused request, never on a hot path: their size does not matter.
#![allow(clippy::result_large_err)]

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Instant,
};

use axum::{
    Extension, Router,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use troupe_hls::PlaylistError;

use super::{Broadcast, live_channels::LiveChannel};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const FRESH_FOR_A_SECOND: &str = "public, max-age=1";
const BLOCKING_PLAYLIST: &str = "public, max-age=6";
const NOT_THERE: &str = "public, max-age=1";

pub fn router(broadcast: Arc<Broadcast>) -> Router {
    Router::new()
        .route("/playback/{channel}/index.m3u8", get(multivariant))
        .route("/playback/{channel}/status.json", get(status))
        .route("/playback/{channel}/media.m3u8", get(media_playlist))
        .route("/playback/{channel}/{file}", get(media_file))
        .with_state(broadcast)
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: impl IntoResponse,
) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Players on any origin may play a channel (the playback URL is public, as on IVS).
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

fn not_live(channel: &str) -> Response {
    respond(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        NOT_THERE,
        format!("channel {channel} is not live\n"),
    )
}

/// The channel's current stream, once it has media.
fn current(broadcast: &Broadcast, channel: &str) -> Option<Arc<LiveChannel>> {
    let live = broadcast.channels.get(channel)?;
    live.stream.get()?;
    Some(live)
}

async fn multivariant(
    State(broadcast): State<Arc<Broadcast>>,
    Path(channel): Path<String>,
) -> Response {
    let Some(live) = current(&broadcast, &channel) else { return not_live(&channel) };
    let Some(stream) = live.stream.get() else { return not_live(&channel) };
    match stream.multivariant() {
        Some(text) => {
            respond(StatusCode::OK, "application/vnd.apple.mpegurl", FRESH_FOR_A_SECOND, text)
        }
        None => not_live(&channel),
    }
}

#[derive(Deserialize)]
struct Blocking {
    #[serde(rename = "_HLS_msn")]
    msn: Option<String>,
    #[serde(rename = "_HLS_part")]
    part: Option<String>,
}

async fn media_playlist(
    State(broadcast): State<Arc<Broadcast>>,
    Path(channel): Path<String>,
    Query(blocking): Query<Blocking>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let Some(live) = current(&broadcast, &channel) else { return not_live(&channel) };
    let Some(stream) = live.stream.get() else { return not_live(&channel) };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Behind a proxy or CDN every request comes from it: its X-Forwarded-For names the viewer.
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    let address = forwarded
        .or(peer.map(|Extension(ConnectInfo(a))| a.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    live.viewers.saw(address, user_agent, Instant::now());
    let number = |text: &Option<String>, name: &str| -> Result<Option<u64>, Response> {
        match text {
            None => Ok(None),
            Some(t) => t.parse::<u64>().map(Some).map_err(|_| {
                respond(
                    StatusCode::BAD_REQUEST,
                    "text/plain; charset=utf-8",
                    NOT_THERE,
                    format!("{name} must be a whole number, not {t:?}\n"),
                )
            }),
        }
    };
    let msn = match number(&blocking.msn, "_HLS_msn") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let part = match number(&blocking.part, "_HLS_part") {
        Ok(n) => n.map(|p| p.min(u64::from(u32::MAX)) as u32),
        Err(r) => return r,
    };
    if part.is_some() && msn.is_none() {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            NOT_THERE,
            "_HLS_part needs _HLS_msn\n",
        );
    }
    match stream.media_playlist(msn, part).await {
        Ok(text) => {
            let cache = if msn.is_some() { BLOCKING_PLAYLIST } else { FRESH_FOR_A_SECOND };
            respond(StatusCode::OK, "application/vnd.apple.mpegurl", cache, text)
        }
        Err(e) => {
            let status = match e {
                PlaylistError::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            respond(status, "text/plain; charset=utf-8", NOT_THERE, format!("{e}\n"))
        }
    }
}

async fn media_file(
    State(broadcast): State<Arc<Broadcast>>,
    Path((channel, file)): Path<(String, String)>,
) -> Response {
    let Some(live) = current(&broadcast, &channel) else { return not_live(&channel) };
    let Some(stream) = live.stream.get() else { return not_live(&channel) };
    match stream.file(&file).await {
        Some(f) => {
            let cache = if f.immutable { IMMUTABLE } else { FRESH_FOR_A_SECOND };
            respond(StatusCode::OK, f.content_type, cache, f.bytes)
        }
        None => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            NOT_THERE,
            format!("no {file} in this stream (it may have left the playlist's window)\n"),
        ),
    }
}

/// For the watch page: `{state, viewerCount, name, startTime}`.
async fn status(State(broadcast): State<Arc<Broadcast>>, Path(channel): Path<String>) -> Response {
    let body = match broadcast.channels.get(&channel) {
        Some(live) => serde_json::json!({
            "channelId": channel,
            "name": live.channel_name,
            "state": if live.stream.get().is_some() { "LIVE" } else { "OFFLINE" },
            "viewerCount": live.viewers.count(Instant::now()),
            "startTime": live.started.format(&time::format_description::well_known::Rfc3339).ok(),
        }),
        None => match broadcast.channel_name(&channel).await {
            Some(name) => serde_json::json!({
                "channelId": channel, "name": name, "state": "OFFLINE", "viewerCount": 0,
            }),
            None => {
                return respond(
                    StatusCode::NOT_FOUND,
                    "application/json",
                    NOT_THERE,
                    serde_json::json!({"message": format!("no channel {channel}")}).to_string(),
                );
            }
        },
    };
    respond(StatusCode::OK, "application/json", FRESH_FOR_A_SECOND, body.to_string())
}

//! `GET /sdk/troupe.js` and `/sdk/troupe.mjs`: the Web SDK, embedded in the binary at build time
//! (see build.rs), so that whichever Troupe issued a token also serves the SDK that uses it.
//! Apps load it from their own origin too: the module needs CORS, the script tag does not mind.

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

const SCRIPT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/dist/troupe.js"));
const MODULE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/dist/troupe.mjs"));

pub fn router() -> Router {
    Router::new()
        .route("/sdk/troupe.js", get(|headers: HeaderMap| async move { asset(&headers, SCRIPT) }))
        .route("/sdk/troupe.mjs", get(|headers: HeaderMap| async move { asset(&headers, MODULE) }))
}

/// The asset with a content ETag: browsers revalidate (`no-cache`) and get a 304 until the
/// binary changes, so an upgraded server never leaves a stale SDK in a cache.
fn asset(headers: &HeaderMap, body: &'static str) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", hex::encode(&digest[..12]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

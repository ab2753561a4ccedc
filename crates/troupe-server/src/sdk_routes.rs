//! `GET /sdk/troupe.js` and `/sdk/troupe.mjs`: the Web SDK, embedded in the binary at build time
//! (see build.rs), so that whichever Troupe issued a token also serves the SDK that uses it.
//! Apps load it from their own origin too: the module needs CORS, the script tag does not mind.

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, header},
    response::Response,
    routing::get,
};

use crate::static_asset::Asset;

const SCRIPT: Asset = Asset::of(
    "troupe.js",
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/dist/troupe.js")),
);
const MODULE: Asset = Asset::of(
    "troupe.mjs",
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/dist/troupe.mjs")),
);

pub fn router() -> Router {
    Router::new()
        .route("/sdk/troupe.js", get(|headers: HeaderMap| async move { cors(&SCRIPT, &headers) }))
        .route("/sdk/troupe.mjs", get(|headers: HeaderMap| async move { cors(&MODULE, &headers) }))
}

fn cors(asset: &Asset, headers: &HeaderMap) -> Response {
    let mut response = asset.respond(headers);
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

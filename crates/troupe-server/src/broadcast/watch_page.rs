//! `GET /watch/<channelId>`: a page anyone can open to watch a channel (no login, like a
//! channel's playback URL), with hls.js bundled in the binary — viewers never fetch a player
//! from a CDN. The page's files are in `watch/` at the repository root; hls.js is copied into
//! `sdk/dist/` by the SDK build (see build.rs).

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::static_asset::Asset;

macro_rules! watch_file {
    ($name:literal) => {
        Asset::of($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../watch/", $name)))
    };
}

const PAGE: Asset = watch_file!("index.html");
const SCRIPT: Asset = watch_file!("watch.js");
const STYLE: Asset = watch_file!("watch.css");
const HLS_JS: Asset = Asset::of(
    "hls.min.js",
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/dist/hls.min.js")),
);

pub fn router() -> Router {
    Router::new().route("/watch/{channel}", get(page)).route("/watch/assets/{file}", get(asset))
}

/// The same page for every channel: its script reads the channel id from the address (and
/// says so when there is no such channel).
async fn page(Path(_channel): Path<String>, headers: HeaderMap) -> Response {
    PAGE.respond(&headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match file.as_str() {
        "watch.js" => SCRIPT.respond(&headers),
        "watch.css" => STYLE.respond(&headers),
        "hls.min.js" => HLS_JS.respond(&headers),
        _ => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

//! The demo app (`web/`): the multi-host video chat at `/` and `/stage/{name}`, its files under
//! `/demo/`, and its backend under `/demo/api/`. Served when the demo is enabled (`--demo`, on
//! with `--dev`). The pages use only the public Web SDK and the demo backend, so the demo is
//! also the reference for apps built on Troupe.

mod api;
mod assets;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Path},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use troupe_control::ControlPlane;
use troupe_events::socket::refusal;

use self::{api::DemoApi, assets::find};

pub fn router(plane: ControlPlane) -> Router {
    let api = Router::new()
        .route("/demo/api/stage", post(api::stage))
        .route("/demo/api/token", post(api::token))
        .route("/demo/api/stages", get(api::stages))
        // The handlers give the JSON 413 below this; this one only stops runaway bodies.
        .layer(DefaultBodyLimit::max(api::MAX_BODY_BYTES * 16))
        .with_state(DemoApi::new(plane));
    Router::new()
        .route("/", get(|headers: HeaderMap| async move { page("index.html", &headers) }))
        .route(
            "/stage/{name}",
            get(|headers: HeaderMap| async move { page("stage.html", &headers) }),
        )
        .route("/demo/{*file}", get(file))
        .merge(api)
}

fn page(name: &str, headers: &HeaderMap) -> Response {
    match find(name) {
        Some(asset) => asset.respond(headers),
        None => not_found(name),
    }
}

async fn file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    // Pages are served at their own paths, not as files.
    match find(&file).filter(|_| !file.ends_with(".html")) {
        Some(asset) => asset.respond(&headers),
        None => not_found(&file),
    }
}

fn not_found(file: &str) -> Response {
    refusal(StatusCode::NOT_FOUND, "NOT_FOUND", format!("the demo has no file {file}"))
        .into_response()
}

//! The node's own HTTP routes: health, readiness, Prometheus metrics and the landing page.

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use prometheus_client::{encoding::text::encode, registry::Registry};
use troupe_control::ControlPlane;

use crate::store_metrics::StoreGauges;

#[derive(Clone)]
struct OpsState {
    plane: ControlPlane,
    registry: Arc<Registry>,
    gauges: StoreGauges,
    public_url: String,
    /// Whether the dev credentials are in use (only then does the page show them).
    dev: bool,
}

pub fn router(
    plane: ControlPlane,
    registry: Arc<Registry>,
    gauges: StoreGauges,
    public_url: String,
    demo: bool,
    dev: bool,
) -> Router {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    let router = if demo { router.route("/", get(landing)) } else { router };
    router.with_state(OpsState { plane, registry, gauges, public_url, dev })
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the store answers too.
async fn readyz(State(state): State<OpsState>) -> Response {
    match state.plane.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<OpsState>) -> Response {
    state.gauges.refresh(state.plane.store().as_ref()).await;
    let mut text = String::new();
    if encode(&mut text, &state.registry).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed\n").into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
        .into_response()
}

/// The page at `/`: what runs here and how to start using it. The demo app replaces it when
/// the Web SDK lands.
async fn landing(State(state): State<OpsState>) -> Html<String> {
    let url = &state.public_url;
    let region = &state.plane.config().scope.region;
    let (key, secret, dev_flag) = if state.dev {
        ("devkey", "devsecret", " --dev")
    } else {
        ("&lt;your access key id&gt;", "&lt;your secret&gt;", "")
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Troupe</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}}
code,pre{{background:#f3f3f3;border-radius:4px}}pre{{padding:.8rem;overflow:auto}}</style></head>
<body><h1>Troupe is running</h1>
<p>This node speaks the Amazon IVS Real-Time API at <code>{url}</code>.</p>
<p>The multi-host video demo arrives with the media plane and the Web SDK. Meanwhile, create a
stage and a participant token with the AWS CLI or any AWS SDK:</p>
<pre>AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} \
aws ivs-realtime create-stage --name show \
  --participant-token-configurations userId=alice \
  --region {region} --endpoint-url {url}</pre>
<p>or from the command line: <code>troupe token{dev_flag} --stage show --create --user alice</code></p>
<p>Operations: <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a> ·
<a href="/metrics">/metrics</a></p></body></html>"#
    ))
}

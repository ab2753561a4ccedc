//! The node's own HTTP routes: health, readiness and Prometheus metrics.

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
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
}

pub fn router(plane: ControlPlane, registry: Arc<Registry>, gauges: StoreGauges) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(OpsState { plane, registry, gauges })
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

//! `troupe serve`: one node, HTTP on one port, until SIGINT or SIGTERM.

use std::{sync::Arc, time::Duration};

use axum::Router;
use prometheus_client::registry::Registry;
use tokio::{net::TcpListener, signal::unix::SignalKind};
use troupe_control::{ControlNotice, http::api_router, http::unknown_route, metrics::ApiMetrics};
use troupe_events::{hub::StageHubs, presence::PresenceConfig, socket::events_router};
use troupe_media::router::RouterConfig;

use crate::{
    cli::ServeArgs, config::default_public_url, demo, http_routes, logging,
    media_metrics::MediaMetrics, media_plane::MediaPlane, node, node::Failure,
    store_metrics::StoreGauges, whip,
};

/// How often expired token records and revocations are dropped.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(args: ServeArgs) -> Result<(), Failure> {
    let mut settings = node::load_settings(&args.config)?;
    logging::init(&settings);
    // Signals first, so that SIGTERM during a slow store connection still exits cleanly.
    let mut signals = Signals::install().map_err(Failure::other)?;
    // Bind before opening the store: with port 0 the derived public URL must name the port
    // actually bound.
    let listener =
        TcpListener::bind(settings.bind).await.map_err(|e| bind_failure(&settings, e))?;
    let local = listener.local_addr().map_err(|e| Failure::other(e.to_string()))?;
    if !settings.public_url_given {
        settings.public_url = default_public_url(local, settings.node_ip);
    }
    let node = tokio::select! {
        node = node::open(settings) => node?,
        signal = signals.next() => {
            tracing::info!(signal, "stopped while starting");
            return Ok(());
        }
    };
    let settings = &node.settings;
    let plane = node.plane.clone();

    let presence = PresenceConfig {
        grace: settings.media_limits.presence_grace,
        max_subscribers: settings.media_limits.max_subscribers as usize,
        ..PresenceConfig::default()
    };
    let hubs = StageHubs::new(plane.store().clone(), presence);
    let router_config = RouterConfig {
        max_publishers: settings.media_limits.max_publishers as usize,
        max_session_duration: settings.media_limits.max_session,
        ..RouterConfig::default()
    };
    let media = Arc::new(
        MediaPlane::start(settings.node_ip, settings.udp_ports, router_config)
            .map_err(Failure::other)?,
    );

    let mut registry = Registry::default();
    let api_metrics = ApiMetrics::default();
    api_metrics.register(&mut registry);
    let gauges = StoreGauges::default();
    gauges.register(&mut registry);
    registry.register_collector(Box::new(MediaMetrics::new(media.clone())));
    let registry = Arc::new(registry);

    let demo = if settings.demo { demo::router(plane.clone()) } else { Router::new() };
    let app: Router = http_routes::router(plane.clone(), registry, gauges)
        .merge(demo)
        .merge(events_router(plane.clone(), hubs.clone()).layer(cors(&settings.cors_origins)))
        .merge(
            whip::router(plane.clone(), hubs.clone(), media.clone())
                .layer(cors(&settings.cors_origins)),
        )
        .merge(crate::sdk_routes::router())
        .merge(api_router(plane.clone(), api_metrics))
        .fallback(unknown_route);

    let purge = tokio::spawn(purge_expired(plane.clone()));
    let notices = tokio::spawn(forward_notices(plane.notices(), hubs.clone()));

    tracing::info!(
        bind = %local,
        store = plane.store().backend(),
        data_dir = %std::path::absolute(&settings.data_dir)
            .unwrap_or_else(|_| settings.data_dir.clone())
            .display(),
        node_key = plane.node_key().kid(),
        dev = settings.dev,
        udp_ports = %format!("{}-{}", settings.udp_ports.0, settings.udp_ports.1),
        node_ip = %settings.node_ip,
        cors_origins = %settings.cors_origins.join(","),
        max_publishers = settings.media_limits.max_publishers,
        max_subscribers = settings.media_limits.max_subscribers,
        "troupe started"
    );
    let open_url = if settings.demo {
        format!("{}/", settings.public_url)
    } else {
        format!("{}/healthz", settings.public_url)
    };
    let what = if settings.demo { "to try the demo" } else { "to check it is up" };
    println!("troupe listening on http://{local} — open {open_url} {what}");

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let server = tokio::spawn(async move { server.await });

    let signal = signals.next().await;
    tracing::info!(signal, "shutting down: telling participants, draining requests");
    // Participants first: each is told (DISCONNECTED SERVER_SHUTDOWN) and recorded as left, and
    // each stage's session is ended in the store, before the store closes.
    if tokio::time::timeout(DRAIN_TIMEOUT, hubs.shutdown()).await.is_err() {
        tracing::warn!(
            "stage history still being written after the drain timeout; stopping anyway"
        );
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(DRAIN_TIMEOUT, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "server stopped with an error"),
        Ok(Err(e)) => tracing::warn!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("requests still running after the drain timeout; stopping anyway"),
    }
    purge.abort();
    notices.abort();
    plane.store().close().await;
    tracing::info!("troupe stopped");
    Ok(())
}

/// SIGINT and SIGTERM, listened to from the start of `serve`.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals, String> {
        let term = tokio::signal::unix::signal(SignalKind::terminate())
            .map_err(|e| format!("cannot install the SIGTERM handler: {e}"))?;
        let int = tokio::signal::unix::signal(SignalKind::interrupt())
            .map_err(|e| format!("cannot install the SIGINT handler: {e}"))?;
        Ok(Signals { term, int })
    }

    /// Waits for either and names it.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// An address that cannot be used on this machine is a configuration error (exit 2, naming
/// `bind`); a port already taken is a failure of the moment (exit 1).
fn bind_failure(settings: &crate::config::Settings, e: std::io::Error) -> Failure {
    use std::io::ErrorKind::{AddrNotAvailable, PermissionDenied};
    let message = format!("cannot listen on {}: {e}", settings.bind);
    match e.kind() {
        AddrNotAvailable | PermissionDenied => {
            Failure::Config(crate::config::ConfigError { key: "bind".into(), message })
        }
        _ => Failure::other(message),
    }
}

/// CORS for the WHIP and events endpoints: apps call them from their own origin, read
/// `Location`, and the Web SDK checks a refused events handshake with a `GET`.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("if-match"),
        ])
        .expose_headers([header::LOCATION, header::ETAG])
}

/// Hands DisconnectParticipant and DeleteStage to the stages' hubs.
async fn forward_notices(
    mut notices: tokio::sync::broadcast::Receiver<ControlNotice>,
    hubs: Arc<StageHubs>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match notices.recv().await {
            Ok(notice) => hubs.notice(notice),
            Err(RecvError::Lagged(missed)) => {
                // Revocations still hold (tokens are checked against the store); only the
                // immediate disconnect of already-open sockets was missed.
                tracing::warn!(
                    missed,
                    "control notices were dropped: some sockets may stay open until they reconnect"
                );
            }
            Err(RecvError::Closed) => break,
        }
    }
}

async fn purge_expired(plane: troupe_control::ControlPlane) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    loop {
        tick.tick().await;
        match plane.store().purge_expired(time::OffsetDateTime::now_utc()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "expired tokens and revocations dropped"),
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed"),
        }
    }
}

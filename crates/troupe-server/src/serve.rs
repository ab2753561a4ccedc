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
    store_metrics::StoreGauges, tls::NodeTls, whip,
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
        settings.public_url =
            default_public_url(local, settings.node_ip, settings.network.tls.is_on());
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
    let tls = load_tls(settings)?;

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
    let ice_tcp_port = settings.network.ice_tcp_port;
    let media = Arc::new(
        MediaPlane::start(settings.node_ip, settings.udp_ports, ice_tcp_port, router_config)
            .map_err(Failure::other)?,
    );
    if let Some(port) = ice_tcp_port {
        let bind = std::net::SocketAddr::new(media.bind_ip(), port);
        crate::ice_tcp::start(bind, media.clone()).await.map_err(Failure::other)?;
    }
    let turn = crate::turn::start(settings, media.bind_ip(), tls.as_ref())?;
    let storage = crate::broadcast::storage::open(settings);
    let broadcast = crate::broadcast::Broadcast::new(plane.clone(), tls.is_some(), storage.clone());
    plane.set_live_streams(broadcast.clone());
    plane.set_bucket_check(Arc::new(crate::broadcast::storage::Buckets(storage.clone())));
    let rtmp = match settings.broadcast.rtmp_port {
        Some(port) => {
            let bind = std::net::SocketAddr::new(settings.bind.ip(), port);
            let local = crate::broadcast::rtmp_ingest::start(bind, tls.clone(), broadcast.clone())
                .await
                .map_err(|e| rtmp_bind_failure(bind, e))?;
            Some(local)
        }
        None => None,
    };

    let mut registry = Registry::default();
    let api_metrics = ApiMetrics::default();
    api_metrics.register(&mut registry);
    let gauges = StoreGauges::default();
    gauges.register(&mut registry);
    registry.register_collector(Box::new(MediaMetrics::new(media.clone())));
    registry.register_collector(Box::new(crate::broadcast::metrics::BroadcastMetrics::new(
        broadcast.clone(),
    )));
    if let Some(handle) = &turn.handle {
        registry.register_collector(Box::new(crate::turn_metrics::TurnMetrics::new(
            handle.stats().clone(),
        )));
    }
    let registry = Arc::new(registry);

    let demo = if settings.demo { demo::router(plane.clone()) } else { Router::new() };
    let app: Router = http_routes::router(plane.clone(), registry, gauges)
        .merge(demo)
        .merge(events_router(plane.clone(), hubs.clone()).layer(cors(&settings.cors_origins)))
        .merge(
            whip::router(
                plane.clone(),
                hubs.clone(),
                media.clone(),
                turn.ice_servers.clone(),
                broadcast.participant_recordings.clone(),
            )
            .layer(cors(&settings.cors_origins)),
        )
        .merge(crate::sdk_routes::router())
        .merge(crate::broadcast::playback::router(broadcast.clone()))
        .merge(crate::broadcast::watch_page::router())
        .merge(
            crate::broadcast::whip_ingest::router(broadcast.clone(), media.clone())
                .layer(cors(&settings.cors_origins)),
        )
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
    let scheme = if tls.is_some() { "https" } else { "http" };
    say(&format!("troupe listening on {scheme}://{local} — open {open_url} {what}"));
    if let Some(tls) = &tls {
        print_certificate(&tls.summary(), &settings.public_url);
    }
    if let Some(rtmp) = rtmp {
        let host = public_host(&settings.public_url).unwrap_or_default();
        let scheme = if tls.is_some() { "rtmps" } else { "rtmp" };
        say(&format!(
            "channels: push to {scheme}://{host}:{}/{}/<streamKey> (or WHIP to {}/ingest/whip); \
             `troupe channel create` makes one",
            rtmp.port(),
            crate::broadcast::RTMP_APP,
            settings.public_url
        ));
    }

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = async move {
        let _ = stop_rx.await;
    };
    let server = match tls.clone() {
        Some(tls) => tokio::spawn(async move {
            crate::https::serve(listener, app, tls, stopped).await;
            Ok(())
        }),
        None => tokio::spawn(async move {
            // The peer address reaches handlers that count viewers.
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).with_graceful_shutdown(stopped).await
        }),
    };

    let signal = loop {
        match signals.next().await {
            "SIGHUP" => reload_tls(tls.as_deref()),
            other => break other,
        }
    };
    tracing::info!(signal, "shutting down: telling participants, draining requests");
    // Live channels end their playlists (players stop at the end instead of waiting).
    broadcast.channels.stop_all();
    // Participants first: each is told (DISCONNECTED SERVER_SHUTDOWN) and recorded as left, and
    // each stage's session is ended in the store, before the store closes.
    if tokio::time::timeout(DRAIN_TIMEOUT, hubs.shutdown()).await.is_err() {
        tracing::warn!(
            "stage history still being written after the drain timeout; stopping anyway"
        );
    }
    // Recordings (channels', and the participants' the hubs just let go) write their last
    // segments and markers; what is queued for storage gets the drain time to land.
    broadcast.drain(DRAIN_TIMEOUT).await;
    let _ = stop_tx.send(());
    match tokio::time::timeout(DRAIN_TIMEOUT, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "server stopped with an error"),
        Ok(Err(e)) => tracing::warn!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("requests still running after the drain timeout; stopping anyway"),
    }
    purge.abort();
    notices.abort();
    drop(turn);
    plane.store().close().await;
    tracing::info!("troupe stopped");
    Ok(())
}

fn rtmp_bind_failure(bind: std::net::SocketAddr, e: std::io::Error) -> Failure {
    Failure::Config(crate::config::ConfigError {
        key: "rtmp_port".into(),
        message: format!(
            "cannot listen on {bind}: {e} — choose another port, or 0 to turn RTMP ingest off"
        ),
    })
}

/// SIGINT and SIGTERM (stop), SIGHUP (reload the certificate), listened to from the start
/// of `serve`.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals, String> {
        let install = |kind, name| {
            tokio::signal::unix::signal(kind)
                .map_err(|e| format!("cannot install the {name} handler: {e}"))
        };
        Ok(Signals {
            term: install(SignalKind::terminate(), "SIGTERM")?,
            int: install(SignalKind::interrupt(), "SIGINT")?,
            hup: install(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    /// Waits for any and names it.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

/// The node's certificate, when TLS is on. The self-signed one covers every name the node is
/// reached at; a configured one that does not name the public URL's host is loaded anyway
/// (the operator may know better), with a warning.
fn load_tls(settings: &crate::config::Settings) -> Result<Option<Arc<NodeTls>>, Failure> {
    let host = public_host(&settings.public_url);
    let names = crate::tls::self_signed::node_names(settings.node_ip, host.as_deref());
    let tls = NodeTls::load(&settings.network.tls, &settings.data_dir, &names)
        .map_err(|e| Failure::Config(e.0))?;
    if let (Some(tls), Some(host)) = (&tls, &host) {
        let summary = tls.summary();
        if !crate::tls::covers(&summary.names, host) {
            tracing::warn!(
                host,
                names = ?summary.names,
                "the TLS certificate does not name the public URL's host: browsers will refuse \
                 it; set --public-url to a name it covers"
            );
        }
    }
    Ok(tls.map(Arc::new))
}

/// The host of a base URL (`https://host:port/prefix` → `host`).
pub fn public_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_string())
}

fn print_certificate(summary: &crate::tls::CertificateSummary, public_url: &str) {
    let kind = if summary.self_signed { "self-signed certificate" } else { "certificate" };
    say(&format!("TLS: {kind} {} for {}", summary.cert_path.display(), summary.names.join(", ")));
    say(&format!("TLS: SHA-256 fingerprint {}", summary.fingerprint));
    if summary.self_signed {
        say(&format!(
            "TLS: browsers warn once about a self-signed certificate: check that the fingerprint \
             they show is this one, then proceed to {public_url}/ (Chromium can be told to trust \
             it: --ignore-certificate-errors-spki-list={})",
            summary.spki_sha256
        ));
    }
}

/// A line for the person who started the server. Standard output may be gone (piped into
/// `head -1`, a closed terminal): that must not stop the server, as `println!` would.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// SIGHUP: the certificate files again; on error the one in use stays.
fn reload_tls(tls: Option<&NodeTls>) {
    let Some(tls) = tls else {
        tracing::info!("SIGHUP: TLS is off, nothing to reload");
        return;
    };
    match tls.reload() {
        Ok(summary) => tracing::info!(
            fingerprint = summary.fingerprint,
            path = %summary.cert_path.display(),
            "SIGHUP: certificate reloaded; new connections get it"
        ),
        Err(e) => {
            tracing::error!(error = %e, "SIGHUP: cannot reload the certificate; keeping the one in use")
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
        .expose_headers([header::LOCATION, header::ETAG, header::LINK])
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

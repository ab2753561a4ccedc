//! HTTPS on the HTTP port: the same router as plain HTTP, behind rustls. Each connection gets
//! the certificate current when it arrives (so SIGHUP reloads reach new connections only), a
//! handshake time limit, and HTTP/1.1 with upgrades (the events WebSocket). A client that
//! speaks plain HTTP to the port — someone typing `http://` — is redirected to `https://`
//! instead of getting TLS garbage back.

use std::{sync::Arc, time::Duration};

use axum::Router;
use hyper::{Request, Response, StatusCode, body::Incoming, header};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::{TcpListener, TcpStream};

use crate::tls::NodeTls;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first byte of a TLS record carrying a handshake (RFC 8446 §5.1).
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves `app` over TLS on `listener` until `shutdown` completes, then waits for the open
/// connections' requests to finish (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Arc<NodeTls>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, typically: wait rather than spin.
                    tracing::warn!(error = %e, "accepting an HTTPS connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let config = tls.server_config();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, peer, app, config, watcher).await {
                tracing::debug!(%peer, error = %e, "HTTPS connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

async fn connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: Router,
    config: Arc<rustls::ServerConfig>,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await??;
    if peeked == 0 {
        return Ok(());
    }
    let builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    if first[0] != TLS_HANDSHAKE {
        let service = hyper::service::service_fn(|request| async move { redirect(request) });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        return watcher.watch(conn).await;
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await??;
    // The peer address for handlers that want it (viewer counts), as plain HTTP's
    // `into_make_service_with_connect_info` gives it.
    let app = tower::ServiceBuilder::new()
        .map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            request
        })
        .service(app);
    let service = TowerToHyperService::new(app);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    watcher.watch(conn.into_owned()).await
}

/// `308` to the same path on `https://`, for a plain HTTP request to the TLS port.
fn redirect(request: Request<Incoming>) -> Result<Response<String>, std::convert::Infallible> {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let response = match host {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ', '\\']) => {
            let location = format!("https://{host}{path}");
            Response::builder()
                .status(StatusCode::PERMANENT_REDIRECT)
                .header(header::LOCATION, &location)
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(format!("This server speaks HTTPS: {location}\n"))
        }
        _ => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body("This server speaks HTTPS only.\n".to_string()),
    };
    Ok(response.unwrap_or_default())
}

//! The ICE-TCP acceptor (RFC 6544): one TCP port for the node's passive candidates. A client
//! that cannot use UDP connects here and sends its first connectivity check; that check's
//! USERNAME starts with the ufrag of one of our sessions, whose prefix names the worker
//! (`troupe_media::endpoint`), and the connection is handed to that worker, which owns it from
//! then on. The acceptor touches only a connection's first frame: media never passes here.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::AsyncReadExt,
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};
use troupe_media::{endpoint::worker_of_ufrag, stun};

use crate::media_plane::MediaPlane;

/// How long a new connection may take to send its first check.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections waiting for their first check at once (beyond, new ones wait to be accepted).
const MAX_PENDING: usize = 256;
/// A first check is a STUN binding request: small.
const MAX_FIRST_FRAME: usize = 1500;

/// Binds the ICE-TCP port (an error names it) and accepts until the runtime stops.
pub async fn start(bind: SocketAddr, media: Arc<MediaPlane>) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(bind).await.map_err(|e| {
        format!(
            "cannot listen for ICE over TCP on {bind}: {e} (choose another port with \
                 --ice-tcp-port, or 0 to run without ICE over TCP)"
        )
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(accept(listener, media));
    Ok(local)
}

async fn accept(listener: TcpListener, media: Arc<MediaPlane>) {
    let pending = Arc::new(Semaphore::new(MAX_PENDING));
    loop {
        let Ok(permit) = pending.clone().acquire_owned().await else { return };
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting an ICE-TCP connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let media = media.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(FIRST_FRAME_TIMEOUT, route(stream, remote, &media)).await {
                Ok(Ok(worker)) => tracing::debug!(%remote, worker, "ICE-TCP connection routed"),
                Ok(Err(why)) => tracing::debug!(%remote, why, "ICE-TCP connection refused"),
                Err(_) => tracing::debug!(%remote, "ICE-TCP connection sent no check in time"),
            }
            drop(permit);
        });
    }
}

/// Reads the first frame and hands the connection to the worker it names.
async fn route(
    mut stream: TcpStream,
    remote: SocketAddr,
    media: &MediaPlane,
) -> Result<usize, &'static str> {
    let mut length = [0u8; 2];
    stream.read_exact(&mut length).await.map_err(|_| "closed before a check")?;
    let len = usize::from(u16::from_be_bytes(length));
    if len > MAX_FIRST_FRAME {
        return Err("first frame too long for a check");
    }
    let mut frame = vec![0u8; 2 + len];
    frame[..2].copy_from_slice(&length);
    stream.read_exact(&mut frame[2..]).await.map_err(|_| "closed inside the first frame")?;
    let ufrag = stun::local_ufrag(&frame[2..]).ok_or("the first frame is not an ICE check")?;
    let index = worker_of_ufrag(ufrag).ok_or("the check names no worker")?;
    let worker = media.worker(index).ok_or("the check names no worker of this node")?;
    let stream = stream.into_std().map_err(|_| "cannot hand the socket over")?;
    worker.adopt_tcp(stream, remote, frame);
    Ok(index)
}

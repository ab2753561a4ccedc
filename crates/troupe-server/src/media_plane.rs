//! The node's media workers: one per UDP port of the configured range, each a thread with its
//! socket (and the ICE-TCP connections of its sessions). Stages are pinned to a worker by their
//! id, so a stage never spans workers (its publishers and subscribers share one thread and
//! forward to each other without locks).

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use troupe_media::{
    router::{AddError, NewSession, PatchError, PatchOutcome, RouterConfig},
    sdpfrag::Fragment,
    worker::{self, WorkerHandle, WorkerSpec},
};

/// A media session as the WHIP endpoint knows it.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    pub worker: usize,
    pub id: u64,
    pub stage_id: String,
    pub participant_id: String,
}

#[derive(Debug)]
pub struct MediaPlane {
    workers: Vec<WorkerHandle>,
    /// The address the workers' sockets are bound to (the node IP, or every interface).
    bind_ip: IpAddr,
    next_id: AtomicU64,
    sessions: Mutex<HashMap<u64, SessionEntry>>,
}

impl MediaPlane {
    /// Starts one worker per port, bound to the node IP itself when it is one of this machine's
    /// addresses (always so for loopback), else to every interface (the node IP is then a NAT's
    /// public address). Either way the workers tell str0m that datagrams arrive at the node IP:
    /// its ICE agent drops binding requests whose destination is not one of its candidates.
    /// With `ice_tcp_port`, the sessions also offer a passive TCP candidate on it (the
    /// acceptor, [`crate::ice_tcp`], listens there and hands connections to the workers).
    pub fn start(
        node_ip: IpAddr,
        ports: (u16, u16),
        ice_tcp_port: Option<u16>,
        config: RouterConfig,
    ) -> Result<MediaPlane, String> {
        let tcp = ice_tcp_port.map(|port| SocketAddr::new(node_ip, port));
        let mut bind_ip = node_ip;
        let workers = (ports.0..=ports.1)
            .enumerate()
            .map(|(index, port)| {
                let spawn = |ip| {
                    let spec = WorkerSpec {
                        bind: SocketAddr::new(ip, port),
                        advertised: node_ip,
                        tcp,
                        index,
                    };
                    worker::spawn_with(spec, config.clone())
                };
                let spawned = match spawn(bind_ip) {
                    Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {
                        bind_ip = match node_ip {
                            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
                        };
                        spawn(bind_ip)
                    }
                    other => other,
                };
                spawned.map_err(|e| format!("cannot use UDP port {port} for media: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MediaPlane {
            workers,
            bind_ip,
            next_id: AtomicU64::new(1),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The address the media sockets are bound to: listeners that serve the same clients
    /// (ICE-TCP) bind it too.
    pub fn bind_ip(&self) -> IpAddr {
        self.bind_ip
    }

    /// The worker a stage lives on.
    pub fn worker_for(&self, stage_id: &str) -> (usize, &WorkerHandle) {
        let mut hasher = DefaultHasher::new();
        stage_id.hash(&mut hasher);
        let index = (hasher.finish() % self.workers.len() as u64) as usize;
        (index, &self.workers[index])
    }

    pub fn workers(&self) -> &[WorkerHandle] {
        &self.workers
    }

    pub fn worker(&self, index: usize) -> Option<&WorkerHandle> {
        self.workers.get(index)
    }

    pub fn new_session_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SessionEntry>> {
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(&self, entry: SessionEntry) {
        self.lock().insert(entry.id, entry);
    }

    pub fn forget(&self, id: u64) {
        self.lock().remove(&id);
    }

    pub fn session(&self, id: u64) -> Option<SessionEntry> {
        self.lock().get(&id).cloned()
    }
}

/// Adds a session to its worker and waits for the worker's answer.
pub async fn add_session(worker: &WorkerHandle, session: NewSession) -> Result<(), AddError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    worker.add_session(
        session,
        Box::new(move |result| {
            let _ = tx.send(result);
        }),
    );
    rx.await.unwrap_or(Err(AddError::WorkerStopped))
}

/// Applies a WHIP PATCH to a session on its worker; `None` if the worker is gone.
pub async fn patch_session(
    worker: &WorkerHandle,
    id: u64,
    fragment: Fragment,
    if_match: Option<String>,
) -> Option<Result<PatchOutcome, PatchError>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    worker.patch(
        id,
        fragment,
        if_match,
        Box::new(move |result| {
            let _ = tx.send(result);
        }),
    );
    rx.await.ok()
}

/// Whether a participant publishes on a stage now (on the stage's worker).
pub async fn is_publishing(worker: &WorkerHandle, stage: &str, participant: &str) -> bool {
    let (tx, rx) = tokio::sync::oneshot::channel();
    worker.is_publishing(
        stage,
        participant,
        Box::new(move |result| {
            let _ = tx.send(result);
        }),
    );
    rx.await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound_ip(node_ip: IpAddr) -> IpAddr {
        let plane = MediaPlane::start(node_ip, (0, 0), None, RouterConfig::default())
            .expect("a worker on an ephemeral port");
        let worker = &plane.workers()[0];
        assert_eq!(worker.endpoint().udp.ip(), node_ip, "the candidate is the node IP");
        worker.local_addr().ip()
    }

    #[test]
    fn workers_bind_the_node_ip_when_it_is_a_local_address() {
        assert_eq!(bound_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)), Ipv4Addr::LOCALHOST);
        // What `--node-ip` defaults to outside dev mode (aiortc, for one, ignores 127.0.0.1).
        let local = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .find(|a| !a.is_loopback() && a.ip().is_ipv4())
            .map(|a| a.ip());
        if let Some(ip) = local {
            assert_eq!(bound_ip(ip), ip, "bound to {ip} itself, not to every interface");
        }
    }

    #[test]
    fn workers_bind_every_interface_for_an_address_of_no_interface() {
        // TEST-NET-3: on no interface here, like the public address of a 1:1 NAT.
        let public = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(bound_ip(public), Ipv4Addr::UNSPECIFIED);
    }
}

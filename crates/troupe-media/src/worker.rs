//! A media worker: one thread, one UDP socket, the ICE-TCP connections of its sessions, and
//! the [`Router`] of the stages pinned to it. The thread is the only place that reads those
//! sockets or the clock for them; the rest of the server reaches it through typed commands
//! ([`WorkerHandle`]), answered through callbacks — never shared mutable state (DESIGN §3).
//!
//! The loop: apply commands, give the router the time, send what it queued (UDP batched, TCP
//! one write per connection), wait for datagrams, TCP frames or the router's next timer,
//! receive, send again. A command wakes the loop at once with an empty datagram to the
//! worker's own port (empty datagrams are never WebRTC, so they need no other marking).

use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket},
    os::fd::AsRawFd,
    sync::{Arc, mpsc},
    thread,
    time::{Duration, Instant},
};

use str0m::net::{Protocol, Transmit};

use crate::{
    batch_io::BatchSocket,
    endpoint::Endpoint,
    poller::{Poller, Ready},
    router::{AddError, EndReason, NewSession, PatchError, PatchOutcome, Router, RouterConfig},
    sdpfrag::Fragment,
    stats::MediaStats,
    tcp_links::{IDLE, TcpLinks},
};

pub use crate::router::{OnEnd, Role};

/// The longest the loop sleeps without a timer: a safety net should a wake-up datagram be lost.
const WAIT: Duration = Duration::from_millis(50);

/// Answers a command, once, from the worker thread (keep it short: send on a channel).
pub type Reply<T> = Box<dyn FnOnce(T) + Send>;

enum Command {
    Add {
        session: Box<NewSession>,
        reply: Reply<Result<(), AddError>>,
    },
    End {
        id: u64,
    },
    Patch {
        id: u64,
        fragment: Fragment,
        if_match: Option<String>,
        reply: Reply<Result<PatchOutcome, PatchError>>,
    },
    IsPublishing {
        stage: String,
        participant: String,
        reply: Reply<bool>,
    },
    AdoptTcp {
        stream: TcpStream,
        remote: SocketAddr,
        first: Vec<u8>,
    },
}

/// How the rest of the server reaches a worker. A command whose worker is gone is dropped, and
/// with it its reply: the caller sees its reply channel close.
#[derive(Clone)]
pub struct WorkerHandle {
    commands: mpsc::Sender<Command>,
    waker: Arc<UdpSocket>,
    wake_target: SocketAddr,
    local_addr: SocketAddr,
    endpoint: Endpoint,
    stats: Arc<MediaStats>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl WorkerHandle {
    /// The worker's UDP socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where its sessions are reached (what their ICE candidates name).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Hands over an ICE-TCP connection whose first frame (in `first`, with its length
    /// prefix) is a check for one of this worker's sessions.
    pub fn adopt_tcp(&self, stream: TcpStream, remote: SocketAddr, first: Vec<u8>) {
        self.send(Command::AdoptTcp { stream, remote, first });
    }

    pub fn stats(&self) -> &MediaStats {
        &self.stats
    }

    /// Adds a session (built by [`crate::session::answer_offer`]); see [`Router::add_session`].
    pub fn add_session(&self, session: NewSession, reply: Reply<Result<(), AddError>>) {
        self.send(Command::Add { session: Box::new(session), reply });
    }

    /// Ends a session (WHIP DELETE, DisconnectParticipant, a replaced connection).
    pub fn end_session(&self, id: u64) {
        self.send(Command::End { id });
    }

    /// Trickles candidates into a session or restarts its ICE; see [`Router::patch`].
    pub fn patch(
        &self,
        id: u64,
        fragment: Fragment,
        if_match: Option<String>,
        reply: Reply<Result<PatchOutcome, PatchError>>,
    ) {
        self.send(Command::Patch { id, fragment, if_match, reply });
    }

    /// Whether `participant` publishes on `stage` now.
    pub fn is_publishing(&self, stage: &str, participant: &str, reply: Reply<bool>) {
        let (stage, participant) = (stage.to_string(), participant.to_string());
        self.send(Command::IsPublishing { stage, participant, reply });
    }

    /// [`WorkerHandle::add_session`], waiting for the answer (for tests and tools; async
    /// code passes a reply that completes a future instead).
    pub fn add_session_blocking(&self, session: NewSession) -> Result<(), AddError> {
        let (tx, rx) = mpsc::channel();
        self.add_session(
            session,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or(Err(AddError::WorkerStopped))
    }

    /// [`WorkerHandle::is_publishing`], waiting for the answer.
    pub fn is_publishing_blocking(&self, stage: &str, participant: &str) -> bool {
        let (tx, rx) = mpsc::channel();
        self.is_publishing(
            stage,
            participant,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or(false)
    }

    fn send(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            let _ = self.waker.send_to(&[], self.wake_target);
        }
    }
}

/// What a worker is started with.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// Its UDP socket's address.
    pub bind: SocketAddr,
    /// The address its candidates name (the node IP, on the bound port). str0m is told that
    /// datagrams arrive there: its ICE agent answers only checks sent to one of its
    /// candidates, and a socket bound to every interface (behind a 1:1 NAT) would otherwise
    /// report 0.0.0.0.
    pub advertised: IpAddr,
    /// The node's ICE-TCP candidate, when on (connections come through [`WorkerHandle::adopt_tcp`]).
    pub tcp: Option<SocketAddr>,
    /// Its index among the node's workers: its sessions' ufrags start with it.
    pub index: usize,
}

/// Starts a worker on `bind`, UDP only, whose sessions' candidates name the address it binds.
pub fn spawn(bind: SocketAddr, config: RouterConfig) -> io::Result<WorkerHandle> {
    spawn_with(WorkerSpec { bind, advertised: bind.ip(), tcp: None, index: 0 }, config)
}

/// Starts a worker as `spec` says.
pub fn spawn_with(spec: WorkerSpec, config: RouterConfig) -> io::Result<WorkerHandle> {
    let WorkerSpec { bind, advertised, tcp, index } = spec;
    let socket = UdpSocket::bind(bind)?;
    let local_addr = socket.local_addr()?;
    let advertised = SocketAddr::new(
        if advertised.is_unspecified() { local_addr.ip() } else { advertised },
        local_addr.port(),
    );
    let endpoint = Endpoint {
        udp: advertised,
        tcp,
        ufrag_prefix: if tcp.is_some() { Endpoint::prefix_for(index) } else { String::new() },
    };
    // Wake-ups come from a socket of the worker's own, reaching it on loopback when it listens
    // on every interface.
    let wake_ip = match local_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let wake_target = SocketAddr::new(wake_ip, local_addr.port());
    let waker = UdpSocket::bind(SocketAddr::new(wake_ip, 0))?;
    let (commands, receiver) = mpsc::channel();
    let stats = Arc::new(MediaStats::default());
    let mut poller = Poller::new()?;
    poller.add(socket.as_raw_fd(), UDP_TOKEN, false)?;
    let worker = Worker {
        socket: BatchSocket::new(socket)?,
        poller,
        ready: Vec::with_capacity(64),
        tcp: TcpLinks::new(stats.clone()),
        next_idle_check: Instant::now() + IDLE,
        commands: receiver,
        router: Router::new(config.clone(), endpoint.clone(), stats.clone()),
        config,
        local_addr,
        endpoint: endpoint.clone(),
        stats: stats.clone(),
        transmits: Vec::with_capacity(256),
    };
    thread::Builder::new()
        .name(format!("media-{}", local_addr.port()))
        .spawn(move || worker.supervise())?;
    Ok(WorkerHandle { commands, waker: Arc::new(waker), wake_target, local_addr, endpoint, stats })
}

/// The poller token of the UDP socket (ICE-TCP connections have theirs from [`TcpLinks`]).
const UDP_TOKEN: u64 = 0;

struct Worker {
    socket: BatchSocket,
    poller: Poller,
    ready: Vec<Ready>,
    tcp: TcpLinks,
    next_idle_check: Instant,
    commands: mpsc::Receiver<Command>,
    router: Router,
    config: RouterConfig,
    local_addr: SocketAddr,
    endpoint: Endpoint,
    stats: Arc<MediaStats>,
    transmits: Vec<Transmit>,
}

impl Worker {
    /// Runs the loop; if it ever panics (a bug, in str0m or here), ends every session it had —
    /// so that their stages see them leave and their publisher slots free up — and goes on
    /// with an empty router.
    fn supervise(mut self) {
        loop {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run()));
            if outcome.is_ok() {
                return;
            }
            tracing::error!(
                port = self.local_addr.port(),
                "media worker panicked; ending its sessions"
            );
            self.router.end_all(EndReason::WorkerFailed);
            self.router =
                Router::new(self.config.clone(), self.endpoint.clone(), self.stats.clone());
            self.tcp.close_all(&mut self.poller);
            self.transmits.clear();
        }
    }

    fn run(&mut self) {
        loop {
            if !self.apply_commands() {
                return; // Every handle is gone: the server is stopping.
            }
            self.router.handle_timeout(Instant::now());
            self.flush();
            let wait = self
                .router
                .poll_timeout()
                .map_or(WAIT, |at| at.saturating_duration_since(Instant::now()))
                .min(WAIT);
            if let Err(e) = self.poller.wait(wait, &mut self.ready) {
                tracing::warn!(error = %e, "media worker wait failed");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            let now = Instant::now();
            for i in 0..self.ready.len() {
                let ready = self.ready[i];
                if ready.token == UDP_TOKEN {
                    self.receive_udp(now);
                } else if let Some(slot) = TcpLinks::slot_of(ready.token) {
                    self.service_tcp(slot, ready, now);
                }
            }
            if now >= self.next_idle_check {
                self.tcp.close_idle(&mut self.poller, now);
                self.next_idle_check = now + IDLE / 4;
            }
            self.flush();
        }
    }

    fn receive_udp(&mut self, now: Instant) {
        let router = &mut self.router;
        let received = self.socket.receive_ready(&mut |source, datagram: &[u8]| {
            if !datagram.is_empty() {
                router.handle_datagram(now, source, datagram);
            }
        });
        match received {
            Ok(calls) => MediaStats::add(&self.stats.receive_calls, calls),
            Err(e) => {
                tracing::warn!(error = %e, "media socket receive failed");
                thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Frames from an ICE-TCP connection go to the router as datagrams from its address.
    fn service_tcp(&mut self, slot: usize, ready: Ready, now: Instant) {
        if ready.writable {
            self.tcp.writable(&mut self.poller, slot);
        }
        if ready.readable || ready.closed {
            let router = &mut self.router;
            self.tcp.receive(&mut self.poller, slot, now, true, |remote, frame| {
                router.handle_input(now, Protocol::Tcp, remote, frame)
            });
        }
    }

    /// Applies the pending commands; false when no handle is left.
    fn apply_commands(&mut self) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            };
            let now = Instant::now();
            match command {
                Command::Add { session, reply } => reply(self.router.add_session(now, *session)),
                Command::End { id } => self.router.end_session(now, id),
                Command::Patch { id, fragment, if_match, reply } => {
                    reply(self.router.patch(now, id, fragment, if_match.as_deref()))
                }
                Command::IsPublishing { stage, participant, reply } => {
                    reply(self.router.is_publishing(&stage, &participant))
                }
                Command::AdoptTcp { stream, remote, first } => self.adopt(stream, remote, &first),
            }
        }
    }

    fn adopt(&mut self, stream: TcpStream, remote: SocketAddr, first: &[u8]) {
        if self.endpoint.tcp.is_none() {
            return; // ICE-TCP is off on this worker: the connection closes as it drops.
        }
        let now = Instant::now();
        let Some(slot) = self.tcp.adopt(&mut self.poller, stream, remote, first, now) else {
            tracing::debug!(%remote, "ICE-TCP connection refused: the worker holds too many");
            return;
        };
        // The acceptor read the first frame already: hand it over before waiting for more.
        let router = &mut self.router;
        self.tcp.receive(&mut self.poller, slot, now, false, |remote, frame| {
            router.handle_input(now, Protocol::Tcp, remote, frame)
        });
    }

    fn flush(&mut self) {
        self.router.take_transmits(&mut self.transmits);
        if self.transmits.is_empty() {
            return;
        }
        if !self.tcp.is_empty() || self.endpoint.tcp.is_some() {
            // Datagrams for ICE-TCP connections go into their output buffers; the rest, UDP,
            // in batches.
            let tcp = &mut self.tcp;
            self.transmits.retain(|t| {
                if t.proto == Protocol::Udp {
                    return true;
                }
                tcp.queue(t.destination, &t.contents);
                false
            });
            self.tcp.flush(&mut self.poller);
            if self.transmits.is_empty() {
                return;
            }
        }
        let sent = self.socket.send(&self.transmits);
        self.transmits.clear();
        MediaStats::add(&self.stats.datagrams_out, sent.datagrams);
        MediaStats::add(&self.stats.bytes_out, sent.bytes);
        MediaStats::add(&self.stats.send_calls, sent.calls);
        MediaStats::add(&self.stats.send_failures, sent.failed);
    }
}

//! A media worker: one thread, one UDP socket, the sessions (str0m `Rtc`s) of the stages pinned
//! to it. The thread is the only place that reads the socket or the clock for them; everything
//! else reaches it through [`WorkerHandle`] commands.
//!
//! Demultiplexing: a datagram from a known remote address goes straight to its session (one
//! hash lookup); only a datagram from a new address (the first STUN binding request of a
//! session, or a client that moved) is offered to the sessions in turn, and the session that
//! accepts it is remembered for that address.
//!
//! First version: sessions are received and driven (ICE, DTLS, SRTP) and their RTP is counted;
//! forwarding between sessions comes next.

use std::{
    collections::HashMap,
    io,
    net::{SocketAddr, UdpSocket},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use str0m::{
    Event, IceConnectionState, Input, Output, Rtc,
    net::{Protocol, Receive},
};

/// How long the worker sleeps at most without input, so that new commands are picked up.
const COMMAND_POLL: Duration = Duration::from_millis(20);
/// Large enough for any datagram WebRTC sends (MTU-sized).
const DATAGRAM_BUFFER: usize = 2048;

/// Counters a worker keeps (read by metrics and tests).
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub sessions: AtomicU64,
    pub connected_sessions: AtomicU64,
    pub datagrams_in: AtomicU64,
    pub rtp_packets_in: AtomicU64,
    pub datagrams_dropped: AtomicU64,
}

enum Command {
    AddSession(Box<Rtc>),
}

/// How the rest of the server reaches a worker.
#[derive(Clone)]
pub struct WorkerHandle {
    commands: mpsc::Sender<Command>,
    local_addr: SocketAddr,
    stats: Arc<WorkerStats>,
}

impl WorkerHandle {
    /// The worker's UDP address (what its sessions' ICE candidates name).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Hands a session (built by [`crate::session::answer_offer`]) to the worker.
    pub fn add_session(&self, rtc: Rtc) -> bool {
        self.commands.send(Command::AddSession(Box::new(rtc))).is_ok()
    }
}

/// Starts a worker on `bind`.
pub fn spawn(bind: SocketAddr) -> io::Result<WorkerHandle> {
    let socket = UdpSocket::bind(bind)?;
    let local_addr = socket.local_addr()?;
    let (commands, receiver) = mpsc::channel();
    let stats = Arc::new(WorkerStats::default());
    let worker = Worker {
        socket,
        local_addr,
        commands: receiver,
        sessions: Vec::new(),
        by_address: HashMap::new(),
        stats: stats.clone(),
    };
    thread::Builder::new()
        .name(format!("media-{}", local_addr.port()))
        .spawn(move || worker.run())?;
    Ok(WorkerHandle { commands, local_addr, stats })
}

struct Session {
    rtc: Rtc,
    connected: bool,
    /// When the session asked to be given the time next.
    wake: Option<Instant>,
}

struct Worker {
    socket: UdpSocket,
    local_addr: SocketAddr,
    commands: mpsc::Receiver<Command>,
    sessions: Vec<Session>,
    /// Remote address → index in `sessions`.
    by_address: HashMap<SocketAddr, usize>,
    stats: Arc<WorkerStats>,
}

impl Worker {
    fn run(mut self) {
        let mut buffer = vec![0u8; DATAGRAM_BUFFER];
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(Command::AddSession(rtc)) => {
                        self.sessions.push(Session { rtc: *rtc, connected: false, wake: None });
                        self.stats.sessions.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    // Every handle is gone: the server is stopping.
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            let next = self.drive_all();
            let wait = next
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(COMMAND_POLL)
                .clamp(Duration::from_millis(1), COMMAND_POLL);
            if self.socket.set_read_timeout(Some(wait)).is_err() {
                return;
            }
            match self.socket.recv_from(&mut buffer) {
                Ok((n, source)) => self.receive(&buffer[..n], source),
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "media socket receive failed");
                }
            }
            // Give the time to the sessions that asked for it.
            let now = Instant::now();
            for session in &mut self.sessions {
                if session.wake.is_some_and(|at| at <= now) {
                    session.wake = None;
                    let _ = session.rtc.handle_input(Input::Timeout(now));
                }
            }
        }
    }

    /// Polls every session until it waits; sends what it transmits. Returns the earliest time
    /// any session wants to be woken.
    fn drive_all(&mut self) -> Option<Instant> {
        let mut earliest: Option<Instant> = None;
        let mut index = 0;
        while index < self.sessions.len() {
            let session = &mut self.sessions[index];
            let wake = loop {
                match session.rtc.poll_output() {
                    Ok(Output::Timeout(at)) => break Some(at),
                    Ok(Output::Transmit(t)) => {
                        let _ = self.socket.send_to(&t.contents, t.destination);
                    }
                    Ok(Output::Event(event)) => match event {
                        Event::RtpPacket(_) => {
                            self.stats.rtp_packets_in.fetch_add(1, Ordering::Relaxed);
                        }
                        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                            session.rtc.disconnect();
                        }
                        Event::Connected => {
                            session.connected = true;
                            self.stats.connected_sessions.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    },
                    Err(e) => {
                        tracing::debug!(error = %e, "media session failed");
                        session.rtc.disconnect();
                        break None;
                    }
                }
            };
            session.wake = wake;
            if !session.rtc.is_alive() {
                self.remove(index);
                continue;
            }
            if let Some(at) = wake {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
            index += 1;
        }
        earliest
    }

    fn remove(&mut self, index: usize) {
        let session = self.sessions.swap_remove(index);
        if session.connected {
            self.stats.connected_sessions.fetch_sub(1, Ordering::Relaxed);
        }
        self.stats.sessions.fetch_sub(1, Ordering::Relaxed);
        // Fix the address map: drop the removed session's addresses, renumber the moved one.
        let moved_from = self.sessions.len();
        self.by_address.retain(|_, i| *i != index);
        for i in self.by_address.values_mut() {
            if *i == moved_from {
                *i = index;
            }
        }
    }

    fn receive(&mut self, datagram: &[u8], source: SocketAddr) {
        self.stats.datagrams_in.fetch_add(1, Ordering::Relaxed);
        let Ok(contents) = datagram.try_into() else {
            // Not STUN, DTLS or SRTP: garbage on the port.
            self.stats.datagrams_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive { proto: Protocol::Udp, source, destination: self.local_addr, contents },
        );
        let index = match self.by_address.get(&source) {
            Some(&i) if self.sessions[i].rtc.accepts(&input) => Some(i),
            _ => self.sessions.iter().position(|s| s.rtc.accepts(&input)),
        };
        let Some(index) = index else {
            self.stats.datagrams_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.by_address.insert(source, index);
        if let Err(e) = self.sessions[index].rtc.handle_input(input) {
            tracing::debug!(error = %e, %source, "media input refused");
        }
    }
}

//! The TURN server on real sockets: one thread (mio) with the UDP listener, the TCP and TLS
//! listeners and their connections, and one UDP socket per allocation's relay, driving the
//! sans-IO [`TurnServer`]. Everything is bound in [`spawn`] before it returns, so a port in
//! use is an error at startup that names the port.
//!
//! Bounded: [`MAX_CONNECTIONS`] TCP/TLS connections; each one's unsent output at most
//! [`MAX_BACKLOG`] (whole messages beyond it are dropped, never part of one); a connection
//! without an allocation for [`IDLE`], or still in its TLS handshake after
//! [`HANDSHAKE_TIMEOUT`], is closed.

use std::{
    collections::HashMap,
    io::{self, Read, Write},
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use mio::{
    Events, Interest, Poll, Registry, Token, Waker,
    net::{TcpListener, TcpStream, UdpSocket},
};

use crate::{
    framing::StreamFramer,
    server::{ClientAction, ClientAddr, RelaySockets, Transport, TurnConfig, TurnServer},
    stats::TurnStats,
};

/// Where new TLS connections get their certificate: asked for each, so that a reload (SIGHUP)
/// reaches new connections without a restart.
pub type TlsConfigSource = Arc<dyn Fn() -> Arc<rustls::ServerConfig> + Send + Sync>;

pub const MAX_CONNECTIONS: usize = 4096;
pub const MAX_BACKLOG: usize = 512 * 1024;
pub const IDLE: Duration = Duration::from_secs(30);
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TurnSettings {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    pub tls: Option<(SocketAddr, TlsConfigSource)>,
    /// The address relay sockets bind (the relay IP itself when it is local, else every
    /// interface).
    pub relay_bind: IpAddr,
    pub config: TurnConfig,
}

/// The running server; dropping it stops the thread.
pub struct TurnHandle {
    local: Vec<(Transport, SocketAddr)>,
    stats: Arc<TurnStats>,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TurnHandle {
    /// The addresses the listeners are bound to (ports chosen by the system resolved).
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.local.iter().find(|(t, _)| *t == transport).map(|(_, a)| *a)
    }

    pub fn stats(&self) -> &Arc<TurnStats> {
        &self.stats
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TurnHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

const UDP: Token = Token(0);
const TCP_LISTENER: Token = Token(1);
const TLS_LISTENER: Token = Token(2);
const WAKER: Token = Token(3);
const FIRST_CONNECTION: usize = 16;
const FIRST_RELAY: usize = 1 << 32;

/// Binds the listeners and starts the thread.
pub fn spawn(settings: TurnSettings) -> io::Result<TurnHandle> {
    let poll = Poll::new()?;
    let named = |what: &str, addr: SocketAddr, e: io::Error| {
        io::Error::new(e.kind(), format!("cannot listen for TURN over {what} on {addr}: {e}"))
    };
    let mut local = Vec::new();
    let mut udp = match settings.udp {
        Some(addr) => {
            let socket = UdpSocket::bind(addr).map_err(|e| named("UDP", addr, e))?;
            let bound = socket.local_addr()?;
            local.push((Transport::Udp, bound));
            Some((socket, bound))
        }
        None => None,
    };
    let mut tcp = match settings.tcp {
        Some(addr) => {
            let listener = TcpListener::bind(addr).map_err(|e| named("TCP", addr, e))?;
            local.push((Transport::Tcp, listener.local_addr()?));
            Some(listener)
        }
        None => None,
    };
    let mut tls = match settings.tls {
        Some((addr, source)) => {
            let listener = TcpListener::bind(addr).map_err(|e| named("TLS", addr, e))?;
            local.push((Transport::Tls, listener.local_addr()?));
            Some((listener, source))
        }
        None => None,
    };
    if let Some((s, _)) = udp.as_mut() {
        poll.registry().register(s, UDP, Interest::READABLE)?;
    }
    if let Some(l) = tcp.as_mut() {
        poll.registry().register(l, TCP_LISTENER, Interest::READABLE)?;
    }
    if let Some((l, _)) = tls.as_mut() {
        poll.registry().register(l, TLS_LISTENER, Interest::READABLE)?;
    }
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let stats = Arc::new(TurnStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut state = State {
        core: TurnServer::new(settings.config, stats.clone()),
        io: Io {
            poll,
            udp,
            tcp,
            tls,
            relays: HashMap::new(),
            relay_bind: settings.relay_bind,
            conns: Vec::new(),
            free: Vec::new(),
            by_client: HashMap::new(),
            dirty: Vec::new(),
            stats: stats.clone(),
        },
        buffer: vec![0u8; 65_536],
        out: Vec::with_capacity(2048),
        stop: stop.clone(),
    };
    let thread = thread::Builder::new().name("turn".into()).spawn(move || state.run())?;
    Ok(TurnHandle { local, stats, stop, waker, thread: Some(thread) })
}

struct Conn {
    stream: TcpStream,
    client: ClientAddr,
    tls: Option<rustls::ServerConnection>,
    framer: StreamFramer,
    /// Bytes to write to the socket (ciphertext on TLS).
    out: Vec<u8>,
    opened: Instant,
    last_input: Instant,
    dirty: bool,
}

/// The sockets; apart from the core so that both can be borrowed at once.
struct Io {
    poll: Poll,
    /// The UDP listener and its address (asked once: it is in every client's address).
    udp: Option<(UdpSocket, SocketAddr)>,
    tcp: Option<TcpListener>,
    tls: Option<(TcpListener, TlsConfigSource)>,
    relays: HashMap<u16, UdpSocket>,
    relay_bind: IpAddr,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_client: HashMap<ClientAddr, usize>,
    /// Connections with output queued since their last write.
    dirty: Vec<usize>,
    stats: Arc<TurnStats>,
}

/// Relay sockets for the core: bound on the relay address, watched by the poll.
struct Relays<'a> {
    registry: &'a Registry,
    sockets: &'a mut HashMap<u16, UdpSocket>,
    bind: IpAddr,
}

impl RelaySockets for Relays<'_> {
    fn open(&mut self, even: bool) -> io::Result<u16> {
        let mut socket = UdpSocket::bind(SocketAddr::new(self.bind, 0))?;
        // An even port: the system hands out ports at random, so a few tries find one.
        for _ in 0..32 {
            if !even || socket.local_addr()?.port() % 2 == 0 {
                break;
            }
            socket = UdpSocket::bind(SocketAddr::new(self.bind, 0))?;
        }
        let port = socket.local_addr()?.port();
        if even && port % 2 != 0 {
            return Err(io::Error::other("no even port found"));
        }
        self.registry.register(
            &mut socket,
            Token(FIRST_RELAY + usize::from(port)),
            Interest::READABLE,
        )?;
        self.sockets.insert(port, socket);
        Ok(port)
    }

    fn close(&mut self, port: u16) {
        if let Some(mut socket) = self.sockets.remove(&port) {
            let _ = self.registry.deregister(&mut socket);
        }
    }
}

struct State {
    core: TurnServer,
    io: Io,
    buffer: Vec<u8>,
    out: Vec<u8>,
    stop: Arc<AtomicBool>,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl State {
    fn run(&mut self) {
        let mut events = Events::with_capacity(256);
        let mut next_sweep = Instant::now();
        loop {
            let now = Instant::now();
            // Expiries are handled by the sweep, once a second: TURN lifetimes are counted in
            // seconds, and asking the core for its next expiry would scan every allocation
            // on every wake-up.
            let wait = next_sweep.saturating_duration_since(now).min(Duration::from_secs(1));
            if let Err(e) = self.io.poll.poll(&mut events, Some(wait)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::warn!(error = %e, "TURN poll failed");
                    thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            let unix = unix_now();
            for event in events.iter() {
                match event.token() {
                    UDP => self.receive_udp(now, unix),
                    TCP_LISTENER => self.accept(false, now),
                    TLS_LISTENER => self.accept(true, now),
                    WAKER => {}
                    Token(t) if t >= FIRST_RELAY => {
                        if let Ok(port) = u16::try_from(t - FIRST_RELAY) {
                            self.receive_relay(port, now);
                        }
                    }
                    Token(t) => self.service(
                        t - FIRST_CONNECTION,
                        event.is_readable() || event.is_read_closed() || event.is_error(),
                        now,
                        unix,
                    ),
                }
            }
            self.flush_dirty();
            if now >= next_sweep {
                let mut relays = self.io.relays();
                self.core.handle_timeout(now, &mut relays);
                self.sweep(now);
                next_sweep = now + Duration::from_secs(1);
            }
        }
        let mut relays = self.io.relays();
        self.core.close_all(&mut relays);
    }

    fn receive_udp(&mut self, now: Instant, unix: u64) {
        loop {
            let Some((socket, local)) = self.io.udp.as_ref() else { return };
            let (n, remote) = match socket.recv_from(&mut self.buffer) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return, // An ICMP error reported on the socket: nothing to do.
            };
            let client = ClientAddr { transport: Transport::Udp, local: *local, remote };
            let mut relays = self.io.relays();
            let action = self.core.handle_client(
                now,
                unix,
                client,
                &self.buffer[..n],
                &mut self.out,
                &mut relays,
            );
            self.io.act(client, action, &self.buffer[..n], &self.out);
        }
    }

    fn receive_relay(&mut self, port: u16, now: Instant) {
        loop {
            let Some(socket) = self.io.relays.get(&port) else { return };
            let (n, from) = match socket.recv_from(&mut self.buffer) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            if let Some(client) =
                self.core.handle_peer(now, port, from, &self.buffer[..n], &mut self.out)
            {
                self.io.send_to_client(client, &self.out);
            }
        }
    }

    fn accept(&mut self, tls: bool, now: Instant) {
        loop {
            let accepted = match (tls, &self.io.tcp, &self.io.tls) {
                (false, Some(l), _) => l.accept(),
                (true, _, Some((l, _))) => l.accept(),
                _ => return,
            };
            let (mut stream, remote) = match accepted {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a TURN connection failed");
                    return;
                }
            };
            let live = self.io.conns.len() - self.io.free.len();
            let Ok(local) = stream.local_addr() else { continue };
            if live >= MAX_CONNECTIONS {
                continue; // Dropped: closed.
            }
            let session = match (tls, &self.io.tls) {
                (true, Some((_, source))) => match rustls::ServerConnection::new(source()) {
                    Ok(s) => Some(s),
                    Err(_) => continue,
                },
                _ => None,
            };
            let _ = stream.set_nodelay(true);
            let slot = self.io.free.pop().unwrap_or(self.io.conns.len());
            let token = Token(FIRST_CONNECTION + slot);
            if self
                .io
                .poll
                .registry()
                .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            let transport = if tls { Transport::Tls } else { Transport::Tcp };
            let client = ClientAddr { transport, local, remote };
            let conn = Conn {
                stream,
                client,
                tls: session,
                framer: StreamFramer::default(),
                out: Vec::new(),
                opened: now,
                last_input: now,
                dirty: false,
            };
            if slot == self.io.conns.len() {
                self.io.conns.push(Some(conn));
            } else {
                self.io.conns[slot] = Some(conn);
            }
            self.io.by_client.insert(client, slot);
            TurnStats::set(&self.io.stats.connections, self.io.by_client.len() as u64);
        }
    }

    /// A connection is readable (or writable): read, handle its messages, write.
    fn service(&mut self, slot: usize, readable: bool, now: Instant, unix: u64) {
        let mut open = true;
        if readable {
            open = self.read(slot, now);
        }
        if open {
            open = self.handle_messages(slot, now, unix);
        }
        if open {
            open = self.io.write(slot);
        }
        if !open {
            self.close(slot);
        }
    }

    /// Reads what the socket has into the connection's framer (through TLS when it is TLS).
    fn read(&mut self, slot: usize, now: Instant) -> bool {
        let Some(conn) = self.io.conns.get_mut(slot).and_then(Option::as_mut) else { return false };
        conn.last_input = now;
        loop {
            match &mut conn.tls {
                None => match conn.stream.read(&mut self.buffer) {
                    Ok(0) => return false,
                    Ok(n) => conn.framer.push(&self.buffer[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return false,
                },
                Some(tls) => {
                    match tls.read_tls(&mut conn.stream) {
                        Ok(0) => return false,
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => return false,
                    }
                    let processed = tls.process_new_packets();
                    // Handshake messages or an alert to send back.
                    while tls.wants_write() {
                        if tls.write_tls(&mut conn.out).is_err() {
                            break;
                        }
                    }
                    if processed.is_err() {
                        let _ = conn.stream.write(&conn.out);
                        return false;
                    }
                    loop {
                        match tls.reader().read(&mut self.buffer) {
                            Ok(0) => return false, // close_notify.
                            Ok(n) => conn.framer.push(&self.buffer[..n]),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(_) => return false,
                        }
                    }
                }
            }
            if conn.framer.pending() > crate::framing::MAX_MESSAGE {
                return false;
            }
        }
    }

    fn handle_messages(&mut self, slot: usize, now: Instant, unix: u64) -> bool {
        loop {
            let Some(conn) = self.io.conns.get_mut(slot).and_then(Option::as_mut) else {
                return false;
            };
            let client = conn.client;
            let message = match conn.framer.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => return true,
                Err(_) => return false, // Not TURN.
            };
            // The message is copied out of the framer so that the reply can go into the same
            // connection; control messages are small and media over streams is the fallback.
            let len = message.len().min(self.buffer.len());
            self.buffer[..len].copy_from_slice(&message[..len]);
            let mut relays = self.io.relays();
            let action = self.core.handle_client(
                now,
                unix,
                client,
                &self.buffer[..len],
                &mut self.out,
                &mut relays,
            );
            self.io.act(client, action, &self.buffer[..len], &self.out);
        }
    }

    fn close(&mut self, slot: usize) {
        let Some(mut conn) = self.io.conns.get_mut(slot).and_then(Option::take) else { return };
        let _ = self.io.poll.registry().deregister(&mut conn.stream);
        self.io.by_client.remove(&conn.client);
        self.io.free.push(slot);
        let mut relays = self.io.relays();
        self.core.client_closed(conn.client, &mut relays);
        TurnStats::set(&self.io.stats.connections, self.io.by_client.len() as u64);
    }

    fn flush_dirty(&mut self) {
        while let Some(slot) = self.io.dirty.pop() {
            if let Some(conn) = self.io.conns.get_mut(slot).and_then(Option::as_mut) {
                conn.dirty = false;
            }
            if !self.io.write(slot) {
                self.close(slot);
            }
        }
    }

    /// Closes connections that hold no allocation and sent nothing for a while, and TLS
    /// handshakes that take too long.
    fn sweep(&mut self, now: Instant) {
        let stale: Vec<usize> = self
            .io
            .conns
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| {
                let c = c.as_ref()?;
                let handshaking = c.tls.as_ref().is_some_and(|t| t.is_handshaking());
                let stuck = handshaking && now.duration_since(c.opened) > HANDSHAKE_TIMEOUT;
                let idle =
                    now.duration_since(c.last_input) > IDLE && !self.core.has_allocation(&c.client);
                (stuck || idle).then_some(slot)
            })
            .collect();
        for slot in stale {
            self.close(slot);
        }
    }
}

impl Io {
    fn relays(&mut self) -> Relays<'_> {
        Relays { registry: self.poll.registry(), sockets: &mut self.relays, bind: self.relay_bind }
    }

    /// Carries out what the core decided for a client's message.
    fn act(&mut self, client: ClientAddr, action: ClientAction, message: &[u8], out: &[u8]) {
        match action {
            ClientAction::Nothing => {}
            ClientAction::Reply => self.send_to_client(client, out),
            ClientAction::ToPeer { relay_port, to, payload } => {
                if let (Some(socket), Some(data)) =
                    (self.relays.get(&relay_port), message.get(payload))
                {
                    let _ = socket.send_to(data, to);
                }
            }
        }
    }

    fn send_to_client(&mut self, client: ClientAddr, bytes: &[u8]) {
        match client.transport {
            Transport::Udp => {
                if let Some((socket, _)) = &self.udp {
                    let _ = socket.send_to(bytes, client.remote);
                }
            }
            Transport::Tcp | Transport::Tls => {
                let Some(&slot) = self.by_client.get(&client) else { return };
                let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
                if conn.out.len() + bytes.len() > MAX_BACKLOG {
                    TurnStats::add(&self.stats.backlog_drops, 1);
                    return;
                }
                match &mut conn.tls {
                    None => conn.out.extend_from_slice(bytes),
                    Some(tls) => {
                        if tls.writer().write_all(bytes).is_err() {
                            return;
                        }
                        while tls.wants_write() {
                            if tls.write_tls(&mut conn.out).is_err() {
                                break;
                            }
                        }
                    }
                }
                if !conn.dirty {
                    conn.dirty = true;
                    self.dirty.push(slot);
                }
            }
        }
    }

    /// Writes what a connection has queued; false when it failed.
    fn write(&mut self, slot: usize) -> bool {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return true };
        let mut written = 0;
        while written < conn.out.len() {
            match conn.stream.write(&conn.out[written..]) {
                Ok(0) => return false,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        conn.out.drain(..written);
        true
    }
}

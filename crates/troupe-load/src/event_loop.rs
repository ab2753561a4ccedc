//! An event loop: one thread driving many peers — str0m's timers and the publishers' frames on
//! a tick, datagrams as epoll reports them (from the peers' own sockets, or from the loop's
//! socket they share, see [`crate::endpoint`]), each peer's output sent in one `sendmmsg`. A
//! run has one loop or a few (`--threads`); the signaling threads hand them connected-to-be
//! peers through a channel, and the run opens and closes measurement windows the same way.

use std::{
    collections::HashMap,
    io,
    net::{IpAddr, Ipv4Addr, UdpSocket},
    os::fd::AsRawFd,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use crate::{
    peer::{Peer, Tally},
    udp::{Poller, ReceiveBatch},
};

pub enum Command {
    Add(Box<Peer>),
    BeginWindow,
    /// Closes the window and sends what the loop counted in it (its joins and failures since
    /// the last window too).
    EndWindow(mpsc::Sender<Tally>),
}

/// Live counts for the progress line, shared by all loops.
#[derive(Debug, Default)]
pub struct Progress {
    pub peers: AtomicU64,
    /// Peers whose ICE and DTLS completed.
    pub connected: AtomicU64,
    /// Of those, the publishers.
    pub publishing: AtomicU64,
    pub joined: AtomicU64,
    pub failed: AtomicU64,
    pub received: AtomicU64,
    pub datagrams_out: AtomicU64,
    pub send_refused: AtomicU64,
}

pub struct LoopHandle {
    commands: mpsc::Sender<Command>,
    thread: Option<thread::JoinHandle<()>>,
}

impl LoopHandle {
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }
}

impl Drop for LoopHandle {
    fn drop(&mut self) {
        // Closing the channel stops the loop; its peers' sockets close with it.
        let (closed, _) = mpsc::channel();
        self.commands = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a loop that gives its peers the time every `tick` (and sooner when a datagram comes);
/// `shared` is the socket its peers share, if they do.
pub fn spawn(
    index: usize,
    tick: Duration,
    progress: Arc<Progress>,
    shared: Option<Arc<UdpSocket>>,
) -> io::Result<LoopHandle> {
    let (commands, receiver) = mpsc::channel();
    let poller = Poller::new()?;
    if let Some(socket) = &shared {
        poller.add(socket.as_raw_fd(), SHARED)?;
    }
    let thread = thread::Builder::new().name(format!("load-loop-{index}")).spawn(move || {
        let mut state = LoopState {
            peers: Vec::new(),
            free: Vec::new(),
            poller,
            shared,
            by_ip: HashMap::new(),
            touched: Vec::new(),
            marked: Vec::new(),
            batch: ReceiveBatch::default(),
            tally: Tally::default(),
            reported: (0, 0),
            progress,
            tick,
        };
        state.run(receiver);
    })?;
    Ok(LoopHandle { commands, thread: Some(thread) })
}

/// The epoll token of the shared socket (peers' own sockets have their slot as token).
const SHARED: u64 = u64::MAX;

struct LoopState {
    peers: Vec<Option<Peer>>,
    free: Vec<usize>,
    poller: Poller,
    /// The socket the loop's peers share, and which peer each of its addresses is.
    shared: Option<Arc<UdpSocket>>,
    by_ip: HashMap<Ipv4Addr, usize>,
    /// Peers that got datagrams in the current shared-socket batch (and a flag per slot).
    touched: Vec<usize>,
    marked: Vec<bool>,
    batch: ReceiveBatch,
    tally: Tally,
    /// Joins and received packets already added to the progress counters.
    reported: (usize, u64),
    progress: Arc<Progress>,
    tick: Duration,
}

impl LoopState {
    fn run(&mut self, commands: mpsc::Receiver<Command>) {
        let mut ready = Vec::new();
        let mut next_scan = Instant::now();
        let mut last_wake = Instant::now();
        loop {
            loop {
                match commands.try_recv() {
                    Ok(command) => self.apply(command),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
            let now = Instant::now();
            if now >= next_scan {
                next_scan = self.scan(now);
            }
            // At most one wake-up per tick: datagrams wait in the kernel meanwhile (stamped on
            // arrival, so delays are not affected) and come in larger batches. Waking for
            // every few packets cost the tool more than the packets themselves.
            let since = last_wake.elapsed();
            if since < self.tick {
                thread::sleep(self.tick - since);
            }
            let wait = next_scan.saturating_duration_since(Instant::now());
            let wait_ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            if let Err(e) = self.poller.wait(wait_ms, &mut ready) {
                eprintln!("troupe-load: epoll failed: {e}");
                thread::sleep(self.tick);
            }
            let now = Instant::now();
            last_wake = now;
            for &token in &ready {
                if token == SHARED {
                    self.receive_shared(now);
                    for i in 0..self.touched.len() {
                        let slot = self.touched[i];
                        if let Some(due) =
                            self.peers.get(slot).and_then(|p| p.as_ref()).map(Peer::next_due)
                        {
                            next_scan = next_scan.min(due.max(now + self.tick));
                        }
                    }
                    continue;
                }
                self.receive(token as usize, now);
                if let Some(due) =
                    self.peers.get(token as usize).and_then(|p| p.as_ref()).map(Peer::next_due)
                {
                    next_scan = next_scan.min(due.max(now + self.tick));
                }
            }
            self.report_progress();
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Add(peer) => {
                let slot = self.free.pop().unwrap_or(self.peers.len());
                let registered = match (peer.own_fd(), peer.local_addr().ip()) {
                    (Some(fd), _) => self.poller.add(fd, slot as u64),
                    (None, IpAddr::V4(ip)) if self.shared.is_some() => {
                        self.by_ip.insert(ip, slot);
                        Ok(())
                    }
                    (None, _) => Err(io::Error::other("a shared-socket peer on another loop")),
                };
                if let Err(e) = registered {
                    if slot < self.peers.len() {
                        self.free.push(slot); // Still free.
                    }
                    self.tally.failures.push((peer.group, format!("epoll: {e}")));
                    self.progress.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                if slot == self.peers.len() {
                    self.peers.push(Some(*peer));
                    self.marked.push(false);
                } else {
                    self.peers[slot] = Some(*peer);
                }
                self.progress.peers.fetch_add(1, Ordering::Relaxed);
            }
            Command::BeginWindow => {
                for peer in self.peers.iter_mut().flatten() {
                    peer.begin_window();
                }
                self.tally.window_open = true;
            }
            Command::EndWindow(reply) => {
                for peer in self.peers.iter_mut().flatten() {
                    peer.end_window(&mut self.tally);
                }
                self.report_progress();
                let tally = std::mem::take(&mut self.tally);
                self.reported = (0, 0);
                let _ = reply.send(tally);
            }
        }
    }

    /// Gives every peer that is due the time; returns when the next scan is due.
    fn scan(&mut self, now: Instant) -> Instant {
        let mut next = now + Duration::from_millis(50);
        for slot in 0..self.peers.len() {
            let Some(peer) = self.peers[slot].as_mut() else { continue };
            if peer.next_due() <= now {
                peer.on_time(now, &mut self.tally);
                self.after(slot);
            }
            if let Some(peer) = self.peers[slot].as_ref() {
                next = next.min(peer.next_due());
            }
        }
        next.max(now + self.tick)
    }

    /// Receives what a peer's own socket has.
    fn receive(&mut self, slot: usize, now: Instant) {
        let Some(peer) = self.peers.get_mut(slot).and_then(Option::as_mut) else { return };
        if peer.is_stream() {
            peer.receive_stream(now, &mut self.tally);
            self.after(slot);
            return;
        }
        let Some(fd) = peer.own_fd() else { return };
        loop {
            let n = receive_or_report(&mut self.batch, fd);
            for i in 0..n {
                let (source, data, at) = self.batch.datagram(i);
                peer.on_datagram(now, source, data, at, &mut self.tally);
            }
            if n < crate::udp::BATCH {
                break;
            }
        }
        self.after(slot);
    }

    /// Receives what the shared socket has, each datagram for the peer at its destination
    /// address; then runs [`LoopState::after`] once for each peer that got something.
    fn receive_shared(&mut self, now: Instant) {
        let Some(fd) = self.shared.as_ref().map(|s| s.as_raw_fd()) else { return };
        self.touched.clear();
        loop {
            let n = receive_or_report(&mut self.batch, fd);
            for i in 0..n {
                let Some(&slot) = self.batch.destination(i).and_then(|ip| self.by_ip.get(&ip))
                else {
                    continue; // A peer that is gone.
                };
                let Some(peer) = self.peers.get_mut(slot).and_then(Option::as_mut) else {
                    continue;
                };
                let (source, data, at) = self.batch.datagram(i);
                peer.on_datagram(now, source, data, at, &mut self.tally);
                if !self.marked[slot] {
                    self.marked[slot] = true;
                    self.touched.push(slot);
                }
            }
            if n < crate::udp::BATCH {
                break;
            }
        }
        for i in 0..self.touched.len() {
            let slot = self.touched[i];
            self.marked[slot] = false;
            self.after(slot);
        }
    }

    /// Adds the joins and packets counted since the last call to the progress counters.
    fn report_progress(&mut self) {
        let (joins, received) = (self.tally.joins.len(), self.tally.received);
        let p = &self.progress;
        p.joined.fetch_add(joins.saturating_sub(self.reported.0) as u64, Ordering::Relaxed);
        p.received.fetch_add(received.saturating_sub(self.reported.1), Ordering::Relaxed);
        self.reported = (joins, received);
    }

    /// After a peer ran: sends its output, counts, drops it if it failed.
    fn after(&mut self, slot: usize) {
        let Some(peer) = self.peers[slot].as_mut() else { return };
        let (sent, refused) = peer.flush();
        let p = &self.progress;
        if peer.take_connected() {
            p.connected.fetch_add(1, Ordering::Relaxed);
            if peer.is_publisher() {
                p.publishing.fetch_add(1, Ordering::Relaxed);
            }
        }
        p.datagrams_out.fetch_add(sent, Ordering::Relaxed);
        p.send_refused.fetch_add(refused, Ordering::Relaxed);
        if let Some(why) = peer.failed() {
            if p.failed.load(Ordering::Relaxed) < 5 {
                eprintln!(
                    "troupe-load: a {} failed: {why}",
                    if peer.is_publisher() { "publisher" } else { "subscription" }
                );
            }
            self.tally.failures.push((peer.group, why.to_string()));
            p.failed.fetch_add(1, Ordering::Relaxed);
            p.peers.fetch_sub(1, Ordering::Relaxed);
            match (peer.own_fd(), peer.local_addr().ip()) {
                (Some(fd), _) => self.poller.remove(fd),
                (None, IpAddr::V4(ip)) => {
                    self.by_ip.remove(&ip);
                }
                (None, IpAddr::V6(_)) => {}
            }
            self.peers[slot] = None;
            self.free.push(slot);
        }
    }
}

/// One `recvmmsg` batch from `fd`; a failure is reported and counts as nothing received, so a
/// broken socket costs a line on stderr rather than the whole run.
fn receive_or_report(batch: &mut ReceiveBatch, fd: std::os::fd::RawFd) -> usize {
    batch.receive(fd).unwrap_or_else(|e| {
        eprintln!("troupe-load: receive failed: {e}");
        0
    })
}

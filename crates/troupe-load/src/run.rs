//! A media run: encode the clip, connect to the target, then level by level (one level without
//! --ramp) add stages, hosts and viewers through parallel signaling, wait for every subscription
//! to receive its first packet, let things settle, and measure a window — what the
//! subscriptions received, lost and how late, what the server and the tool spent.

use std::{
    io::IsTerminal,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{
    cli::{Args, Scenario},
    endpoint::Endpoints,
    event_loop::{self, Command, LoopHandle, Progress},
    histogram::Histogram,
    media::clip::{self, VideoSpec},
    peer::{Media, Tally, Transport},
    procfs,
    report::{Level, Report},
    target::{PublisherRef, Sessions, Signaler, StageRef, Target},
};

/// How long joining a level may take before the run goes on without the stragglers.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The load of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub stages: usize,
    pub hosts: usize,
    pub viewers: usize,
    pub video: bool,
}

impl Shape {
    pub fn of(args: &Args) -> Result<Shape> {
        let shape = match args.scenario {
            Scenario::Meeting => Shape {
                stages: args.stages.unwrap_or(2),
                hosts: args.publishers.unwrap_or(12),
                viewers: args.subscribers.unwrap_or(0),
                video: true,
            },
            Scenario::Broadcast => Shape {
                stages: 1,
                hosts: args.publishers.unwrap_or(1),
                viewers: args.subscribers.unwrap_or(50),
                video: true,
            },
            Scenario::AudioRoom => Shape {
                stages: 1,
                hosts: args.publishers.unwrap_or(12),
                viewers: args.subscribers.unwrap_or(20),
                video: false,
            },
            Scenario::Control | Scenario::Hls => {
                bail!("{} is not a media scenario", args.scenario.name())
            }
        };
        if args.scenario != Scenario::Meeting && args.stages.is_some_and(|s| s != 1) {
            bail!("--stages: {} has one stage; raise --subscribers instead", args.scenario.name());
        }
        if args.scenario == Scenario::Broadcast && !(1..=3).contains(&shape.hosts) {
            bail!("--publishers: a broadcast has 1 to 3 hosts");
        }
        if shape.stages == 0 || shape.hosts == 0 || shape.hosts > 12 {
            bail!("--stages at least 1, --publishers 1 to 12 (a stage takes 12 publishers)");
        }
        Ok(shape)
    }

    pub fn subscriptions_per_stage(&self) -> usize {
        self.hosts * (self.hosts - 1) + self.viewers * self.hosts
    }
}

struct StageState {
    stage: StageRef,
    hosts: Vec<PublisherRef>,
    viewers: usize,
}

pub struct MediaRun<'a> {
    args: &'a Args,
    shape: Shape,
    target: Target,
    media: Arc<Media>,
    loops: Vec<LoopHandle>,
    next_loop: AtomicUsize,
    progress: Arc<Progress>,
    sessions: Sessions,
    stages: Vec<StageState>,
    baseline_rss_kib: Option<u64>,
    subscriptions: usize,
    name: String,
    started: Instant,
}

pub fn run(args: &Args) -> Result<Report> {
    let shape = Shape::of(args)?;
    procfs::check_exist(&args.server_pid)?;
    let target = Target::connect(args)?;
    let started = Instant::now();
    eprintln!(
        "troupe-load: encoding the clip ({}x{} H.264 at {} kbps, Opus at {} kbps)…",
        args.video_size.0,
        args.video_size.1,
        args.video_bitrate / 1000,
        args.audio_bitrate / 1000
    );
    let video = shape
        .video
        .then(|| {
            clip::encode_video(VideoSpec {
                width: args.video_size.0,
                height: args.video_size.1,
                fps: args.fps,
                bitrate_bps: args.video_bitrate,
                seconds: 2,
            })
        })
        .transpose()?;
    let audio = clip::encode_audio(args.audio_bitrate, 2)?;
    let threads = args.threads as usize;
    let endpoints = match (args.transport, args.peer_net) {
        (Transport::Tcp, None) => Endpoints::Tcp(args.local_ip),
        (Transport::Udp, Some(prefix)) => Endpoints::shared(prefix, threads)?,
        (Transport::Udp | Transport::Turn, None) => Endpoints::PerPeer(args.local_ip),
        (_, Some(_)) => bail!("--peer-net shares UDP sockets: it goes with --transport udp only"),
    };
    if args.transport != Transport::Udp && args.target != crate::cli::Target::Troupe {
        bail!("--transport {} is for --target troupe", args.transport.name());
    }
    let progress = Arc::new(Progress::default());
    let loops = (0..threads)
        .map(|i| event_loop::spawn(i, args.tick, progress.clone(), endpoints.loop_socket(i)))
        .collect::<std::io::Result<Vec<_>>>()
        .context("starting the event loops")?;
    let media = Arc::new(Media {
        video,
        audio,
        endpoints,
        receive: args.receive,
        transport: args.transport,
    });
    let mut run = MediaRun {
        args,
        shape,
        target,
        media,
        loops,
        next_loop: AtomicUsize::new(0),
        progress,
        sessions: Sessions::default(),
        stages: Vec::new(),
        baseline_rss_kib: procfs::rss_kib_of(&args.server_pid),
        subscriptions: 0,
        name: format!("load-{}-{}", std::process::id(), started.elapsed().as_nanos() % 1_000_000),
        started,
    };
    let mut report = Report::new(args, &run.media);
    let levels = if args.ramp { args.ramp_levels.max(1) } else { 1 };
    for level in 0..levels {
        let result = run.level(level)?;
        let good = result.passes(args.max_loss, args.max_p99);
        eprintln!("{}", result.one_line(good));
        report.levels.push(result);
        if args.ramp && !good {
            break;
        }
    }
    if let Err(e) = run.target.finish(&run.sessions) {
        eprintln!("troupe-load: ending the sessions: {e:#}");
    }
    drop(run.loops);
    report.finish(args);
    Ok(report)
}

impl MediaRun<'_> {
    /// Adds level `level`'s load, waits for it to join, and measures a window.
    fn level(&mut self, level: usize) -> Result<Level> {
        let joined_before = self.progress.joined.load(Ordering::Relaxed);
        let failed_before = self.progress.failed.load(Ordering::Relaxed);
        let new_subscriptions = if level == 0 {
            let mut n = 0;
            for _ in 0..self.shape.stages {
                n += self.add_stage(level)?;
            }
            n
        } else if self.args.scenario == Scenario::Meeting {
            self.add_stage(level)?
        } else {
            let step = self.args.ramp_step.unwrap_or(self.shape.viewers.max(1));
            self.add_viewers(0, step, level)?
        };
        self.subscriptions += new_subscriptions;
        self.wait_for(
            &self.progress.joined,
            joined_before + new_subscriptions as u64,
            failed_before,
            level,
            "joining",
        );
        self.wait(self.args.warmup, level, "warming up");
        self.measure(level)
    }

    /// A stage with its hosts (who subscribe to each other) and viewers; returns how many
    /// subscriptions it made.
    fn add_stage(&mut self, level: usize) -> Result<usize> {
        let index = self.stages.len();
        let stage = self.target.signaler()?.create_stage(&self.name, index)?;
        let names: Vec<String> =
            (0..self.shape.hosts).map(|h| format!("s{index}-host{h}")).collect();
        let publishing_before = self.progress.publishing.load(Ordering::Relaxed);
        let failed_before = self.progress.failed.load(Ordering::Relaxed);
        let hosts = self.parallel(names, |signaler, name| {
            let (peer, host) = signaler.publish(
                &stage,
                &name,
                self.shape.video,
                &self.media,
                level,
                &self.sessions,
            )?;
            self.hand_over(peer);
            Ok(host)
        })?;
        // Subscriptions start once the hosts are connected: Janus refuses to subscribe to a
        // feed whose PeerConnection is not up, and join times then measure the subscription
        // alone, on either server.
        // (Only publishers count: the previous stage's subscriptions may still be connecting.)
        let publishing = publishing_before + hosts.len() as u64;
        self.wait_for(&self.progress.publishing, publishing, failed_before, level, "publishing");
        let mut pairs = Vec::new();
        for (i, me) in hosts.iter().enumerate() {
            for (j, other) in hosts.iter().enumerate() {
                if i != j {
                    pairs.push((me.as_viewer(), other.clone()));
                }
            }
        }
        let made = self.parallel(pairs, |signaler, (me, other)| {
            let peer = signaler.subscribe(
                &me,
                &other,
                self.shape.video,
                &self.media,
                level,
                &self.sessions,
            )?;
            self.hand_over(peer);
            Ok(())
        })?;
        self.stages.push(StageState { stage, hosts, viewers: 0 });
        Ok(made.len() + self.add_viewers(index, self.shape.viewers, level)?)
    }

    /// `count` subscribe-only viewers of stage `index`, each subscribed to every host.
    fn add_viewers(&mut self, index: usize, count: usize, level: usize) -> Result<usize> {
        let Some(state) = self.stages.get(index) else { return Ok(0) };
        let first = state.viewers;
        let names: Vec<String> =
            (first..first + count).map(|v| format!("s{index}-viewer{v}")).collect();
        let viewers =
            self.parallel(names, |signaler, name| signaler.viewer(&state.stage, &name))?;
        let mut pairs = Vec::new();
        for viewer in &viewers {
            for host in &state.hosts {
                pairs.push((viewer.clone(), host.clone()));
            }
        }
        let made = self.parallel(pairs, |signaler, (viewer, host)| {
            let peer = signaler.subscribe(
                &viewer,
                &host,
                self.shape.video,
                &self.media,
                level,
                &self.sessions,
            )?;
            self.hand_over(peer);
            Ok(())
        })?;
        if let Some(state) = self.stages.get_mut(index) {
            state.viewers += count;
        }
        Ok(made.len())
    }

    fn hand_over(&self, peer: crate::peer::Peer) {
        // A peer on a shared socket belongs to the loop that reads that socket.
        let i = peer.loop_index().unwrap_or_else(|| self.next_loop.fetch_add(1, Ordering::Relaxed))
            % self.loops.len();
        self.loops[i].send(Command::Add(Box::new(peer)));
    }

    /// Runs `job` over `items` on `--signaling` threads, each with its own connection. Fails
    /// if any item failed (with the first error and how many there were).
    fn parallel<T: Send, R: Send>(
        &self,
        items: Vec<T>,
        job: impl Fn(&mut Signaler, T) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let total = items.len();
        let queue = Mutex::new(items.into_iter().enumerate().collect::<Vec<_>>());
        let results = Mutex::new(Vec::with_capacity(total));
        let errors = Mutex::new(Vec::new());
        let threads = (self.args.signaling as usize).min(total.max(1));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut signaler = match self.target.signaler() {
                        Ok(s) => s,
                        Err(e) => return errors.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                    };
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                        let Some((i, item)) = next else { return };
                        match job(&mut signaler, item) {
                            Ok(r) => results.lock().unwrap_or_else(|p| p.into_inner()).push((i, r)),
                            Err(e) => errors.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                        }
                    }
                });
            }
        });
        let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(first) = errors.into_iter().next() {
            let failed = total - results.lock().unwrap_or_else(|p| p.into_inner()).len();
            return Err(
                first.context(format!("{failed} of {total} signaling requests failed; the first"))
            );
        }
        let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        results.sort_by_key(|(i, _)| *i);
        Ok(results.into_iter().map(|(_, r)| r).collect())
    }

    /// Waits (up to [`JOIN_TIMEOUT`]) until `counter` plus the failures since `failed_before`
    /// (read when the peers waited for were started) reach `target`.
    fn wait_for(
        &self,
        counter: &std::sync::atomic::AtomicU64,
        target: u64,
        failed_before: u64,
        level: usize,
        what: &str,
    ) {
        let deadline = Instant::now() + JOIN_TIMEOUT;
        let mut line = ProgressLine::new();
        while Instant::now() < deadline {
            let failed = self.progress.failed.load(Ordering::Relaxed) - failed_before;
            if counter.load(Ordering::Relaxed) + failed >= target {
                break;
            }
            line.show(&self.status(level, what));
            std::thread::sleep(Duration::from_millis(100));
        }
        line.end();
    }

    fn wait(&self, duration: Duration, level: usize, what: &str) {
        let end = Instant::now() + duration;
        let mut line = ProgressLine::new();
        while Instant::now() < end {
            line.show(&self.status(level, what));
            std::thread::sleep(
                Duration::from_millis(100).min(end.saturating_duration_since(Instant::now())),
            );
        }
        line.end();
    }

    fn status(&self, level: usize, what: &str) -> String {
        let p = &self.progress;
        let server = procfs::rss_kib_of(&self.args.server_pid)
            .map_or(String::new(), |kib| format!(" | server RSS {:.0} MB", kib as f64 / 1024.0));
        format!(
            "[{} {} level {level}] {what} {:>4.0}s | peers {} joined {}/{} failed {} | rx {} pkts | out {} dgrams{server}",
            self.args.scenario.name(),
            self.args.target.name(),
            self.started.elapsed().as_secs_f64(),
            p.peers.load(Ordering::Relaxed),
            p.joined.load(Ordering::Relaxed),
            self.subscriptions,
            p.failed.load(Ordering::Relaxed),
            p.received.load(Ordering::Relaxed),
            p.datagrams_out.load(Ordering::Relaxed),
        )
    }

    fn measure(&self, level: usize) -> Result<Level> {
        let pids = &self.args.server_pid;
        let cpu_before = procfs::cpu_time_of(pids);
        let own_before = procfs::own_cpu_time();
        let started = Instant::now();
        for l in &self.loops {
            l.send(Command::BeginWindow);
        }
        self.wait(self.args.duration, level, "measuring");
        let (tx, rx) = mpsc::channel();
        for l in &self.loops {
            l.send(Command::EndWindow(tx.clone()));
        }
        drop(tx);
        let mut tally = Tally::default();
        for part in rx.iter().take(self.loops.len()) {
            tally.merge(part);
        }
        let window = started.elapsed();
        let own_cpu = procfs::own_cpu_time().saturating_sub(own_before);
        let server_cpu =
            procfs::cpu_time_of(pids).zip(cpu_before).map(|(a, b)| a.saturating_sub(b));
        let rss = procfs::rss_kib_of(pids);
        let mut joins = Histogram::default();
        for &(_, micros) in tally.joins.iter().filter(|(group, _)| *group == level) {
            joins.record(micros);
        }
        for (_, why) in tally.failures.iter().take(3) {
            eprintln!("troupe-load: a peer failed: {why}");
        }
        let publishers: usize = self.stages.iter().map(|s| s.hosts.len()).sum();
        Ok(Level::new(crate::report::LevelInput {
            level,
            stages: self.stages.len(),
            publishers,
            viewers: self.stages.iter().map(|s| s.viewers).sum(),
            subscriptions: self.subscriptions,
            failures: tally.failures.len(),
            window,
            tally: &tally,
            joins: &joins,
            server_cpu,
            own_cpu,
            rss_kib: rss,
            baseline_rss_kib: self.baseline_rss_kib,
        }))
    }
}

/// The progress line on stderr: rewritten in place on a terminal, a line every 5 s otherwise.
struct ProgressLine {
    terminal: bool,
    last: Option<Instant>,
    shown: bool,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine { terminal: std::io::stderr().is_terminal(), last: None, shown: false }
    }

    fn show(&mut self, text: &str) {
        let every = if self.terminal { Duration::from_millis(250) } else { Duration::from_secs(5) };
        if self.last.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        if self.terminal {
            eprint!("\r\x1b[2K{text}");
        } else {
            eprintln!("{text}");
        }
        self.shown = true;
    }

    fn end(&mut self) {
        if self.terminal && self.shown {
            eprintln!();
        }
    }
}

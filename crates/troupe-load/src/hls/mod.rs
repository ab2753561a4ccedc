//! `troupe-load hls`: simulated HLS viewers of one live channel over HTTP/1.1 — low-latency
//! players (blocking playlist reload, then the new part) or plain polling players — started
//! over `--ramp-up`, measured over a window: requests/s, stalled viewers, how late parts
//! arrive after their media ended, the server's and the tool's CPU per 1000 requests.
//!
//! - [`playlist`]: the media playlist as a player reads it; [`client`]: one keep-alive
//!   connection per viewer (tokio); [`viewer`]: the two players.

pub mod client;
pub mod playlist;
pub mod viewer;

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::{cli::Args, histogram::Histogram, procfs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Low-latency HLS: blocking reload (_HLS_msn/_HLS_part), then the new part.
    Ll,
    /// Plain HLS: the playlist every --poll-interval, then each new segment.
    Poll,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub mode: &'static str,
    pub viewers: usize,
    pub window_s: f64,
    pub requests: u64,
    pub playlist_requests: u64,
    pub media_requests: u64,
    pub requests_per_s: f64,
    pub mbit_per_s: f64,
    pub errors: u64,
    /// Media received before its PROGRAM-DATE-TIME end (counted as 0 ms late).
    pub early: u64,
    pub last_error: Option<String>,
    /// Viewers that stalled at least once in the window, and stalls in all.
    pub stalled_viewers: usize,
    pub stalls: u64,
    /// Viewers that completed no media request in the window.
    pub silent_viewers: usize,
    pub lateness_p50_ms: Option<f64>,
    pub lateness_p99_ms: Option<f64>,
    pub lateness_max_ms: Option<f64>,
    pub playlist_response_p50_ms: Option<f64>,
    pub playlist_response_p99_ms: Option<f64>,
    pub media_response_p50_ms: Option<f64>,
    pub media_response_p99_ms: Option<f64>,
    pub server_cpu_pct: Option<f64>,
    pub server_cpu_ms_per_1000_requests: Option<f64>,
    pub tool_cpu_pct: f64,
    pub tool_cpu_ms_per_1000_requests: f64,
}

fn ms(h: &Histogram, q: f64) -> Option<f64> {
    (h.count() > 0).then(|| h.quantile(q) as f64 / 1000.0)
}

impl Report {
    pub fn table(&self) -> String {
        let opt = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
        };
        format!(
            "| mode | viewers | req/s | Mbit/s | stalled viewers | errors | lateness p50 / p99 / max ms | playlist p50 / p99 ms | media p50 / p99 ms | server CPU % | server ms CPU / 1000 req | tool CPU % | tool ms / 1000 req |\n\
|---|---|---|---|---|---|---|---|---|---|---|---|---|\n\
| {} | {} | {:.0} | {:.0} | {} ({} stalls, {} silent) | {} | {} / {} / {} | {} / {} | {} / {} | {} | {} | {:.0} | {:.1} |\n",
            self.mode,
            self.viewers,
            self.requests_per_s,
            self.mbit_per_s,
            self.stalled_viewers,
            self.stalls,
            self.silent_viewers,
            self.errors,
            opt(self.lateness_p50_ms, 0),
            opt(self.lateness_p99_ms, 0),
            opt(self.lateness_max_ms, 0),
            opt(self.playlist_response_p50_ms, 1),
            opt(self.playlist_response_p99_ms, 1),
            opt(self.media_response_p50_ms, 1),
            opt(self.media_response_p99_ms, 1),
            opt(self.server_cpu_pct, 0),
            opt(self.server_cpu_ms_per_1000_requests, 1),
            self.tool_cpu_pct,
            self.tool_cpu_ms_per_1000_requests,
        )
    }
}

pub fn run(args: &Args) -> Result<Report> {
    let viewers = args.viewers.context("hls needs --viewers")?;
    if viewers == 0 {
        bail!("--viewers must be at least 1");
    }
    procfs::check_exist(&args.server_pid)?;
    let (addr, host, path) = crate::http::parse_url(&args.url)?;
    let Some(slash) = path.rfind('/') else {
        bail!("--url {}: give the media playlist's URL", args.url)
    };
    let source = Arc::new(viewer::Source {
        addr,
        host,
        dir: path[..=slash].to_string(),
        playlist: path.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.threads))
        .enable_all()
        .build()?;
    let shared = Arc::new(viewer::Shared::new(viewers));
    let report = runtime.block_on(async {
        // The playlist must be there before anyone starts (the channel is live).
        let mut probe = client::Connection::new(addr, &source.host, "troupe-load-hls/probe".into());
        let status = probe.get(&source.playlist).await?;
        if status != 200 {
            bail!("{}: {status} {}", args.url, String::from_utf8_lossy(&probe.body).trim());
        }
        let started = Instant::now();
        for id in 0..viewers {
            let at = started + args.ramp_up.mul_f64(id as f64 / viewers as f64);
            let viewer = viewer::Viewer {
                id,
                shared: shared.clone(),
                source: source.clone(),
                stall_after: args.stall,
            };
            let interval = args.poll_interval;
            let mode = args.hls_mode;
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                match mode {
                    Mode::Ll => viewer.low_latency().await,
                    Mode::Poll => {
                        let phase = interval.mul_f64((id as f64 * 0.618_033_99).fract());
                        viewer.polling(interval, phase).await
                    }
                }
            });
        }
        eprintln!(
            "hls: {viewers} {} viewers starting over {:?}, then {:?} warm-up and a {:?} window",
            mode_name(args.hls_mode),
            args.ramp_up,
            args.warmup,
            args.duration
        );
        tokio::time::sleep(args.ramp_up + args.warmup).await;
        let cpu_before = procfs::cpu_time_of(&args.server_pid);
        let tool_before = procfs::own_cpu_time();
        let opened = Instant::now();
        shared.measuring.store(true, Relaxed);
        let mut last = Instant::now();
        while opened.elapsed() < args.duration {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                let t = opened.elapsed().as_secs_f64();
                let requests =
                    shared.playlist_requests.load(Relaxed) + shared.media_requests.load(Relaxed);
                let stalled = shared.stalls.iter().filter(|s| s.load(Relaxed) > 0).count();
                eprintln!(
                    "hls: {t:.0} s: {:.0} req/s, {stalled} viewers stalled, {} errors",
                    requests as f64 / t,
                    shared.errors.load(Relaxed)
                );
            }
        }
        shared.measuring.store(false, Relaxed);
        let window = opened.elapsed();
        let server_cpu =
            procfs::cpu_time_of(&args.server_pid).zip(cpu_before).map(|(a, b)| a.saturating_sub(b));
        let tool_cpu = procfs::own_cpu_time().saturating_sub(tool_before);
        shared.stop.store(true, Relaxed);
        Ok::<_, anyhow::Error>(summarize(args, viewers, &shared, window, server_cpu, tool_cpu))
    })?;
    // Viewers blocked in a request are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(report)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Ll => "ll",
        Mode::Poll => "poll",
    }
}

fn summarize(
    args: &Args,
    viewers: usize,
    shared: &viewer::Shared,
    window: Duration,
    server_cpu: Option<Duration>,
    tool_cpu: Duration,
) -> Report {
    let secs = window.as_secs_f64();
    let playlist_requests = shared.playlist_requests.load(Relaxed);
    let media_requests = shared.media_requests.load(Relaxed);
    let requests = playlist_requests + media_requests;
    let per_1000 = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / (requests.max(1) as f64 / 1000.0);
    let lateness = shared.lateness();
    let playlist = shared.playlist_response();
    let media = shared.media_response();
    let stalled_viewers = shared.stalls.iter().filter(|s| s.load(Relaxed) > 0).count();
    let stalls = shared.stalls.iter().map(|s| u64::from(s.load(Relaxed))).sum();
    Report {
        url: args.url.clone(),
        mode: mode_name(args.hls_mode),
        viewers,
        window_s: secs,
        requests,
        playlist_requests,
        media_requests,
        requests_per_s: requests as f64 / secs,
        mbit_per_s: shared.bytes.load(Relaxed) as f64 * 8.0 / secs / 1e6,
        errors: shared.errors.load(Relaxed),
        early: shared.early.load(Relaxed),
        last_error: shared.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        stalled_viewers,
        stalls,
        silent_viewers: shared.got.iter().filter(|g| g.load(Relaxed) == 0).count(),
        lateness_p50_ms: ms(&lateness, 0.5),
        lateness_p99_ms: ms(&lateness, 0.99),
        lateness_max_ms: (lateness.count() > 0).then(|| lateness.max() as f64 / 1000.0),
        playlist_response_p50_ms: ms(&playlist, 0.5),
        playlist_response_p99_ms: ms(&playlist, 0.99),
        media_response_p50_ms: ms(&media, 0.5),
        media_response_p99_ms: ms(&media, 0.99),
        server_cpu_pct: server_cpu.map(|c| c.as_secs_f64() * 100.0 / secs),
        server_cpu_ms_per_1000_requests: server_cpu.map(per_1000),
        tool_cpu_pct: tool_cpu.as_secs_f64() * 100.0 / secs,
        tool_cpu_ms_per_1000_requests: per_1000(tool_cpu),
    }
}

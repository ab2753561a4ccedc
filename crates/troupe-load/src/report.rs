//! What a run found: one [`Level`] per measurement window, the summary table, and the JSON
//! (`--json`). The top-level JSON figures are those of the last level (without --ramp, the
//! only one) or, for a ramp, of the last good level.

use std::time::Duration;

use serde::Serialize;

use crate::{
    cli::Args,
    histogram::Histogram,
    peer::{Media, Tally},
};

#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub level: usize,
    pub stages: usize,
    pub publishers: usize,
    pub viewers: usize,
    pub subscriptions: usize,
    pub failures: usize,
    pub window_s: f64,
    /// RTP packets the publishers sent in the window.
    pub packets_sent: u64,
    /// RTP packets the subscriptions received in the window: what the server forwarded.
    pub packets_forwarded: u64,
    pub packets_expected: u64,
    pub packets_unstamped: u64,
    pub packets_reordered: u64,
    /// Packets that did not authenticate (direct receive): counted as lost.
    pub packets_rejected: u64,
    pub forwarded_per_s: f64,
    pub loss_pct: f64,
    pub delay_p50_ms: f64,
    pub delay_p90_ms: f64,
    pub delay_p99_ms: f64,
    pub delay_p999_ms: f64,
    pub delay_max_ms: f64,
    pub join_count: u64,
    pub join_p50_ms: f64,
    pub join_p99_ms: f64,
    pub server_cpu_s: Option<f64>,
    pub server_cpu_pct: Option<f64>,
    pub server_cpu_us_per_packet: Option<f64>,
    pub server_rss_mb: Option<f64>,
    pub server_rss_per_subscription_kb: Option<f64>,
    pub tool_cpu_pct: f64,
    pub tool_cpu_us_per_packet: f64,
    /// The tool's CPU per packet over the server's: how much of the machine the measuring
    /// takes compared with what is measured.
    pub tool_to_server_cpu: Option<f64>,
}

pub struct LevelInput<'a> {
    pub level: usize,
    pub stages: usize,
    pub publishers: usize,
    pub viewers: usize,
    pub subscriptions: usize,
    pub failures: usize,
    pub window: Duration,
    pub tally: &'a Tally,
    pub joins: &'a Histogram,
    pub server_cpu: Option<Duration>,
    pub own_cpu: Duration,
    pub rss_kib: Option<u64>,
    pub baseline_rss_kib: Option<u64>,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

impl Level {
    pub fn new(i: LevelInput<'_>) -> Level {
        let t = i.tally;
        let secs = i.window.as_secs_f64().max(1e-9);
        let forwarded = t.received;
        let per_packet = |cpu: Duration| {
            if forwarded == 0 { 0.0 } else { round(cpu.as_secs_f64() * 1e6 / forwarded as f64, 3) }
        };
        let lost = t.expected.saturating_sub(t.received);
        Level {
            level: i.level,
            stages: i.stages,
            publishers: i.publishers,
            viewers: i.viewers,
            subscriptions: i.subscriptions,
            failures: i.failures,
            window_s: round(secs, 2),
            packets_sent: t.sent,
            packets_forwarded: forwarded,
            packets_expected: t.expected,
            packets_unstamped: t.unstamped,
            packets_reordered: t.reordered,
            packets_rejected: t.rejected,
            forwarded_per_s: round(forwarded as f64 / secs, 1),
            loss_pct: if t.expected == 0 {
                0.0
            } else {
                round(100.0 * lost as f64 / t.expected as f64, 4)
            },
            delay_p50_ms: ms(t.delay.quantile(0.5)),
            delay_p90_ms: ms(t.delay.quantile(0.9)),
            delay_p99_ms: ms(t.delay.quantile(0.99)),
            delay_p999_ms: ms(t.delay.quantile(0.999)),
            delay_max_ms: ms(t.delay.max()),
            join_count: i.joins.count(),
            join_p50_ms: ms(i.joins.quantile(0.5)),
            join_p99_ms: ms(i.joins.quantile(0.99)),
            server_cpu_s: i.server_cpu.map(|c| round(c.as_secs_f64(), 3)),
            server_cpu_pct: i.server_cpu.map(|c| round(100.0 * c.as_secs_f64() / secs, 1)),
            server_cpu_us_per_packet: i.server_cpu.map(per_packet),
            server_rss_mb: i.rss_kib.map(|k| round(k as f64 / 1024.0, 1)),
            server_rss_per_subscription_kb: i.rss_kib.zip(i.baseline_rss_kib).map(|(now, base)| {
                round(now.saturating_sub(base) as f64 / i.subscriptions.max(1) as f64, 1)
            }),
            tool_cpu_pct: round(100.0 * i.own_cpu.as_secs_f64() / secs, 1),
            tool_cpu_us_per_packet: per_packet(i.own_cpu),
            tool_to_server_cpu: i
                .server_cpu
                .filter(|c| !c.is_zero())
                .map(|c| round(i.own_cpu.as_secs_f64() / c.as_secs_f64(), 3)),
        }
    }

    /// Whether a ramp may go on from this level: no failed peer, loss and p99 delay within
    /// the limits, and packets actually flowed.
    pub fn passes(&self, max_loss_pct: f64, max_p99: Duration) -> bool {
        self.failures == 0
            && self.packets_forwarded > 0
            && self.loss_pct <= max_loss_pct
            && self.delay_p99_ms <= max_p99.as_secs_f64() * 1000.0
    }

    pub fn one_line(&self, good: bool) -> String {
        format!(
            "level {}: {} subscriptions, {:.0} pkt/s forwarded, loss {:.3} %, delay p50 {:.2} ms p99 {:.2} ms, server {} µs/pkt, tool {:.2} µs/pkt — {}",
            self.level,
            self.subscriptions,
            self.forwarded_per_s,
            self.loss_pct,
            self.delay_p50_ms,
            self.delay_p99_ms,
            self.server_cpu_us_per_packet.map_or("?".into(), |v| format!("{v:.2}")),
            self.tool_cpu_us_per_packet,
            if good { "good" } else { "over the limits" }
        )
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub target: String,
    pub url: String,
    pub date: String,
    pub ramp: bool,
    pub media: MediaInfo,
    /// How subscribers took in media (`direct` or `str0m`), and whether they NACKed losses
    /// (with `direct` they do not: loss is measured without repair).
    pub receive: String,
    pub nack_repair: bool,
    /// Whether peers shared a socket per event loop (`--peer-net`) or had one each.
    pub peer_sockets: String,
    /// How peers reached the server's media: `udp`, `tcp` (ICE-TCP) or `turn` (a relay).
    pub transport: String,
    pub levels: Vec<Level>,
    /// The ramp's last level within the limits (stages for a meeting, viewers otherwise).
    pub last_good_level: Option<usize>,
    pub last_good_load: Option<usize>,
    // The figures the issue asks for, from the reported level.
    pub server_cpu_us_per_packet: Option<f64>,
    pub loss_pct: f64,
    pub delay_p50_ms: f64,
    pub delay_p99_ms: f64,
    pub join_p50_ms: f64,
    pub join_p99_ms: f64,
    pub server_rss_mb: Option<f64>,
    pub server_rss_per_subscription_kb: Option<f64>,
    pub packets_forwarded: u64,
    pub tool_cpu_us_per_packet: f64,
    pub tool_to_server_cpu: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct MediaInfo {
    pub video: Option<String>,
    pub video_encoded_kbps: Option<u64>,
    pub audio_encoded_kbps: u64,
}

impl Report {
    pub fn new(args: &Args, media: &Media) -> Report {
        Report {
            scenario: args.scenario.name().into(),
            target: args.target.name().into(),
            url: args.url.clone(),
            date: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            ramp: args.ramp,
            media: MediaInfo {
                video: media
                    .video
                    .as_ref()
                    .map(|v| format!("H.264 {}x{} {} fps", v.width, v.height, v.fps)),
                video_encoded_kbps: media.video.as_ref().map(|v| v.encoded_bps / 1000),
                audio_encoded_kbps: media.audio.encoded_bps / 1000,
            },
            receive: args.receive.name().into(),
            nack_repair: args.receive == crate::peer::ReceivePath::Str0m,
            peer_sockets: if args.peer_net.is_some() { "shared" } else { "per-peer" }.into(),
            transport: args.transport.name().into(),
            levels: Vec::new(),
            last_good_level: None,
            last_good_load: None,
            server_cpu_us_per_packet: None,
            loss_pct: 0.0,
            delay_p50_ms: 0.0,
            delay_p99_ms: 0.0,
            join_p50_ms: 0.0,
            join_p99_ms: 0.0,
            server_rss_mb: None,
            server_rss_per_subscription_kb: None,
            packets_forwarded: 0,
            tool_cpu_us_per_packet: 0.0,
            tool_to_server_cpu: None,
        }
    }

    pub fn finish(&mut self, args: &Args) {
        let good: Vec<&Level> =
            self.levels.iter().filter(|l| l.passes(args.max_loss, args.max_p99)).collect();
        let last_good = if args.ramp {
            // Levels pass in order until one fails; the last good one is before it.
            self.levels.iter().take_while(|l| l.passes(args.max_loss, args.max_p99)).last()
        } else {
            good.last().copied()
        };
        self.last_good_level = last_good.map(|l| l.level);
        self.last_good_load =
            last_good.map(|l| if self.scenario == "meeting" { l.stages } else { l.viewers });
        let shown = if args.ramp { last_good.or(self.levels.first()) } else { self.levels.last() };
        if let Some(l) = shown {
            self.server_cpu_us_per_packet = l.server_cpu_us_per_packet;
            self.loss_pct = l.loss_pct;
            self.delay_p50_ms = l.delay_p50_ms;
            self.delay_p99_ms = l.delay_p99_ms;
            self.join_p50_ms = l.join_p50_ms;
            self.join_p99_ms = l.join_p99_ms;
            self.server_rss_mb = l.server_rss_mb;
            self.server_rss_per_subscription_kb = l.server_rss_per_subscription_kb;
            self.packets_forwarded = l.packets_forwarded;
            self.tool_cpu_us_per_packet = l.tool_cpu_us_per_packet;
            self.tool_to_server_cpu = l.tool_to_server_cpu;
        }
    }

    /// The summary table (stdout).
    pub fn table(&self) -> String {
        let opt =
            |v: Option<f64>, places: usize| v.map_or("-".to_string(), |v| format!("{v:.places$}"));
        let mut out = format!(
            "{} on {} ({}), media: {}{} kbps Opus\n",
            self.scenario,
            self.target,
            self.url,
            self.media.video.as_ref().map_or(String::new(), |v| format!(
                "{v} at {} kbps + ",
                self.media.video_encoded_kbps.unwrap_or(0)
            )),
            self.media.audio_encoded_kbps
        );
        out.push_str(&format!(
            "subscribers: {}; peers on {} sockets, media over {}\n",
            if self.nack_repair {
                "str0m receive path, losses NACKed and repaired before counting"
            } else {
                "SRTP decrypted directly, no NACKs (loss without repair)"
            },
            self.peer_sockets,
            match self.transport.as_str() {
                "tcp" => "ICE-TCP",
                "turn" => "TURN relays",
                _ => "UDP",
            }
        ));
        out.push_str(
            "level stages pubs viewers subs  fwd pkt/s  loss %  delay p50/p99/max ms  join p50/p99 ms  server µs/pkt  cpu %  RSS MB  KB/sub  tool µs/pkt  tool/server  failed\n",
        );
        for l in &self.levels {
            out.push_str(&format!(
                "{:>5} {:>6} {:>4} {:>7} {:>4} {:>10.0} {:>7.3} {:>8.2}/{:.2}/{:.1} {:>9.1}/{:.1} {:>14} {:>6} {:>7} {:>7} {:>12.2} {:>12} {:>7}\n",
                l.level,
                l.stages,
                l.publishers,
                l.viewers,
                l.subscriptions,
                l.forwarded_per_s,
                l.loss_pct,
                l.delay_p50_ms,
                l.delay_p99_ms,
                l.delay_max_ms,
                l.join_p50_ms,
                l.join_p99_ms,
                opt(l.server_cpu_us_per_packet, 2),
                opt(l.server_cpu_pct, 0),
                opt(l.server_rss_mb, 0),
                opt(l.server_rss_per_subscription_kb, 0),
                l.tool_cpu_us_per_packet,
                opt(l.tool_to_server_cpu, 2),
                l.failures,
            ));
        }
        if self.ramp {
            match (self.last_good_level, self.last_good_load) {
                (Some(level), Some(load)) => out.push_str(&format!(
                    "last good level: {level} ({load} {})\n",
                    if self.scenario == "meeting" { "stages" } else { "viewers" }
                )),
                _ => out.push_str("last good level: none (the first level was over the limits)\n"),
            }
        }
        out
    }
}

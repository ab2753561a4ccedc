//! The command line: which scenario, against what, how big, for how long.

use std::{path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  troupe-load meeting --url http://127.0.0.1:7800 --stages 2 --duration 30s --server-pid $(pidof troupe)
  troupe-load broadcast --url http://127.0.0.1:7800 --publishers 2 --subscribers 100 --json out.json
  troupe-load audio-room --url http://127.0.0.1:7800 --subscribers 50 --ramp --duration 10s
  troupe-load meeting --target janus --url http://127.0.0.1:8088 --stages 1
  troupe-load control --url http://127.0.0.1:7800 --concurrency 16 --duration 10s
  troupe-load hls --url http://127.0.0.1:7800/playback/CHANNEL/media.m3u8 --viewers 5000 --ramp-up 10s
  troupe-load hls --hls-mode poll --url http://127.0.0.1:8080/hls/stream.m3u8 --viewers 5000

What is measured (over a window of --duration, after every subscription received its first
packet and --warmup passed):
  loss         per subscribed stream, packets missing by sequence number (without repair: the
               subscribers send no NACKs, unless --receive str0m)
  delay        kernel receive time minus the publisher's send stamp (same host clock)
  join         from the subscribe request (WHIP POST, Janus join) to the first forwarded packet
  server CPU   utime+stime of --server-pid over the window, per packet the subscribers received
  RSS          the server's resident memory, and its growth per subscription since the start
hls (HLS viewers of one live channel, a keep-alive connection each):
  requests/s   playlist and media (part, segment) requests completed in the window
  lateness     a part's last byte received minus its media's wall-clock end
               (EXT-X-PROGRAM-DATE-TIME + duration)
  stalls       ll: a part later than a part's duration (or --stall); poll: a response slower
               than the target duration (or --stall)
  server CPU   per 1000 requests, and the tool's own
The tool reports its own CPU per packet too. The Troupe target needs SigV4 credentials
(--access-key-id/--secret-access-key, `troupe serve --dev` uses devkey/devsecret).

Exit status: 0 when the run completed (even with loss), 1 when it could not run (server not
reachable, refused requests), 2 for bad flags.";

#[derive(Debug, Parser)]
#[command(
    name = "troupe-load",
    version,
    about = "Simulated stage participants over real WebRTC and UDP, against Troupe or Janus",
    long_about = "Simulated stage participants over real WebRTC and UDP, against Troupe (WHIP and the \
IVS API) or Janus (VideoRoom). Publishers send real H.264 (OpenH264, a keyframe every 2 s) and \
Opus (20 ms) paced like an encoder, each packet stamped with its send time; subscribers check \
sequence continuity and measure forwarding delay and join time. Prints a progress line, a \
summary table, and with --json the figures as JSON.",
    after_long_help = EXAMPLES
)]
pub struct Args {
    /// meeting: K stages × P hosts, everyone subscribed to everyone (video + audio).
    /// broadcast: one stage, 1–3 hosts, N subscribe-only viewers.
    /// audio-room: one stage, 12 audio-only hosts, N listeners.
    /// control: the IVS API (CreateParticipantToken, GetStage, ListStages) at a concurrency.
    /// hls: --viewers HLS players of one live channel (--url: its media playlist).
    #[arg(value_enum, verbatim_doc_comment)]
    pub scenario: Scenario,

    /// The server: Troupe's HTTP address (http://127.0.0.1:7800), or Janus's HTTP API
    /// (http://127.0.0.1:8088, /janus is added).
    #[arg(long)]
    pub url: String,

    #[arg(long, value_enum, default_value_t = Target::Troupe)]
    pub target: Target,

    /// Stages (meeting; default 2). With --ramp, the first level.
    #[arg(long)]
    pub stages: Option<usize>,

    /// Publishing hosts per stage (meeting: default 12; broadcast: 1–3, default 1;
    /// audio-room: 12).
    #[arg(long)]
    pub publishers: Option<usize>,

    /// Subscribe-only viewers per stage (broadcast: default 50; audio-room: default 20;
    /// meeting: default 0). With --ramp, the first level.
    #[arg(long)]
    pub subscribers: Option<usize>,

    /// How long each measurement window lasts (e.g. 30s, 2m, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Settling time after the last join, before a window opens.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Raise the load level by level (meeting: one more stage; broadcast and audio-room:
    /// --ramp-step more viewers) until loss exceeds --max-loss or p99 delay exceeds --max-p99,
    /// and report the last good level.
    #[arg(long)]
    pub ramp: bool,

    /// Viewers added per ramp level (broadcast, audio-room; default: --subscribers).
    #[arg(long)]
    pub ramp_step: Option<usize>,

    /// The most levels a ramp tries.
    #[arg(long, default_value_t = 12)]
    pub ramp_levels: usize,

    /// Loss above this (percent) fails a ramp level.
    #[arg(long, default_value_t = 0.5)]
    pub max_loss: f64,

    /// A p99 forwarding delay above this fails a ramp level.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    pub max_p99: Duration,

    /// The server's process id: its CPU time and RSS are read from /proc. Several, comma
    /// separated, are added up: a server with an external TURN server is both processes.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,

    /// Write the figures to this file as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Video size, WIDTHxHEIGHT (the width a multiple of 16).
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub video_size: (u32, u32),

    /// Video bitrate the encoder aims at (e.g. 1500k, 2.5M).
    #[arg(long, default_value = "1500k", value_parser = parse_bitrate)]
    pub video_bitrate: u32,

    /// Video frames per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub fps: u32,

    /// Opus bitrate.
    #[arg(long, default_value = "32k", value_parser = parse_bitrate)]
    pub audio_bitrate: u32,

    /// The address the peers' UDP sockets bind (the side of the network facing the server,
    /// e.g. a veth into the server's network namespace).
    #[arg(long, default_value = "127.0.0.1")]
    pub local_ip: std::net::Ipv4Addr,

    /// Give each peer an address of its own from this IPv4 prefix (e.g. 10.200.0.0/16), all
    /// on one socket per event loop, instead of a socket per peer on --local-ip: far fewer
    /// system calls per packet. The prefix must be local to this host (`ip route add local
    /// 10.200.0.0/16 dev lo`) and routed to it from the server; 127.0.0.0/8 already is.
    #[arg(long)]
    pub peer_net: Option<crate::endpoint::Prefix>,

    /// How peers reach the server's media: `udp` (host candidates), `tcp` (ICE over TCP: a
    /// connection per peer to the server's passive TCP candidate, RFC 6544), or `turn` (a
    /// relay allocation per peer on the server's TURN, with the credentials of its WHIP
    /// answer). Troupe only.
    #[arg(long, value_enum, default_value_t = crate::peer::Transport::Udp)]
    pub transport: crate::peer::Transport,

    /// How subscribers take in media: `direct` decrypts each SRTP packet with the session's
    /// keys and counts it (str0m sees only STUN, DTLS and RTCP; no NACKs, so loss is measured
    /// without repair); `str0m` hands every packet to str0m (NACK/RTX repair before counting,
    /// several times the tool's CPU per packet).
    #[arg(long, value_enum, default_value_t = crate::peer::ReceivePath::Direct)]
    pub receive: crate::peer::ReceivePath,

    /// Event loop threads driving the peers.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,

    /// Signaling requests in flight at once while peers join.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub signaling: u16,

    /// How often peers get the time (str0m timers, frames due) at the least.
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    pub tick: Duration,

    /// control: requests in flight (one keep-alive connection each).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// hls: simulated players.
    #[arg(long)]
    pub viewers: Option<usize>,

    /// hls: `ll` (blocking playlist reload, then the new part) or `poll` (plain HLS).
    #[arg(long, value_enum, default_value_t = crate::hls::Mode::Ll)]
    pub hls_mode: crate::hls::Mode,

    /// hls: the viewers start evenly spread over this long.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub ramp_up: Duration,

    /// hls poll: how often a viewer reloads the playlist.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub poll_interval: Duration,

    /// hls: a part (ll) or response (poll) later than this is a stall (default: the part
    /// target, or the target duration).
    #[arg(long, value_parser = parse_duration)]
    pub stall: Option<Duration>,

    #[arg(long, env = "TROUPE_LOAD_ACCESS_KEY_ID", default_value = "devkey")]
    pub access_key_id: String,

    #[arg(
        long,
        env = "TROUPE_LOAD_SECRET_ACCESS_KEY",
        default_value = "devsecret",
        hide_env_values = true
    )]
    pub secret_access_key: String,

    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Meeting,
    Broadcast,
    AudioRoom,
    Control,
    Hls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Troupe,
    Janus,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Meeting => "meeting",
            Scenario::Broadcast => "broadcast",
            Scenario::AudioRoom => "audio-room",
            Scenario::Control => "control",
            Scenario::Hls => "hls",
        }
    }
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Troupe => "troupe",
            Target::Janus => "janus",
        }
    }
}

/// `30s`, `2m`, `500ms`, `1.5s`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 2m, 500ms)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s or m")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("{text:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `1500k`, `2.5M`, or plain bits per second.
pub fn parse_bitrate(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let (number, factor) = match text.chars().last() {
        Some('k' | 'K') => (&text[..text.len() - 1], 1e3),
        Some('m' | 'M') => (&text[..text.len() - 1], 1e6),
        _ => (text, 1.0),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a bitrate (e.g. 1500k, 2M)"))?;
    let bps = value * factor;
    if !(1000.0..=50e6).contains(&bps) {
        return Err(format!("{text:?}: a bitrate between 1k and 50M"));
    }
    Ok(bps as u32)
}

/// `1280x720`.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not WIDTHxHEIGHT (e.g. 1280x720)");
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if w == 0 || h == 0 || !w.is_multiple_of(16) || !h.is_multiple_of(2) || w > 3840 || h > 2160 {
        return Err(format!(
            "{text:?}: the width a multiple of 16, the height even, at most 3840x2160"
        ));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_bitrates_and_sizes_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
        assert_eq!(parse_bitrate("1500k"), Ok(1_500_000));
        assert_eq!(parse_bitrate("2.5M"), Ok(2_500_000));
        assert!(parse_bitrate("fast").is_err());
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("1279x720").is_err());
    }

    #[test]
    fn the_command_line_parses() {
        let args = Args::try_parse_from([
            "troupe-load",
            "audio-room",
            "--url",
            "http://127.0.0.1:1",
            "--ramp",
        ])
        .unwrap();
        assert_eq!(args.scenario, Scenario::AudioRoom);
        assert!(args.ramp);
        assert!(Args::try_parse_from(["troupe-load", "party", "--url", "x"]).is_err());
        assert!(Args::try_parse_from(["troupe-load", "meeting"]).is_err(), "--url is required");
    }
}

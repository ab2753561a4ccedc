//! `troupe-load`: simulated stage participants over real WebRTC and UDP, against Troupe or
//! Janus, and a control-plane benchmark. The binary is [`main_with_args`]; the tests call it
//! the same way.
//!
//! - [`cli`]: the command line. [`run`]: a media run, level by level; [`control`]: the
//!   control-plane benchmark. [`report`]: the table and the JSON.
//! - [`target`]: signaling with Troupe (IVS API with SigV4, WHIP) or Janus (VideoRoom).
//! - [`peer`]: one WebRTC connection (str0m, RTP mode) publishing the clip or checking what it
//!   receives ([`receive`]); [`event_loop`]: a thread driving many of them; [`endpoint`]: a
//!   socket per peer or one shared per loop; [`udp`]: batched, timestamped socket I/O; [`media`]: the encoded clip, H.264 packetization, send-time
//!   stamps.
//! - The subscribers' direct receive path: [`keytap`] (the SRTP keys of str0m's DTLS
//!   handshake), [`srtp`] (decryption), [`rtp`] (headers).
//! - [`histogram`], [`procfs`] (CPU and RSS), [`http`] (a small HTTP/1.1 client).
//! - [`hls`]: simulated HLS viewers of a live channel (tokio, a connection each).
//!
//! Must not touch: the server's crates. It is a client, and talks to servers only over the
//! network, as any other client does.

pub mod cli;
pub mod control;
pub mod endpoint;
pub mod event_loop;
pub mod histogram;
pub mod hls;
pub mod http;
pub mod keytap;
pub mod media;
pub mod peer;
pub mod procfs;
pub mod receive;
pub mod report;
pub mod rtp;
pub mod run;
pub mod srtp;
pub mod target;
pub mod tcp;
pub mod turn_link;
pub mod udp;

use clap::Parser;

/// Runs the tool with a command line (program name first); returns the exit status.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match cli::Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match execute(&args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("troupe-load: {e:#}");
            1
        }
    }
}

fn execute(args: &cli::Args) -> anyhow::Result<()> {
    let json = if args.scenario == cli::Scenario::Hls {
        let report = hls::run(args)?;
        print!("{}", report.table());
        serde_json::to_string_pretty(&report)?
    } else if args.scenario == cli::Scenario::Control {
        let report = control::run(args)?;
        print!("{}", report.table());
        serde_json::to_string_pretty(&report)?
    } else {
        let report = run::run(args)?;
        print!("{}", report.table());
        serde_json::to_string_pretty(&report)?
    };
    if let Some(path) = &args.json {
        std::fs::write(path, json + "\n")
            .map_err(|e| anyhow::anyhow!("--json {}: {e}", path.display()))?;
    }
    Ok(())
}

//! A short load on a real `troupe serve`: stages of 12 hosts, each publishing audio and video
//! and subscribing to the 11 others over WHIP, with the in-repo str0m client. Reports what the
//! server spent: CPU time per forwarded packet (from /proc, the server process only) and its
//! resident memory.
//!
//!     cargo run --release -p troupe-server --example stage_load -- [STAGES] [SECONDS]
//!
//! It starts its own server (target/release/troupe, or $TROUPE_BIN) on loopback with a
//! throwaway data directory. The full load tool and the side-by-side benchmark are separate;
//! this is the quick measurement the media plane's work is judged by.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use str0m::media::{Direction, MediaKind};
use troupe_media::client::{Client, VideoChoice};

const HOSTS: usize = 12;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let bin = std::env::var("TROUPE_BIN").unwrap_or_else(|_| "target/release/troupe".into());
    let data_dir = std::env::temp_dir().join(format!("troupe-load-{}", std::process::id()));
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(&bin)
        .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--log-level", "warn"])
        .args(["--udp-ports", &format!("{udp}-{udp}")])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (build it: cargo build --release)"));
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr: SocketAddr =
        line.split_whitespace().nth(3).unwrap().trim_start_matches("http://").parse().unwrap();
    let pid = server.id();
    eprintln!("server pid {pid} at {addr}; {stages} stage(s) of {HOSTS} hosts for {seconds} s");

    let mut clients = Vec::new();
    for stage in 0..stages {
        let name = format!("load-{stage}");
        let hosts: Vec<(String, String)> =
            (0..HOSTS).map(|h| token(&bin, &data_dir, &name, &format!("host{h}"))).collect();
        for (token, _) in &hosts {
            let tracks =
                [(MediaKind::Audio, Direction::SendOnly), (MediaKind::Video, Direction::SendOnly)];
            clients.push(connect(addr, "/whip", token, &tracks));
        }
        for (h, (token, _)) in hosts.iter().enumerate() {
            for (other, (_, publisher)) in hosts.iter().enumerate() {
                if other != h {
                    let path = format!("/whip/subscribe/{publisher}");
                    let tracks = [
                        (MediaKind::Audio, Direction::RecvOnly),
                        (MediaKind::Video, Direction::RecvOnly),
                    ];
                    clients.push(connect(addr, &path, token, &tracks));
                }
            }
        }
        eprintln!("stage {stage}: {} clients so far", clients.len());
    }

    // Warm up (ICE, DTLS, first keyframes), then measure a steady window.
    let warmup = Instant::now() + Duration::from_secs(5);
    let end = warmup + Duration::from_secs(seconds);
    let mut sample = None;
    std::thread::scope(|scope| {
        for client in clients.iter_mut() {
            scope.spawn(move || {
                let _ = client.run_until(end);
            });
        }
        std::thread::sleep(warmup.saturating_duration_since(Instant::now()));
        sample = Some((
            cpu_ticks(pid),
            metric(addr, "troupe_media_rtp_packets_out_total"),
            Instant::now(),
        ));
        let mut last = Instant::now();
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(500));
            if last.elapsed() >= Duration::from_secs(5) {
                eprintln!(
                    "  … {:.0} s left",
                    end.saturating_duration_since(Instant::now()).as_secs_f64()
                );
                last = Instant::now();
            }
        }
    });
    let (ticks_before, packets_before, started) = sample.unwrap();
    let ticks = cpu_ticks(pid) - ticks_before;
    let packets = metric(addr, "troupe_media_rtp_packets_out_total") - packets_before;
    let packets_in = metric(addr, "troupe_media_rtp_packets_in_total");
    let window = started.elapsed().as_secs_f64();
    let rss_kib = rss_kib(pid);
    let cpu_seconds = ticks as f64 / 100.0; // USER_HZ
    let received: usize = clients.iter().map(|c| c.received.len()).sum();
    println!("stages {stages}, clients {}, window {window:.1} s", clients.len());
    println!(
        "forwarded {packets} RTP packets ({:.0}/s); {packets_in} received in all",
        packets as f64 / window
    );
    println!("server CPU {cpu_seconds:.2} s ({:.0}% of one core)", 100.0 * cpu_seconds / window);
    if packets > 0 {
        println!("server CPU per forwarded packet: {:.2} µs", cpu_seconds * 1e6 / packets as f64);
    }
    println!(
        "server RSS {:.1} MiB; frames received by clients {received}",
        rss_kib as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn token(bin: &str, data_dir: &std::path::Path, stage: &str, user: &str) -> (String, String) {
    let out = Command::new(bin)
        .args(["token", "--dev", "--stage", stage, "--create", "--user", user, "--json"])
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pt = &json["participantToken"];
    (pt["token"].as_str().unwrap().into(), pt["participantId"].as_str().unwrap().into())
}

fn connect(addr: SocketAddr, path: &str, token: &str, tracks: &[(MediaKind, Direction)]) -> Client {
    let bind = SocketAddr::from(([127, 0, 0, 1], 0));
    let (mut client, offer) = Client::offer_tracks(bind, tracks, VideoChoice::Default).unwrap();
    let (status, body) = post(addr, path, token, &offer);
    assert_eq!(status, 201, "{path}: {body}");
    client.accept(&body).unwrap();
    client
}

fn post(addr: SocketAddr, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/sdp\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

fn metric(addr: SocketAddr, name: &str) -> u64 {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// User + system CPU time of a process, in clock ticks (/proc/PID/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

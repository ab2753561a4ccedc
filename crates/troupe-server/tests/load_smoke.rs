//! `troupe-load` against a real `troupe serve` for a few seconds, in small scenarios: the run
//! completes and its JSON has sane, non-zero figures. No timing thresholds (machines are
//! shared and noisy); BENCHMARKS.md has the real measurements.

mod support;

use support::{Server, unique};

fn run_load(args: &[&str]) -> serde_json::Value {
    let json = unique("load-smoke").with_extension("json");
    let mut argv = vec!["troupe-load"];
    argv.extend_from_slice(args);
    argv.extend(["--json", json.to_str().unwrap()]);
    let status = troupe_load::main_with_args(&argv);
    assert_eq!(status, 0, "troupe-load {args:?} failed");
    let text = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    serde_json::from_str(&text).unwrap()
}

/// A meeting of two small-video hosts for three seconds, with `extra` flags.
fn small_meeting(server: &Server, extra: &[&str]) -> serde_json::Value {
    let url = server.url();
    let mut args = vec![
        "meeting",
        "--url",
        &url,
        "--stages",
        "1",
        "--publishers",
        "2",
        "--duration",
        "3s",
        "--warmup",
        "1s",
        "--video-size",
        "320x180",
        "--video-bitrate",
        "300k",
    ];
    args.extend_from_slice(extra);
    run_load(&args)
}

fn positive(report: &serde_json::Value, field: &str) -> f64 {
    let value = report[field].as_f64().unwrap_or_else(|| panic!("{field} missing: {report:#}"));
    assert!(value.is_finite() && value > 0.0, "{field} = {value}: {report:#}");
    value
}

#[test]
fn a_small_meeting_is_measured_end_to_end() {
    let server = Server::start("load-smoke", &[]);
    let pid = server.child.id().to_string();
    let report = small_meeting(&server, &["--server-pid", &pid]);
    let level = &report["levels"][0];
    assert_eq!(level["subscriptions"], 2, "each host subscribes to the other: {report:#}");
    assert_eq!(level["failures"], 0, "{report:#}");
    let forwarded = positive(&report, "packets_forwarded");
    assert!(level["packets_sent"].as_f64().unwrap() > 0.0);
    assert_eq!(level["packets_unstamped"], 0, "every payload arrives with its stamp: {report:#}");
    let loss = report["loss_pct"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&loss), "{loss}");
    let p50 = positive(&report, "delay_p50_ms");
    assert!(report["delay_p99_ms"].as_f64().unwrap() >= p50);
    let join = positive(&report, "join_p50_ms");
    assert!(report["join_p99_ms"].as_f64().unwrap() >= join);
    positive(&report, "server_cpu_us_per_packet");
    positive(&report, "server_rss_mb");
    assert!(forwarded > 100.0, "a few seconds of audio and video: {forwarded} packets");
}

/// The same meeting with every peer on ICE-TCP (a connection each to the server's passive
/// candidate): media flows, and the server counts the connections it held.
#[test]
fn a_meeting_over_ice_tcp_is_measured_end_to_end() {
    let server = Server::start("load-smoke-tcp", &[]);
    let report = small_meeting(&server, &["--transport", "tcp"]);
    assert_eq!(report["transport"], "tcp", "{report:#}");
    let level = &report["levels"][0];
    assert_eq!(level["subscriptions"], 2, "{report:#}");
    assert_eq!(level["failures"], 0, "{report:#}");
    assert_eq!(level["packets_unstamped"], 0, "{report:#}");
    let forwarded = positive(&report, "packets_forwarded");
    assert!(forwarded > 100.0, "a few seconds of audio and video: {forwarded} packets");
    // Four connections (two publishes, two subscriptions) went over TCP and were closed when
    // the tool stopped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let closed = support::metric(server.addr, "troupe_media_tcp_connections_closed_total");
        if closed >= 4.0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{closed} ICE-TCP connections closed");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Every peer through a TURN relay, with the credentials of its WHIP answer.
#[test]
fn a_meeting_through_turn_relays_is_measured_end_to_end() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Server::start("load-smoke-turn", &["--turn-port", &port.to_string()]);
    let report = small_meeting(&server, &["--transport", "turn"]);
    assert_eq!(report["transport"], "turn", "{report:#}");
    let level = &report["levels"][0];
    assert_eq!(level["failures"], 0, "{report:#}");
    assert_eq!(level["packets_unstamped"], 0, "{report:#}");
    let forwarded = positive(&report, "packets_forwarded");
    assert!(forwarded > 100.0, "{forwarded} packets");
    // Four peers, four allocations, and the media went through them both ways.
    assert_eq!(support::metric(server.addr, "troupe_turn_allocations_total"), 4.0);
    assert!(support::metric(server.addr, "troupe_turn_packets_to_clients_total") >= forwarded);
    assert!(support::metric(server.addr, "troupe_turn_packets_to_peers_total") > 100.0);
}

#[test]
fn the_control_plane_benchmark_counts_requests() {
    let server = Server::start("load-smoke", &[]);
    let pid = server.child.id().to_string();
    let report = run_load(&[
        "control",
        "--url",
        &server.url(),
        "--concurrency",
        "2",
        "--duration",
        "1s",
        "--server-pid",
        &pid,
    ]);
    assert_eq!(report["errors"], 0, "{report:#}");
    positive(&report, "requests_per_s");
    positive(&report, "latency_p50_ms");
    positive(&report, "server_cpu_us_per_request");
    let ops = report["operations"].as_array().unwrap();
    assert!(
        ops.iter().all(|op| op["requests"].as_u64().unwrap() > 0),
        "every operation ran: {report:#}"
    );
}

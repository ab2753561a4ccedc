//! WHIP against a real `troupe serve`: str0m clients publish and subscribe over HTTP and UDP on
//! loopback, and every refusal of DESIGN §2 comes back with its status and code.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Child, Command, Stdio},
    time::Duration,
};

use str0m::media::{Direction, MediaKind};
use troupe_media::client::{Client, run_together};

struct Server {
    child: Child,
    addr: SocketAddr,
    data_dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn troupe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_troupe"))
}

fn start(extra: &[&str]) -> Server {
    let data_dir = std::env::temp_dir().join(format!(
        "troupe-whip-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    let port = 20_000 + (std::process::id() % 20_000) as u16 + extra.len() as u16 * 7;
    let mut child = troupe()
        .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--log-level", "warn"])
        .args(["--udp-ports", &format!("{port}-{port}")])
        .arg("--data-dir")
        .arg(&data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().nth(3).unwrap().trim_start_matches("http://").to_string();
    Server { child, addr: url.parse().unwrap(), data_dir }
}

/// A participant token from `troupe token` (the same data directory as the server).
fn token(server: &Server, stage: &str, user: &str, caps: &[&str]) -> (String, String) {
    let out = troupe()
        .args(["token", "--dev", "--stage", stage, "--create", "--user", user, "--json"])
        .arg("--data-dir")
        .arg(&server.data_dir)
        .args(caps)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pt = &json["participantToken"];
    (pt["token"].as_str().unwrap().into(), pt["participantId"].as_str().unwrap().into())
}

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn code(&self) -> String {
        let json: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        json["code"].as_str().unwrap_or_default().to_string()
    }
}

/// A minimal HTTP/1.1 client: enough for WHIP's POST and DELETE.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/sdp\r\n{auth}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse { status, headers, body: body.to_string() }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Offers, POSTs the offer, applies the answer.
fn whip(
    server: &Server,
    path: &str,
    token: &str,
    kind: MediaKind,
    dir: Direction,
) -> (Client, HttpResponse) {
    let (mut client, offer) = Client::offer(loopback(), kind, dir).unwrap();
    let response = http(server.addr, "POST", path, Some(token), &offer);
    if response.status == 201 {
        client.accept(&response.body).unwrap();
    }
    (client, response)
}

#[test]
fn publish_and_subscribe_over_whip() {
    let server = start(&[]);
    let (alice_token, alice_id) = token(&server, "show", "alice", &[]);
    let (bob_token, _) = token(&server, "show", "bob", &["--subscribe"]);

    let (mut alice, response) =
        whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/sdp"));
    let location = response.header("location").unwrap().to_string();
    assert!(location.starts_with("/whip/session/"), "{location}");
    assert!(response.body.contains("a=candidate:"), "the answer carries the server's candidate");
    run_together(&mut [&mut alice], Duration::from_secs(10), |c| c[0].connected).unwrap();

    let path = format!("/whip/subscribe/{alice_id}");
    let (mut bob, response) =
        whip(&server, &path, &bob_token, MediaKind::Audio, Direction::RecvOnly);
    assert_eq!(response.status, 201, "{}", response.body);
    run_together(&mut [&mut alice, &mut bob], Duration::from_secs(15), |c| {
        c[1].received.len() >= 20
    })
    .unwrap();
    assert!(bob.received.len() >= 20, "bob got {} frames", bob.received.len());

    // The metrics show the media that went through the worker.
    let metrics = http(server.addr, "GET", "/metrics", None, "").body;
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains("worker="))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert!(value("troupe_media_rtp_packets_in_total") >= 20, "{metrics}");
    assert!(value("troupe_media_rtp_packets_out_total") >= 20, "{metrics}");
    assert_eq!(value("troupe_media_publishers"), 1);
    assert_eq!(value("troupe_media_connected_sessions"), 2);

    // DELETE ends alice's publish: new subscriptions to her are refused.
    let response = http(server.addr, "DELETE", &location, Some(&alice_token), "");
    assert_eq!(response.status, 200, "{}", response.body);
    let mut refused = None;
    for _ in 0..50 {
        let (_, r) = whip(&server, &path, &bob_token, MediaKind::Audio, Direction::RecvOnly);
        if r.status == 404 {
            refused = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(refused.expect("alice stopped publishing").code(), "PUBLISHER_NOT_FOUND");
}

#[test]
fn whip_refusals() {
    let server = start(&["--max-publishers", "1"]);
    let (alice_token, _) = token(&server, "refusals", "alice", &[]);
    let (viewer_token, _) = token(&server, "refusals", "viewer", &["--subscribe"]);
    let (carol_token, _) = token(&server, "refusals", "carol", &[]);
    let (_, offer) = Client::offer(loopback(), MediaKind::Audio, Direction::SendOnly).unwrap();

    let r = http(server.addr, "POST", "/whip", None, &offer);
    assert_eq!((r.status, r.code().as_str()), (401, "TOKEN_MALFORMED"));
    let r = http(server.addr, "POST", "/whip", Some("not.a.token"), &offer);
    assert_eq!((r.status, r.code().as_str()), (401, "TOKEN_MALFORMED"));
    let r = http(server.addr, "POST", "/whip", Some(&viewer_token), &offer);
    assert_eq!((r.status, r.code().as_str()), (403, "TOKEN_NOT_ALLOWED"), "subscribe-only");
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), "v=0 this is not SDP");
    assert_eq!((r.status, r.code().as_str()), (400, "INVALID_INPUT"));
    let huge = "a".repeat(70 * 1024);
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), &huge);
    assert_eq!(r.status, 413);
    // Only a codec Troupe does not forward: 406 CODEC_MISMATCH.
    let alien = offer.replace("opus/48000/2", "x-alien/48000/2");
    assert_ne!(alien, offer);
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), &alien);
    assert_eq!((r.status, r.code().as_str()), (406, "CODEC_MISMATCH"), "{}", r.body);
    let r = http(server.addr, "POST", "/whip/subscribe/nobody", Some(&viewer_token), &offer);
    assert_eq!((r.status, r.code().as_str()), (404, "PUBLISHER_NOT_FOUND"));

    // One publisher allowed: alice takes the seat, carol is refused, alice may republish.
    let (_alice, r) = whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(r.status, 201, "{}", r.body);
    let (_carol, r) = whip(&server, "/whip", &carol_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!((r.status, r.code().as_str()), (403, "STAGE_AT_CAPACITY"));
    let (_again, r) = whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(r.status, 201, "a second publish with the same token replaces the first");

    // Another participant cannot end alice's session.
    let location = r.header("location").unwrap().to_string();
    let r = http(server.addr, "DELETE", &location, Some(&carol_token), "");
    assert_eq!(r.status, 404);
    let r = http(server.addr, "PATCH", &location, Some(&alice_token), "");
    assert_eq!(r.status, 405);
}

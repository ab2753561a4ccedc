//! A real `troupe serve` for the integration tests: a fresh data directory, one UDP media port
//! the system just handed out (free, and different for each test of a run), the HTTP address
//! read from the server's ready line. Dropping it stops the server and removes the directory.

// Each test file compiles its own copy and uses a part of it.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT` of the HTTP listener.
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Its one media worker's UDP port (also its ICE-TCP port).
    pub media_port: u16,
}

impl Server {
    /// `troupe serve --dev` on loopback, with `extra` flags; `what` names its data directory.
    pub fn start(what: &str, extra: &[&str]) -> Server {
        let data_dir = unique(what);
        let port = free_media_port();
        let mut child = troupe()
            .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--log-level", "warn"])
            .args(["--udp-ports", &format!("{port}-{port}")])
            // TURN's well-known ports would be shared by tests side by side.
            .args(if extra.contains(&"--turn-port") { &[][..] } else { &["--turn-port", "0"][..] })
            .args(if extra.contains(&"--turn-tls-port") {
                &[][..]
            } else {
                &["--turn-tls-port", "0"][..]
            })
            // So would RTMP's.
            .args(if extra.contains(&"--rtmp-port") { &[][..] } else { &["--rtmp-port", "0"][..] })
            .arg("--data-dir")
            .arg(&data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // "troupe listening on http://127.0.0.1:PORT — open …"
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.split_whitespace().nth(3).expect("the ready line names the URL");
        let addr = url.split("://").nth(1).and_then(|a| a.parse().ok()).expect("an HTTP address");
        Server { child, addr, data_dir, media_port: port }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// The `troupe` binary this test run built.
pub fn troupe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_troupe"))
}

/// A path in the temporary directory no other test of any run uses.
pub fn unique(what: &str) -> PathBuf {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("troupe-{what}-{}-{nanos}", std::process::id()))
}

/// The sum over its label sets of a metric on the server's `/metrics` (0 when absent).
pub fn metric(addr: SocketAddr, name: &str) -> f64 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A participant token from `troupe token` (the same data directory as the server).
pub fn token(server: &Server, stage: &str, user: &str, caps: &[&str]) -> (String, String) {
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

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> String {
        let json: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        json["code"].as_str().unwrap_or_default().to_string()
    }
}

/// A minimal HTTP/1.1 client: enough for WHIP's POST and DELETE.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> HttpResponse {
    http_with(addr, method, path, token, "Content-Type: application/sdp\r\n", body)
}

/// [`http`] with the given header lines (each ending in CRLF) instead of the SDP content type.
pub fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &str,
    body: &str,
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}{auth}\
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

/// A port free on UDP and on TCP (a server's ICE-TCP port has its media port's number).
pub fn free_media_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

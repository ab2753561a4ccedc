//! A real `troupe serve` for the integration tests: a fresh data directory, one UDP media port
//! the system just handed out (free, and different for each test of a run), the HTTP address
//! read from the server's ready line. Dropping it stops the server and removes the directory.

// Each test file compiles its own copy and uses a part of it.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
};

pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT` of the HTTP listener.
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
}

impl Server {
    /// `troupe serve --dev` on loopback, with `extra` flags; `what` names its data directory.
    pub fn start(what: &str, extra: &[&str]) -> Server {
        let data_dir = unique(what);
        let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = troupe()
            .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--log-level", "warn"])
            .args(["--udp-ports", &format!("{port}-{port}")])
            // TURN's well-known port would be shared by tests side by side.
            .args(if extra.contains(&"--turn-port") { &[][..] } else { &["--turn-port", "0"][..] })
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
        let addr = url.trim_start_matches("http://").parse().expect("an HTTP address");
        Server { child, addr, data_dir }
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

//! A keep-alive HTTP/1.1 GET over tokio, one per simulated player: requests go one after
//! the other on one connection, as a player's do. The body is kept in a buffer reused across
//! requests (a part is some 100 KB), so a viewer allocates nothing per request once warm.

use std::net::SocketAddr;

use anyhow::{Context, Result, anyhow, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

pub struct Connection {
    addr: SocketAddr,
    host: String,
    user_agent: String,
    stream: Option<TcpStream>,
    head: Vec<u8>,
    request: Vec<u8>,
    pub body: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Connection {
    pub fn new(addr: SocketAddr, host: &str, user_agent: String) -> Self {
        Connection {
            addr,
            host: host.to_string(),
            user_agent,
            stream: None,
            head: Vec::with_capacity(1024),
            request: Vec::with_capacity(256),
            body: Vec::new(),
        }
    }

    /// GETs `path`; the body is left in `self.body`. A kept-alive connection the server closed
    /// meanwhile is reopened once.
    pub async fn get(&mut self, path: &str) -> Result<u16> {
        let reused = self.stream.is_some();
        match self.try_get(path).await {
            Ok(status) => Ok(status),
            Err(_) if reused => {
                self.stream = None;
                self.try_get(path).await.inspect_err(|_| self.stream = None)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
        .with_context(|| format!("GET http://{}{path}", self.addr))
    }

    async fn try_get(&mut self, path: &str) -> Result<u16> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().ok_or_else(|| anyhow!("no connection"))?;
        self.request.clear();
        self.request.extend_from_slice(b"GET ");
        self.request.extend_from_slice(path.as_bytes());
        self.request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.request.extend_from_slice(self.host.as_bytes());
        self.request.extend_from_slice(b"\r\nUser-Agent: ");
        self.request.extend_from_slice(self.user_agent.as_bytes());
        self.request.extend_from_slice(b"\r\n\r\n");
        stream.write_all(&self.request).await?;

        self.head.clear();
        let end = loop {
            if let Some(at) = find(&self.head, b"\r\n\r\n") {
                break at;
            }
            if self.head.len() > 64 * 1024 {
                bail!("a response head over 64 KiB");
            }
            if stream.read_buf(&mut self.head).await? == 0 {
                bail!("the server closed the connection");
            }
        };
        let head = std::str::from_utf8(&self.head[..end]).context("a response head not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("not an HTTP response: {status_line:?}"))?;
        let mut length = None;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().context("a bad Content-Length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("Transfer-Encoding {value} is not supported (a Content-Length is expected)");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let length = length.unwrap_or(0);
        self.body.clear();
        self.body.extend_from_slice(&self.head[end + 4..]);
        while self.body.len() < length {
            self.body.reserve(length - self.body.len());
            if stream.read_buf(&mut self.body).await? == 0 {
                bail!("the server closed the connection in a body");
            }
        }
        self.body.truncate(length);
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

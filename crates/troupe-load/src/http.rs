//! A small blocking HTTP/1.1 client over one keep-alive connection: enough for the control
//! plane, WHIP and the Janus API, with errors that say what went wrong and where.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("the response is not JSON: {}", truncate(&self.text(), 200)))
    }
}

pub fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// `http://HOST:PORT[/base]` → the address, the Host header and the base path.
pub fn parse_url(url: &str) -> Result<(SocketAddr, String, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        anyhow!("--url {url:?}: give an http:// URL, e.g. http://127.0.0.1:7800 (https is not supported)")
    })?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let with_port =
        if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    let addr = with_port
        .to_socket_addrs()
        .with_context(|| format!("--url {url:?}: cannot resolve {authority}"))?
        .next()
        .ok_or_else(|| anyhow!("--url {url:?}: {authority} has no address"))?;
    let base = format!("/{}", path.trim_end_matches('/'));
    Ok((addr, authority.to_string(), if base == "/" { String::new() } else { base }))
}

pub struct Client {
    addr: SocketAddr,
    host: String,
    connection: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

impl Client {
    pub fn new(addr: SocketAddr, host: &str) -> Self {
        Client { addr, host: host.to_string(), connection: None, timeout: Duration::from_secs(60) }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>> {
        if self.connection.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
                .with_context(|| {
                    format!("cannot connect to http://{} (is the server running there?)", self.addr)
                })?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(self.timeout))?;
            self.connection = Some(BufReader::new(stream));
        }
        self.connection.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// Sends a request and reads the response. A keep-alive connection the server closed
    /// meanwhile is reopened once.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let reused = self.connection.is_some();
        match self.exchange(head.as_bytes(), body) {
            Ok(response) => Ok(response),
            Err(_) if reused => {
                self.connection = None;
                self.exchange(head.as_bytes(), body)
            }
            Err(e) => Err(e),
        }
        .with_context(|| format!("{method} http://{}{path}", self.addr))
    }

    fn exchange(&mut self, head: &[u8], body: &[u8]) -> Result<Response> {
        let result = self.try_exchange(head, body);
        if result.as_ref().map_or(true, |r| {
            r.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
        }) {
            self.connection = None;
        }
        result
    }

    fn try_exchange(&mut self, head: &[u8], body: &[u8]) -> Result<Response> {
        let conn = self.connect()?;
        let stream = conn.get_mut();
        stream.write_all(head)?;
        stream.write_all(body)?;
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            bail!("the server closed the connection");
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("not an HTTP response: {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((k, v)) = trimmed.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let find = |name: &str| {
            headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(length) = find("content-length") {
            let length: usize = length.parse().context("a bad Content-Length")?;
            body.resize(length, 0);
            conn.read_exact(&mut body)?;
        } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                conn.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .context("a bad chunk size")?;
                let start = body.len();
                body.resize(start + size, 0);
                conn.read_exact(&mut body[start..])?;
                line.clear();
                conn.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
        } else if status != 204 && status != 304 {
            conn.read_to_end(&mut body)?;
            headers.push(("connection".into(), "close".into()));
        }
        Ok(Response { status, headers, body })
    }
}

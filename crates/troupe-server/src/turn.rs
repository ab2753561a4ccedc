//! TURN for the node: the embedded server started from the settings (`troupe_turn`), or an
//! external one (coturn), and the ICE servers handed to clients with every WHIP answer
//! (RFC 9725 §4.6 `Link` headers): the TURN URLs with a credential of the participant's own,
//! signed with the node's TURN secret and valid as long as the session may last.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::Path,
    sync::Arc,
};

use troupe_turn::{
    credential,
    io::{TurnHandle, TurnSettings},
    server::{PeerRoute, Transport, TurnConfig},
};

use crate::{
    config::{ConfigError, Settings, TurnMode},
    node::Failure,
    tls::NodeTls,
};

/// The URLs clients are told to use, and how their credentials are made.
#[derive(Debug)]
pub struct IceServers {
    urls: Vec<String>,
    secret: Vec<u8>,
    /// The longest a credential lives (a media session's maximum duration).
    lifetime_secs: u64,
}

impl IceServers {
    /// `Link` header values for a participant whose token expires at `token_exp` (unix s).
    pub fn links(&self, participant: &str, now_unix: u64, token_exp: i64) -> Vec<String> {
        if self.urls.is_empty() {
            return Vec::new();
        }
        let until = (now_unix + self.lifetime_secs).min(u64::try_from(token_exp).unwrap_or(0));
        let c = credential::mint(&self.secret, participant, until.max(now_unix));
        self.urls
            .iter()
            .map(|url| {
                format!(
                    "<{url}>; rel=\"ice-server\"; username=\"{}\"; credential=\"{}\"; credential-type=\"password\"",
                    c.username, c.password
                )
            })
            .collect()
    }
}

/// The running embedded server (none when TURN is off or external).
pub struct Turn {
    pub handle: Option<TurnHandle>,
    pub ice_servers: Arc<IceServers>,
}

/// Starts TURN as configured. `media_bind` is the address the media sockets are bound to:
/// relayed datagrams are delivered there.
pub fn start(
    settings: &Settings,
    media_bind: IpAddr,
    tls: Option<&Arc<NodeTls>>,
) -> Result<Turn, Failure> {
    let lifetime_secs = settings.media_limits.max_session.as_secs();
    let (port, tls_port, turn_ip) = match &settings.network.turn {
        TurnMode::Off => {
            let ice_servers = IceServers { urls: Vec::new(), secret: Vec::new(), lifetime_secs };
            return Ok(Turn { handle: None, ice_servers: Arc::new(ice_servers) });
        }
        TurnMode::External { urls } => {
            let secret = settings.network.turn_secret.clone().unwrap_or_default().into_bytes();
            let ice_servers = IceServers { urls: urls.clone(), secret, lifetime_secs };
            return Ok(Turn { handle: None, ice_servers: Arc::new(ice_servers) });
        }
        TurnMode::Embedded { port, tls_port, ip } => {
            (*port, *tls_port, ip.unwrap_or(settings.node_ip))
        }
    };
    let secret = match &settings.network.turn_secret {
        Some(s) => s.clone().into_bytes(),
        None => load_or_create_secret(&settings.data_dir)?,
    };
    let local = is_local(turn_ip);
    // Listeners: the TURN address itself when it is this machine's, else where HTTP listens
    // (every interface, typically: the TURN address is then a NAT's public one).
    let listen_ip = if local { turn_ip } else { settings.bind.ip() };
    let relay_bind = if local { turn_ip } else { unspecified(turn_ip) };
    // Relayed traffic goes to the media ports only: as clients name them (the node IP), and
    // delivered where the media sockets listen.
    let deliver_to = if media_bind.is_unspecified() { loopback(media_bind) } else { media_bind };
    let routes = vec![PeerRoute {
        advertised: settings.node_ip,
        ports: settings.udp_ports.0..=settings.udp_ports.1,
        deliver_to,
    }];
    let config = TurnConfig::new("troupe", &secret, turn_ip, routes);
    let tls_source = match (tls_port, tls) {
        (Some(p), Some(tls)) => {
            let tls = tls.clone();
            let source: troupe_turn::io::TlsConfigSource = Arc::new(move || tls.server_config());
            Some((SocketAddr::new(listen_ip, p), source))
        }
        _ => None,
    };
    let handle = troupe_turn::io::spawn(TurnSettings {
        udp: (port != 0).then(|| SocketAddr::new(listen_ip, port)),
        tcp: (port != 0).then(|| SocketAddr::new(listen_ip, port)),
        tls: tls_source,
        relay_bind,
        config,
    })
    .map_err(|e| {
        Failure::other(format!("{e} (set --turn-port 0 to run without the embedded TURN server)"))
    })?;
    let host = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    let mut urls = Vec::new();
    if let Some(udp) = handle.local_addr(Transport::Udp) {
        urls.push(format!("turn:{}:{}?transport=udp", host(turn_ip), udp.port()));
    }
    if let Some(tcp) = handle.local_addr(Transport::Tcp) {
        urls.push(format!("turn:{}:{}?transport=tcp", host(turn_ip), tcp.port()));
    }
    if let (Some(tls_addr), Some(tls)) = (handle.local_addr(Transport::Tls), tls) {
        urls.push(format!(
            "turns:{}:{}?transport=tcp",
            tls_host(turn_ip, settings, tls),
            tls_addr.port()
        ));
    }
    tracing::info!(?urls, "TURN server started");
    Ok(Turn {
        handle: Some(handle),
        ice_servers: Arc::new(IceServers { urls, secret, lifetime_secs }),
    })
}

/// The host of the `turns:` URL: the TURN address when the certificate names it, else the
/// public URL's host when it does (a certificate for a DNS name), so that browsers can check
/// the certificate against the name they dialled.
fn tls_host(turn_ip: IpAddr, settings: &Settings, tls: &NodeTls) -> String {
    let names = tls.summary().names;
    let ip = match turn_ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    if crate::tls::covers(&names, &turn_ip.to_string()) {
        return ip;
    }
    let public = settings.public_url.split("://").nth(1).and_then(|r| r.split(['/', ':']).next());
    match public {
        Some(h) if crate::tls::covers(&names, h) => h.to_string(),
        _ => {
            tracing::warn!(
                %turn_ip,
                ?names,
                "the TLS certificate names neither the TURN address nor the public URL's host: \
                 browsers will refuse TURN over TLS"
            );
            ip
        }
    }
}

/// The node's TURN secret, made once and kept in the data directory (mode 0600).
fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, Failure> {
    let path = data_dir.join("turn-secret");
    let fail = |e: std::io::Error| {
        Failure::Config(ConfigError {
            key: "data_dir".into(),
            message: format!("cannot use {} for the TURN secret: {e}", path.display()),
        })
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {
            tracing::warn!(path = %path.display(), "the TURN secret is too short: making a new one")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let secret = hex::encode(rand_bytes());
    std::fs::create_dir_all(data_dir).map_err(fail)?;
    write_private(&path, secret.as_bytes()).map_err(fail)?;
    Ok(secret.into_bytes())
}

fn rand_bytes() -> [u8; 32] {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    // The kernel's generator; the node key (troupe-tokens) comes from the same source.
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut bytes);
    }
    bytes
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(contents)
}

fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || if_addrs::get_if_addrs().unwrap_or_default().iter().any(|a| a.ip() == ip)
}

fn unspecified(like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    }
}

fn loopback(like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_a_participant_credential_bounded_by_the_token() {
        let servers = IceServers {
            urls: vec![
                "turn:10.0.0.1:3478?transport=udp".into(),
                "turns:live.example.com:443?transport=tcp".into(),
            ],
            secret: b"s3cret".to_vec(),
            lifetime_secs: 86_400,
        };
        let links = servers.links("p1", 1_000, 5_000);
        assert_eq!(links.len(), 2);
        let c = credential::mint(b"s3cret", "p1", 5_000);
        assert_eq!(
            links[0],
            format!(
                "<turn:10.0.0.1:3478?transport=udp>; rel=\"ice-server\"; username=\"5000:p1\"; credential=\"{}\"; credential-type=\"password\"",
                c.password
            )
        );
        // A token that outlives the session: the session's maximum bounds the credential.
        assert!(servers.links("p1", 1_000, 10_000_000)[0].contains("username=\"87400:p1\""));
        let none = IceServers { urls: Vec::new(), secret: Vec::new(), lifetime_secs: 1 };
        assert!(none.links("p1", 0, 10).is_empty());
    }
}

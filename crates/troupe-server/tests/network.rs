//! A real `troupe serve` on real networks' terms: HTTPS (self-signed, and files reloaded on
//! SIGHUP without dropping connections), a bad TLS configuration refused with exit 2 naming
//! the file, the passive TCP candidate in answers, and the TURN credentials of WHIP answers
//! checked by the embedded TURN server (expired and forged ones refused, foreign peers too).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream, UdpSocket},
    sync::Arc,
    time::Duration,
};

use str0m::media::{Direction, MediaKind};
use troupe_media::client::Client;
use troupe_turn::{
    client::{Outcome, Request, TurnClient},
    credential,
};

mod support;

use support::{Server, http, token, troupe, unique};

fn free_port() -> u16 {
    // Free on UDP and TCP alike, for TURN's two listeners.
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn a_bad_tls_configuration_exits_2_naming_the_file() {
    let dir = unique("bad-tls");
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("cert.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    for (cert, key, key_name) in [
        ("/no/such/cert.pem".to_string(), "/no/such/key.pem".to_string(), "tls_cert"),
        (garbage.display().to_string(), "/no/such/key.pem".to_string(), "tls_cert"),
    ] {
        let out = troupe()
            .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--turn-port", "0"])
            .args(["--tls-cert", &cert, "--tls-key", &key])
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&cert), "names the file: {stderr}");
        assert!(stderr.contains(key_name), "names the setting: {stderr}");
    }
    let out = troupe()
        .args(["serve", "--dev", "--bind", "127.0.0.1:0", "--tls-cert", "c.pem"])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls_key"));
    std::fs::remove_dir_all(dir).ok();
}

/// A TLS client that trusts exactly `cert` (PEM).
fn tls_client(cert_pem: &[u8]) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(der.unwrap()).unwrap();
    }
    Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}

/// `GET path` on an open TLS connection (keep-alive); the status and the server's certificate.
fn get(
    conn: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    path: &str,
) -> (u16, Vec<u8>) {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    conn.flush().unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length: usize = text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).unwrap();
    let cert = conn.conn.peer_certificates().unwrap()[0].to_vec();
    (status, cert)
}

fn connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap().to_owned();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    rustls::StreamOwned::new(rustls::ClientConnection::new(config, name).unwrap(), tcp)
}

#[test]
fn https_with_the_self_signed_certificate_and_https_urls_everywhere() {
    let server = Server::start("tls-self", &["--tls", "self-signed"]);
    let pem = std::fs::read(server.data_dir.join("tls/self-signed-cert.pem")).unwrap();
    let mut conn = connect(server.addr, tls_client(&pem));
    assert_eq!(get(&mut conn, "/healthz").0, 200, "the certificate names 127.0.0.1 and verifies");
    // Tokens name https:// and wss:// (`troupe token` reads the same settings as the server).
    let out = troupe()
        .args([
            "token",
            "--dev",
            "--tls",
            "self-signed",
            "--stage",
            "secure",
            "--create",
            "--user",
            "alice",
        ])
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = String::from_utf8(out.stdout).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64_url(t.split('.').nth(1).unwrap())).unwrap();
    assert!(claims["whip_url"].as_str().unwrap().starts_with("https://"), "{claims}");
    assert!(claims["events_url"].as_str().unwrap().starts_with("wss://"), "{claims}");
    // Plain HTTP to the port is redirected, not answered with TLS bytes.
    let plain = http(server.addr, "GET", "/healthz", None, "");
    assert_eq!(plain.status, 308);
    assert_eq!(plain.header("location"), Some(format!("https://{}/healthz", server.addr).as_str()));
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections_and_keeps_open_ones() {
    let dir = unique("tls-files");
    std::fs::create_dir_all(&dir).unwrap();
    let make = |name: &str| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (cert_a, key_a) = make("a.test");
    let (cert_b, key_b) = make("b.test");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &cert_a).unwrap();
    std::fs::write(&key, &key_a).unwrap();
    let server = Server::start(
        "tls-reload",
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    let mut both = cert_a.clone().into_bytes();
    both.extend_from_slice(cert_b.as_bytes());
    let config = tls_client(&both);
    let mut old = connect(server.addr, config.clone());
    let (status, first) = get(&mut old, "/healthz");
    assert_eq!(status, 200);
    std::fs::write(&cert, &cert_b).unwrap();
    std::fs::write(&key, &key_b).unwrap();
    let pid = server.child.id() as i32;
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let second = loop {
        let (_, cert) = get(&mut connect(server.addr, config.clone()), "/healthz");
        if cert != first {
            break cert;
        }
        assert!(std::time::Instant::now() < deadline, "the new certificate never came");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_ne!(second, first);
    // The connection opened before the reload goes on, with the old certificate.
    let (status, still) = get(&mut old, "/healthz");
    assert_eq!((status, still), (200, first));
    std::fs::remove_dir_all(dir).ok();
}

/// The `Link` headers of a WHIP answer: (URL, username, credential) of each ICE server.
fn ice_servers(headers: &[(String, String)]) -> Vec<(String, String, String)> {
    let param = |link: &str, name: &str| {
        let at = link.find(&format!("{name}=\""))? + name.len() + 2;
        Some(link[at..].split('"').next()?.to_string())
    };
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
        .filter_map(|(_, v)| {
            let url = v.strip_prefix('<')?.split('>').next()?.to_string();
            Some((url, param(v, "username")?, param(v, "credential")?))
        })
        .collect()
}

fn turn_ask(
    socket: &UdpSocket,
    server: SocketAddr,
    client: &mut TurnClient,
    request: Request,
) -> Outcome {
    let mut out = Vec::new();
    client.request(request, &mut out);
    loop {
        socket.send_to(&out, server).unwrap();
        let mut buf = [0u8; 2048];
        let (n, _) = socket.recv_from(&mut buf).expect("the TURN server answers");
        match client.handle_response(&buf[..n], &mut out) {
            Some(Outcome::Retried) => continue,
            Some(outcome) => return outcome,
            None => continue,
        }
    }
}

#[test]
fn whip_answers_carry_turn_credentials_the_turn_server_checks() {
    let turn_port = free_port();
    let server = Server::start("turn", &["--turn-port", &turn_port.to_string()]);
    let (t, participant) = token(&server, "relayed", "alice", &[]);
    let (_client, offer) =
        Client::offer(SocketAddr::from(([127, 0, 0, 1], 0)), MediaKind::Audio, Direction::SendOnly)
            .unwrap();
    let answer = http(server.addr, "POST", "/whip", Some(&t), &offer);
    assert_eq!(answer.status, 201, "{}", answer.body);
    // The answer offers a passive ICE-TCP candidate on the media port (UDP's number, on TCP).
    let media_port: u16 = server_media_port(&server);
    assert!(
        answer.body.lines().any(|l| l.contains(" tcp ")
            && l.contains(&format!(" {media_port} typ host tcptype passive"))),
        "{}",
        answer.body
    );
    let servers = ice_servers(&answer.headers);
    let urls: Vec<&str> = servers.iter().map(|(u, _, _)| u.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("turn:127.0.0.1:{turn_port}?transport=udp"),
            format!("turn:127.0.0.1:{turn_port}?transport=tcp")
        ]
    );
    let (_, username, password) = servers[0].clone();
    assert!(
        username.ends_with(&format!(":{participant}")),
        "a credential of the participant's own: {username}"
    );

    let turn: SocketAddr = SocketAddr::from(([127, 0, 0, 1], turn_port));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut good = TurnClient::new(&username, &password, false);
    assert!(matches!(
        turn_ask(&socket, turn, &mut good, Request::Allocate { lifetime: None }),
        Outcome::Allocated { .. }
    ));
    // Towards the media port: granted. Towards anything else: refused.
    let media = SocketAddr::from(([127, 0, 0, 1], media_port));
    assert_eq!(
        turn_ask(&socket, turn, &mut good, Request::ChannelBind { channel: 0x4000, peer: media }),
        Outcome::Done
    );
    let refused = |outcome: Outcome| match outcome {
        Outcome::Failed { code, reason } => (code, reason),
        other => panic!("not refused: {other:?}"),
    };
    let (code, reason) = refused(turn_ask(
        &socket,
        turn,
        &mut good,
        Request::CreatePermission(vec!["8.8.8.8:53".parse().unwrap()]),
    ));
    assert_eq!(code, 403, "{reason}");
    let api = Request::ChannelBind { channel: 0x4001, peer: server.addr };
    assert_eq!(
        refused(turn_ask(&socket, turn, &mut good, api)).0,
        403,
        "not even the node's own HTTP port"
    );

    // A forged password, and an expired credential signed with the node's own secret.
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    other.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut forged = TurnClient::new(&username, "bm90IHRoZSBwYXNzd29yZA==", false);
    let (code, _) =
        refused(turn_ask(&other, turn, &mut forged, Request::Allocate { lifetime: None }));
    assert_eq!(code, 401);
    let secret = std::fs::read_to_string(server.data_dir.join("turn-secret")).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expired = credential::mint(secret.trim().as_bytes(), &participant, now - 60);
    let mut late = TurnClient::new(&expired.username, &expired.password, false);
    let (code, reason) =
        refused(turn_ask(&other, turn, &mut late, Request::Allocate { lifetime: None }));
    assert_eq!((code, reason.as_str()), (401, "credential expired"));
    // A valid credential minted the same way is accepted: the refusal above was the expiry.
    let fresh = credential::mint(secret.trim().as_bytes(), &participant, now + 60);
    let mut ok = TurnClient::new(&fresh.username, &fresh.password, false);
    assert!(matches!(
        turn_ask(&other, turn, &mut ok, Request::Allocate { lifetime: None }),
        Outcome::Allocated { .. }
    ));
    assert!(support::metric(server.addr, "troupe_turn_auth_failures_total") >= 2.0);
    assert!(support::metric(server.addr, "troupe_turn_forbidden_peers_total") >= 2.0);
}

/// The server's one media port (the support module gives each server its own).
fn server_media_port(server: &Server) -> u16 {
    server.media_port
}

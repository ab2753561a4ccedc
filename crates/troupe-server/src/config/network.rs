//! The settings that make a node reachable beyond one machine (DESIGN §4): TLS on the HTTP
//! port, ICE over TCP, and TURN (embedded, or an external service). Parsed here from the text
//! values every source gives, so that a bad value names its key like every other setting.

use std::{net::IpAddr, path::PathBuf};

use super::{ConfigError, err};

/// HTTPS on the HTTP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    /// A certificate of the node's own, made once and kept in the data directory.
    SelfSigned,
    /// A certificate chain and its key, PEM files (reloaded on SIGHUP).
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

impl TlsMode {
    pub fn is_on(&self) -> bool {
        *self != TlsMode::Off
    }
}

/// Where clients get a relay when they cannot reach the media ports directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnMode {
    Off,
    /// The embedded TURN server: UDP and TCP on `port` (0: neither), TLS on `tls_port`, on
    /// `ip` (else the node IP).
    Embedded {
        port: u16,
        tls_port: Option<u16>,
        ip: Option<IpAddr>,
    },
    /// An external service (coturn with `use-auth-secret`): the URLs handed to clients.
    External {
        urls: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSettings {
    pub tls: TlsMode,
    /// The TCP port of the passive ICE-TCP candidates; `None` when off.
    pub ice_tcp_port: Option<u16>,
    pub turn: TurnMode,
    /// The TURN credentials' HMAC secret, when configured (else the data directory's own).
    pub turn_secret: Option<String>,
}

/// The text values of the network keys, as the sources gave them.
pub struct NetworkValues {
    pub tls: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub ice_tcp_port: Option<String>,
    pub turn_port: Option<String>,
    pub turn_tls_port: Option<String>,
    pub turn_ip: Option<String>,
    pub turn_external: Option<String>,
    pub turn_secret: Option<String>,
}

/// The default TURN port (RFC 8656), and TURN over TLS's.
pub const DEFAULT_TURN_PORT: u16 = 3478;
pub const DEFAULT_TURN_TLS_PORT: u16 = 5349;

impl NetworkSettings {
    /// `first_udp_port` is the default ICE-TCP port (the same number, on TCP).
    pub fn resolve(v: NetworkValues, first_udp_port: u16) -> Result<NetworkSettings, ConfigError> {
        let tls = tls_mode(&v)?;
        let ice_tcp_port = match v.ice_tcp_port {
            Some(text) => non_zero(port("ice_tcp_port", &text)?),
            None => Some(first_udp_port),
        };
        let turn_secret = match v.turn_secret {
            Some(s) if s.len() < 16 => {
                return Err(err(
                    "turn_secret",
                    "must be at least 16 characters (it signs every TURN credential)",
                ));
            }
            other => other,
        };
        let turn = match v.turn_external {
            Some(text) => {
                if v.turn_port.is_some() || v.turn_tls_port.is_some() || v.turn_ip.is_some() {
                    return Err(err(
                        "turn_external",
                        "an external TURN service replaces the embedded one: drop turn_port, \
                         turn_tls_port and turn_ip",
                    ));
                }
                if turn_secret.is_none() {
                    return Err(err(
                        "turn_secret",
                        "required with turn_external: the TURN service's static-auth-secret",
                    ));
                }
                TurnMode::External { urls: turn_urls(&text)? }
            }
            None => {
                let turn_port = match &v.turn_port {
                    Some(text) => port("turn_port", text)?,
                    None => DEFAULT_TURN_PORT,
                };
                let tls_port = match &v.turn_tls_port {
                    Some(text) => {
                        let p = port("turn_tls_port", text)?;
                        if p != 0 && !tls.is_on() {
                            return Err(err(
                                "turn_tls_port",
                                "TURN over TLS needs a certificate: set tls_cert and tls_key, or \
                                 tls = self-signed",
                            ));
                        }
                        non_zero(p)
                    }
                    None if tls.is_on() => Some(DEFAULT_TURN_TLS_PORT),
                    None => None,
                };
                if turn_port == 0 && tls_port.is_none() {
                    TurnMode::Off
                } else {
                    if tls_port.is_some_and(|t| t == turn_port) {
                        return Err(err(
                            "turn_tls_port",
                            format!(
                                "{turn_port} is turn_port already (TURN over TCP listens there)"
                            ),
                        ));
                    }
                    let ip = match &v.turn_ip {
                        Some(text) => Some(text.trim().parse::<IpAddr>().map_err(|_| {
                            err("turn_ip", format!("{text:?} is not an IP address"))
                        })?),
                        None => None,
                    };
                    TurnMode::Embedded { port: turn_port, tls_port, ip }
                }
            }
        };
        Ok(NetworkSettings { tls, ice_tcp_port, turn, turn_secret })
    }
}

fn tls_mode(v: &NetworkValues) -> Result<TlsMode, ConfigError> {
    let mode = v.tls.as_deref().map(|m| m.trim().to_ascii_lowercase());
    match (mode.as_deref(), &v.tls_cert, &v.tls_key) {
        (Some("self-signed"), None, None) => Ok(TlsMode::SelfSigned),
        (Some("self-signed"), _, _) => Err(err(
            "tls",
            "self-signed makes its own certificate: drop tls_cert and tls_key, or drop tls",
        )),
        (Some("off" | "false"), None, None) | (None, None, None) => Ok(TlsMode::Off),
        (Some("off" | "false"), _, _) => {
            Err(err("tls", "is off, but tls_cert or tls_key is set: drop one or the other"))
        }
        (Some(other), _, _) if !matches!(other, "on" | "true" | "files") => {
            Err(err("tls", format!("{other:?} is not self-signed or off")))
        }
        (_, Some(cert), Some(key)) => {
            Ok(TlsMode::Files { cert: path("tls_cert", cert)?, key: path("tls_key", key)? })
        }
        (_, Some(_), None) => {
            Err(err("tls_key", "must be set with tls_cert (the certificate's key)"))
        }
        (_, None, _) => Err(err(
            "tls_cert",
            "must be set for TLS with files (with tls_key), or use tls = self-signed",
        )),
    }
}

fn path(key: &str, text: &str) -> Result<PathBuf, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(err(key, "must not be empty"));
    }
    Ok(PathBuf::from(text))
}

fn port(key: &str, text: &str) -> Result<u16, ConfigError> {
    text.trim().parse::<u16>().map_err(|_| {
        err(key, format!("{text:?} is not a port number (0 to 65535; 0 turns it off)"))
    })
}

fn non_zero(port: u16) -> Option<u16> {
    (port != 0).then_some(port)
}

/// `turn:host[:port][?transport=udp|tcp]` and `turns:…` URLs (RFC 7065), comma-separated.
fn turn_urls(text: &str) -> Result<Vec<String>, ConfigError> {
    let urls: Vec<String> =
        text.split(',').map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect();
    if urls.is_empty() {
        return Err(err("turn_external", "names no URL"));
    }
    for url in &urls {
        let rest =
            url.strip_prefix("turns:").or_else(|| url.strip_prefix("turn:")).ok_or_else(|| {
                err("turn_external", format!("{url:?} must start with turn: or turns:"))
            })?;
        let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
        if host.is_empty() || host.starts_with('/') || host.contains(['/', ' ', '@']) {
            return Err(err(
                "turn_external",
                format!("{url:?} is not turn:HOST[:PORT][?transport=udp|tcp]"),
            ));
        }
        if !query.is_empty() && !matches!(query, "transport=udp" | "transport=tcp") {
            return Err(err(
                "turn_external",
                format!("{url:?}: the only query is transport=udp or transport=tcp"),
            ));
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> NetworkValues {
        NetworkValues {
            tls: None,
            tls_cert: None,
            tls_key: None,
            ice_tcp_port: None,
            turn_port: None,
            turn_tls_port: None,
            turn_ip: None,
            turn_external: None,
            turn_secret: None,
        }
    }

    fn resolve(v: NetworkValues) -> Result<NetworkSettings, ConfigError> {
        NetworkSettings::resolve(v, 7801)
    }

    #[test]
    fn defaults() {
        let s = resolve(values()).unwrap();
        assert_eq!(s.tls, TlsMode::Off);
        assert_eq!(s.ice_tcp_port, Some(7801), "the first UDP port, on TCP");
        assert_eq!(s.turn, TurnMode::Embedded { port: 3478, tls_port: None, ip: None });
        let s = resolve(NetworkValues { tls: Some("self-signed".into()), ..values() }).unwrap();
        assert_eq!(s.turn, TurnMode::Embedded { port: 3478, tls_port: Some(5349), ip: None });
        let e = resolve(NetworkValues { turn_ip: Some("nowhere".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "turn_ip");
    }

    #[test]
    fn zero_turns_things_off() {
        let s = resolve(NetworkValues {
            ice_tcp_port: Some("0".into()),
            turn_port: Some("0".into()),
            ..values()
        })
        .unwrap();
        assert_eq!(s.ice_tcp_port, None);
        assert_eq!(s.turn, TurnMode::Off);
    }

    #[test]
    fn tls_files_need_both() {
        let e = resolve(NetworkValues { tls_cert: Some("c.pem".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "tls_key");
        let e = resolve(NetworkValues { tls_key: Some("k.pem".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "tls_cert");
        let s = resolve(NetworkValues {
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            ..values()
        })
        .unwrap();
        assert_eq!(s.tls, TlsMode::Files { cert: "c.pem".into(), key: "k.pem".into() });
        let e = resolve(NetworkValues {
            tls: Some("self-signed".into()),
            tls_cert: Some("c.pem".into()),
            ..values()
        })
        .unwrap_err();
        assert_eq!(e.key, "tls");
        let e = resolve(NetworkValues { tls: Some("sometimes".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "tls");
    }

    #[test]
    fn turn_tls_needs_tls() {
        let e =
            resolve(NetworkValues { turn_tls_port: Some("443".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "turn_tls_port");
        let e = resolve(NetworkValues {
            tls: Some("self-signed".into()),
            turn_tls_port: Some("3478".into()),
            ..values()
        })
        .unwrap_err();
        assert_eq!(e.key, "turn_tls_port", "one port cannot be TURN/TCP and TURN/TLS");
    }

    #[test]
    fn external_turn() {
        let e = resolve(NetworkValues { turn_external: Some("turn:t:3478".into()), ..values() })
            .unwrap_err();
        assert_eq!(e.key, "turn_secret");
        let ok = NetworkValues {
            turn_external: Some("turn:t.example:3478?transport=udp, turns:t.example:443".into()),
            turn_secret: Some("0123456789abcdef".into()),
            ..values()
        };
        let s = resolve(ok).unwrap();
        assert_eq!(
            s.turn,
            TurnMode::External {
                urls: vec![
                    "turn:t.example:3478?transport=udp".into(),
                    "turns:t.example:443".into()
                ]
            }
        );
        for bad in ["stun:t:3478", "turn:", "turn:t?transport=sctp", "turn://t"] {
            let e = resolve(NetworkValues {
                turn_external: Some(bad.into()),
                turn_secret: Some("0123456789abcdef".into()),
                ..values()
            })
            .unwrap_err();
            assert_eq!(e.key, "turn_external", "{bad}: {e}");
        }
        let e =
            resolve(NetworkValues { turn_secret: Some("short".into()), ..values() }).unwrap_err();
        assert_eq!(e.key, "turn_secret");
    }

    #[test]
    fn bad_ports_name_the_key() {
        for key in ["ice_tcp_port", "turn_port"] {
            let mut v = values();
            let bad = Some("99999".to_string());
            match key {
                "ice_tcp_port" => v.ice_tcp_port = bad,
                _ => v.turn_port = bad,
            }
            assert_eq!(resolve(v).unwrap_err().key, key);
        }
    }
}

//! The node's TLS certificate: loaded from PEM files (and reloaded on SIGHUP) or made once
//! for the node itself ([`self_signed`]), and handed out as a rustls server configuration to
//! every listener that speaks TLS — HTTPS on the HTTP port, TURN over TLS. A listener asks for
//! the current configuration on each new connection, so a reload reaches new connections and
//! leaves established ones (media sessions, events sockets) alone.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use sha2::{Digest, Sha256};

use crate::config::{ConfigError, TlsMode};

pub mod self_signed;

/// A problem with the certificate or key: which setting, which file, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.0)]
pub struct TlsError(pub ConfigError);

fn problem(key: &str, message: String) -> TlsError {
    TlsError(ConfigError { key: key.to_string(), message })
}

/// Where the certificate comes from, to load it again.
#[derive(Debug, Clone)]
enum Source {
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned { cert: PathBuf, key: PathBuf },
}

/// The certificate in use, and how to describe it to a person.
pub struct NodeTls {
    source: Source,
    current: RwLock<Arc<ServerConfig>>,
    summary: RwLock<CertificateSummary>,
}

/// What the ready output says about the certificate.
#[derive(Debug, Clone)]
pub struct CertificateSummary {
    pub cert_path: PathBuf,
    pub self_signed: bool,
    /// SHA-256 of the certificate, as browsers show it (`AB:CD:…`).
    pub fingerprint: String,
    /// base64 SHA-256 of its public key, for Chromium's `--ignore-certificate-errors-spki-list`.
    pub spki_sha256: String,
    /// The DNS names and IP addresses it is valid for.
    pub names: Vec<String>,
}

impl NodeTls {
    /// Loads the configured certificate, making the self-signed one first if needed.
    /// `names` are the addresses and host names the node is reached at (the self-signed
    /// certificate covers them all).
    pub fn load(
        mode: &TlsMode,
        data_dir: &Path,
        names: &[String],
    ) -> Result<Option<NodeTls>, TlsError> {
        let source = match mode {
            TlsMode::Off => return Ok(None),
            TlsMode::Files { cert, key } => Source::Files { cert: cert.clone(), key: key.clone() },
            TlsMode::SelfSigned => {
                let (cert, key) = self_signed::ensure(data_dir, names)?;
                Source::SelfSigned { cert, key }
            }
        };
        let (config, summary) = build(&source)?;
        Ok(Some(NodeTls {
            source,
            current: RwLock::new(Arc::new(config)),
            summary: RwLock::new(summary),
        }))
    }

    /// The configuration for a new connection.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn summary(&self) -> CertificateSummary {
        self.summary.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the files again (SIGHUP). On error the certificate in use stays.
    pub fn reload(&self) -> Result<CertificateSummary, TlsError> {
        let (config, summary) = build(&self.source)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        *self.summary.write().unwrap_or_else(|p| p.into_inner()) = summary.clone();
        Ok(summary)
    }
}

fn build(source: &Source) -> Result<(ServerConfig, CertificateSummary), TlsError> {
    let (cert_path, key_path, self_signed, (cert_key, key_key)) = match source {
        Source::Files { cert, key } => (cert, key, false, ("tls_cert", "tls_key")),
        Source::SelfSigned { cert, key } => (cert, key, true, ("tls", "tls")),
    };
    let chain = read_chain(cert_key, cert_path)?;
    let key = read_key(key_key, key_path)?;
    let summary = summarize(cert_path, self_signed, &chain[0])
        .map_err(|m| problem(cert_key, format!("{}: {m}", cert_path.display())))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            problem(
                key_key,
                format!(
                    "{} does not fit the certificate in {}: {e}",
                    key_path.display(),
                    cert_path.display()
                ),
            )
        })?;
    // HTTP/1.1 only: the events socket is a WebSocket upgrade, which HTTP/2 would need
    // extended CONNECT for; the API's request rate gains nothing from multiplexing.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, summary))
}

fn read_chain(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path)
        .map_err(|e| problem(key, format!("cannot read {}: {e}", path.display())))?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&bytes).collect::<Result<_, _>>().map_err(|e| {
            problem(key, format!("{} is not a PEM certificate chain: {e}", path.display()))
        })?;
    if chain.is_empty() {
        return Err(problem(
            key,
            format!(
                "{} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(chain)
}

fn read_key(key: &str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path)
        .map_err(|e| problem(key, format!("cannot read {}: {e}", path.display())))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        problem(
            key,
            format!(
                "{} holds no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}",
                path.display()
            ),
        )
    })
}

fn summarize(
    path: &Path,
    self_signed: bool,
    leaf: &CertificateDer<'_>,
) -> Result<CertificateSummary, String> {
    use base64::Engine;
    let fingerprint = Sha256::digest(leaf.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let spki = Sha256::digest(parsed.tbs_certificate.subject_pki.raw);
    let names = certificate_names(&parsed);
    Ok(CertificateSummary {
        cert_path: path.to_path_buf(),
        self_signed,
        fingerprint,
        spki_sha256: base64::engine::general_purpose::STANDARD.encode(spki),
        names,
    })
}

/// The subject alternative names of a certificate (DNS names and IP addresses).
fn certificate_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes).ok().map(std::net::IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    names
}

/// Whether a certificate's names cover `host` (a DNS name, with one leading wildcard label, or
/// an IP address).
pub fn covers(names: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    names.iter().any(|name| {
        let name = name.to_ascii_lowercase();
        if name == host {
            return true;
        }
        match name.strip_prefix("*.") {
            Some(suffix) => host
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(what: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "troupe-tls-{what}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn bad_files_name_the_setting_and_the_file() {
        let dir = temp("bad");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let mode = TlsMode::Files { cert: cert.clone(), key: key.clone() };
        // Missing.
        let e = NodeTls::load(&mode, &dir, &[]).err().unwrap();
        assert_eq!(e.0.key, "tls_cert");
        assert!(e.0.message.contains("cert.pem"), "{e}");
        // Not PEM.
        std::fs::write(&cert, "hello").unwrap();
        let e = NodeTls::load(&mode, &dir, &[]).err().unwrap();
        assert_eq!(e.0.key, "tls_cert");
        assert!(e.0.message.contains("no certificate"), "{e}");
        // A certificate, but a key that is not one.
        let (made_cert, _made_key) =
            self_signed::ensure(&dir.join("ss"), &["localhost".into()]).unwrap();
        std::fs::copy(&made_cert, &cert).unwrap();
        std::fs::write(&key, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap();
        let e = NodeTls::load(&mode, &dir, &[]).err().unwrap();
        assert_eq!(e.0.key, "tls_key");
        assert!(e.0.message.contains("key.pem"), "{e}");
        // A key of another certificate.
        let (_, other_key) =
            self_signed::ensure(&dir.join("other"), &["localhost".into()]).unwrap();
        std::fs::copy(&other_key, &key).unwrap();
        let e = NodeTls::load(&mode, &dir, &[]).err().unwrap();
        assert_eq!(e.0.key, "tls_key");
        assert!(e.0.message.contains("does not fit"), "{e}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn reload_keeps_the_old_certificate_on_error() {
        let dir = temp("reload");
        let (cert, key) = self_signed::ensure(&dir.join("a"), &["localhost".into()]).unwrap();
        let mode = TlsMode::Files { cert: cert.clone(), key: key.clone() };
        let tls = NodeTls::load(&mode, &dir, &[]).unwrap().unwrap();
        let before = tls.summary().fingerprint;
        std::fs::write(&cert, "garbage").unwrap();
        assert!(tls.reload().is_err());
        assert_eq!(tls.summary().fingerprint, before, "still the old one");
        // A new certificate in the same files is picked up.
        let (cert2, key2) = self_signed::ensure(&dir.join("b"), &["localhost".into()]).unwrap();
        std::fs::copy(cert2, &cert).unwrap();
        std::fs::copy(key2, &key).unwrap();
        let after = tls.reload().unwrap().fingerprint;
        assert_ne!(after, before);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn names_cover_hosts() {
        let names = vec!["*.example.com".to_string(), "10.0.0.1".to_string(), "::1".to_string()];
        assert!(covers(&names, "live.example.com"));
        assert!(!covers(&names, "example.com"));
        assert!(!covers(&names, "a.b.example.com"));
        assert!(covers(&names, "10.0.0.1"));
        assert!(covers(&names, "[::1]"));
        assert!(!covers(&names, "10.0.0.2"));
    }
}

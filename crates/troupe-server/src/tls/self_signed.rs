//! `--tls self-signed`: a certificate of the node's own, for trying Troupe on a LAN (browsers
//! only give the camera to secure pages). Made once and kept in `<data-dir>/tls/`, so that a
//! browser that accepted it once keeps accepting it; made again only when the node is reached
//! at a name or address it does not cover (a new IP, say).

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

use super::{TlsError, problem};

const DIR: &str = "tls";
const CERT: &str = "self-signed-cert.pem";
const KEY: &str = "self-signed-key.pem";
/// Long, because it is the user who decides to trust it, not a CA's policy.
const VALID_DAYS: i64 = 5 * 365;

/// The certificate and key files covering `names` (made now if missing or if they do not).
pub fn ensure(data_dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join(DIR);
    let (cert, key) = (dir.join(CERT), dir.join(KEY));
    if cert.exists() && key.exists() {
        match existing_names(&cert) {
            Some(have) if names.iter().all(|n| super::covers(&have, n)) => return Ok((cert, key)),
            Some(have) => {
                let missing: Vec<&String> =
                    names.iter().filter(|n| !super::covers(&have, n)).collect();
                tracing::info!(
                    ?missing,
                    path = %cert.display(),
                    "the self-signed certificate does not name this node's addresses: making a new one"
                );
            }
            None => {
                tracing::warn!(path = %cert.display(), "unreadable self-signed certificate: making a new one")
            }
        }
    }
    make(&dir, &cert, &key, names)?;
    Ok((cert, key))
}

fn existing_names(cert: &Path) -> Option<Vec<String>> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let der = CertificateDer::from_pem_file(cert).ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(super::certificate_names(&parsed))
}

fn make(dir: &Path, cert_path: &Path, key_path: &Path, names: &[String]) -> Result<(), TlsError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        problem("tls", format!("cannot make the self-signed certificate ({what}): {e}"))
    };
    let mut params = CertificateParams::default();
    for name in names {
        let san = match name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into().map_err(|e| fail(name, &e))?),
        };
        if !params.subject_alt_names.contains(&san) {
            params.subject_alt_names.push(san);
        }
    }
    let mut subject = DistinguishedName::new();
    let host = names.iter().find(|n| n.parse::<IpAddr>().is_err()).cloned();
    subject.push(
        DnType::CommonName,
        format!("Troupe self-signed ({})", host.as_deref().unwrap_or("this node")),
    );
    params.distinguished_name = subject;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(VALID_DAYS);
    let key = KeyPair::generate().map_err(|e| fail("key", &e))?;
    let cert = params.self_signed(&key).map_err(|e| fail("signing", &e))?;
    std::fs::create_dir_all(dir).map_err(|e| fail(&dir.display().to_string(), &e))?;
    write_private(key_path, key.serialize_pem().as_bytes())
        .map_err(|e| fail(&key_path.display().to_string(), &e))?;
    std::fs::write(cert_path, cert.pem())
        .map_err(|e| fail(&cert_path.display().to_string(), &e))?;
    tracing::info!(path = %cert_path.display(), ?names, "made a self-signed certificate");
    Ok(())
}

/// Writes a file only its owner can read (the key), replacing any older one.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents)
}

/// The names a node is reached at: its host name, `localhost`, every address of its
/// interfaces, the node IP (a NAT's public address, perhaps) and the public URL's host.
pub fn node_names(node_ip: IpAddr, public_host: Option<&str>) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Some(host) = hostname() {
        names.push(host);
    }
    for addr in if_addrs::get_if_addrs().unwrap_or_default() {
        names.push(addr.ip().to_string());
    }
    names.push(node_ip.to_string());
    names.extend(public_host.map(String::from));
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.to_ascii_lowercase()));
    names
}

fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())?;
    let name = name.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_remade_for_new_names() {
        let dir = std::env::temp_dir().join(format!("troupe-ss-{}", std::process::id()));
        let names = vec!["localhost".to_string(), "10.1.2.3".to_string()];
        let (cert, key) = ensure(&dir, &names).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner reads the key");
        }
        let first = std::fs::read(&cert).unwrap();
        ensure(&dir, &names).unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), first, "kept while it covers the names");
        let covered = existing_names(&cert).unwrap();
        assert!(super::super::covers(&covered, "10.1.2.3"));
        ensure(&dir, &["localhost".to_string(), "10.9.9.9".to_string()]).unwrap();
        assert_ne!(std::fs::read(&cert).unwrap(), first, "a new address: a new certificate");
        std::fs::remove_dir_all(dir).ok();
    }
}

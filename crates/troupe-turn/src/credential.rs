//! TURN credentials as the TURN REST API convention makes them (coturn's `use-auth-secret`):
//! `username = "<unix expiry>:<participant id>"`, `password = base64(HMAC-SHA1(secret,
//! username))`. The server needs no table of users: it recomputes the password from the
//! username, and refuses one whose expiry has passed. The same secret in coturn's
//! `static-auth-secret` makes coturn accept Troupe's credentials.

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;

/// A username and password to hand a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
    /// Unix seconds after which the server refuses it.
    pub expires_at: u64,
}

/// Why a username is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the username is not <expiry>:<participant>")]
    Malformed,
    #[error("the credential expired")]
    Expired,
}

/// Mints the credential of `participant`, valid until `expires_at` (unix seconds).
pub fn mint(secret: &[u8], participant: &str, expires_at: u64) -> Credential {
    let username = format!("{expires_at}:{participant}");
    let password = password(secret, &username);
    Credential { username, password, expires_at }
}

/// The password of a username under `secret`.
pub fn password(secret: &[u8], username: &str) -> String {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A username's parts, if it is valid at `unix_now`: its expiry and its participant.
pub fn check(username: &str, unix_now: u64) -> Result<(u64, &str), CredentialError> {
    let (expiry, participant) = username.split_once(':').ok_or(CredentialError::Malformed)?;
    if expiry.is_empty() || expiry.len() > 20 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CredentialError::Malformed);
    }
    let expiry: u64 = expiry.parse().map_err(|_| CredentialError::Malformed)?;
    if participant.is_empty() || participant.len() > 256 {
        return Err(CredentialError::Malformed);
    }
    if expiry < unix_now {
        return Err(CredentialError::Expired);
    }
    Ok((expiry, participant))
}

/// The long-term credential key (RFC 8489 §9.2.2): MD5(username ":" realm ":" password).
/// Passwords here are base64, which SASLprep leaves as they are.
pub fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(username.as_bytes());
    md5.update(b":");
    md5.update(realm.as_bytes());
    md5.update(b":");
    md5.update(password.as_bytes());
    md5.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_coturns() {
        // Computed independently:
        //   printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        let c = mint(b"north", "alice", 1_700_000_000);
        assert_eq!(c.username, "1700000000:alice");
        assert_eq!(c.password, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
    }

    #[test]
    fn usernames_are_checked() {
        assert_eq!(check("100:p1", 99), Ok((100, "p1")));
        assert_eq!(check("100:p1", 100), Ok((100, "p1")), "valid through its expiry second");
        assert_eq!(check("100:p1", 101), Err(CredentialError::Expired));
        for bad in ["", "p1", ":p1", "100:", "1e3:p1", "-1:p1", "99999999999999999999999:p"] {
            assert_eq!(check(bad, 0), Err(CredentialError::Malformed), "{bad:?}");
        }
        assert_eq!(check("100:a:b", 0), Ok((100, "a:b")), "the participant may hold colons");
    }
}

//! Nonces without a table: a nonce is its expiry and a MAC of that expiry and the client's
//! address under a key of the server's own, so any nonce the server made can be checked, one
//! for another client or past its time is stale (RFC 8489 §9.2), and nothing is stored.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub struct Nonces {
    key: [u8; 20],
    lifetime_secs: u64,
}

/// What a client's nonce is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Expired, or not for this client: the client gets a fresh one (438).
    Stale,
}

impl Nonces {
    pub fn new(key: [u8; 20], lifetime_secs: u64) -> Nonces {
        Nonces { key, lifetime_secs }
    }

    fn mac(&self, expiry: u64, client: SocketAddr) -> String {
        let mut mac =
            <Hmac<Sha1> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&expiry.to_be_bytes());
        mac.update(client.to_string().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..10])
    }

    /// A nonce for `client`, valid for the lifetime from `unix_now`.
    pub fn issue(&self, client: SocketAddr, unix_now: u64) -> String {
        let expiry = unix_now + self.lifetime_secs;
        format!("{expiry:016x}{}", self.mac(expiry, client))
    }

    pub fn check(&self, nonce: &str, client: SocketAddr, unix_now: u64) -> NonceCheck {
        let (Some(expiry), Some(mac)) = (nonce.get(..16), nonce.get(16..)) else {
            return NonceCheck::Stale;
        };
        let Ok(expiry) = u64::from_str_radix(expiry, 16) else { return NonceCheck::Stale };
        if expiry < unix_now || mac != self.mac(expiry, client) {
            return NonceCheck::Stale;
        }
        NonceCheck::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_bound_to_client_and_time() {
        let nonces = Nonces::new([3; 20], 600);
        let a: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:5001".parse().unwrap();
        let n = nonces.issue(a, 1_000);
        assert_eq!(nonces.check(&n, a, 1_500), NonceCheck::Valid);
        assert_eq!(nonces.check(&n, a, 1_601), NonceCheck::Stale, "expired");
        assert_eq!(nonces.check(&n, b, 1_500), NonceCheck::Stale, "another client's");
        assert_eq!(nonces.check("short", a, 0), NonceCheck::Stale);
        assert_eq!(nonces.check("zzzzzzzzzzzzzzzz1234", a, 0), NonceCheck::Stale);
        let other = Nonces::new([4; 20], 600);
        assert_eq!(other.check(&n, a, 1_500), NonceCheck::Stale, "another server's");
    }
}

//! Producing signed tokens: header + claims as base64url JSON, signed with
//! ECDSA P-384 / SHA-384, signature as raw `r || s` (96 bytes) per RFC 7518 §3.4.

use p384::ecdsa::signature::Signer as _;
use p384::ecdsa::{Signature, SigningKey};
use serde::Serialize;

use crate::claims::Claims;
use crate::encoding::b64url;

/// The only JWS algorithm this crate produces or accepts.
pub const ALGORITHM: &str = "ES384";

/// The header as serialized: exactly `{"alg":"ES384","typ":"JWT","kid":…}`.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

/// Signs `claims` with `key`, naming the key `kid` in the header, and
/// returns the compact JWS `header.claims.signature`.
///
/// Signatures are deterministic (RFC 6979), so the same inputs give the
/// same token.
pub fn sign(claims: &Claims, key: &SigningKey, kid: &str) -> String {
    let header = HeaderOut { alg: ALGORITHM, typ: "JWT", kid };
    // Serializing plain structs of strings, integers, booleans and a
    // string map cannot fail.
    let header = serde_json::to_vec(&header).expect("token header serializes");
    let claims = serde_json::to_vec(claims).expect("token claims serialize");

    let mut token = b64url(&header);
    token.push('.');
    token.push_str(&b64url(&claims));
    let signature: Signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64url(&signature.to_bytes()));
    token
}

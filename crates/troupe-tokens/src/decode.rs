//! Structural parsing of a received token and its signature check.
//!
//! [`decode`] checks shape only — three base64url parts, an `ES384` header
//! with a `kid`, a complete claim set, a 96-byte signature — and returns an
//! [`UnverifiedToken`]. Nothing in it may be trusted until
//! [`UnverifiedToken::verify_signature`] succeeds with the key the `kid`
//! names. Decoding is bounded by [`MAX_TOKEN_LEN`] and never panics.
//!
//! Header parameters that could point at keys (`jku`, `jwk`, `x5u`, `x5c`)
//! are ignored: keys come only from the verifier's own store. A `crit`
//! header is rejected, since RFC 7515 §4.1.11 requires understanding every
//! listed extension and this crate understands none.

use p384::ecdsa::signature::Verifier as _;
use p384::ecdsa::{Signature, VerifyingKey};
use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::claims::{Claims, TokenCapabilities};
use crate::encoding::b64url_decode;
use crate::error::TokenError;
use crate::sign::ALGORITHM;

/// Longest token [`decode`] will look at, in bytes. Real tokens are well
/// under 2 KiB; attributes are capped far below this by the control plane.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Length of a raw ES384 signature, `r || s`.
const SIGNATURE_LEN: usize = 96;

/// The JOSE header of a decoded token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Always `"ES384"` once decoded.
    pub alg: String,
    /// `typ`, if present (not enforced: it is advisory per RFC 7515).
    pub typ: Option<String>,
    /// The key id; never empty.
    pub kid: String,
}

/// A structurally valid token whose signature has not yet been checked.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    /// The header.
    pub header: Header,
    /// The claims — untrusted until [`UnverifiedToken::verify_signature`] succeeds.
    pub claims: Claims,
    /// `header.claims` exactly as received: what the signature covers.
    signing_input: String,
    /// The raw signature, exactly [`SIGNATURE_LEN`] bytes.
    signature: Vec<u8>,
}

impl UnverifiedToken {
    /// The key id from the header, for looking up the verifying key.
    pub fn kid(&self) -> &str {
        &self.header.kid
    }

    /// The (unverified) claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Consumes the token, returning its claims. Call only after
    /// [`UnverifiedToken::verify_signature`] succeeded.
    pub fn into_claims(self) -> Claims {
        self.claims
    }

    /// Checks the ES384 signature against `key`.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), TokenError> {
        let signature =
            Signature::from_slice(&self.signature).map_err(|_| TokenError::BadSignature)?;
        key.verify(self.signing_input.as_bytes(), &signature).map_err(|_| TokenError::BadSignature)
    }
}

/// Parses a compact JWS participant token without verifying it.
pub fn decode(token: &str) -> Result<UnverifiedToken, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge { len: token.len(), max: MAX_TOKEN_LEN });
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(TokenError::WrongPartCount { found: parts.len() });
    };

    let header_json = b64url_decode(header_b64).ok_or(TokenError::BadBase64 { part: "header" })?;
    let header = parse_header(&header_json)?;

    let claims_json = b64url_decode(claims_b64).ok_or(TokenError::BadBase64 { part: "claims" })?;
    let signature =
        b64url_decode(signature_b64).ok_or(TokenError::BadBase64 { part: "signature" })?;
    if signature.len() != SIGNATURE_LEN {
        return Err(TokenError::MalformedSignature { len: signature.len() });
    }
    let claims = parse_claims(&claims_json)?;

    Ok(UnverifiedToken {
        header,
        claims,
        signing_input: token[..header_b64.len() + 1 + claims_b64.len()].to_owned(),
        signature,
    })
}

/// Parses and checks the JOSE header.
fn parse_header(json: &[u8]) -> Result<Header, TokenError> {
    let object = parse_object(json).map_err(TokenError::MalformedHeader)?;

    let alg = match object.get("alg") {
        Some(Value::String(alg)) => alg,
        Some(_) => {
            return Err(TokenError::MalformedHeader("\"alg\" is not a string".into()));
        }
        None => return Err(TokenError::MalformedHeader("missing \"alg\"".into())),
    };
    if alg != ALGORITHM {
        return Err(TokenError::UnsupportedAlgorithm { alg: alg.clone() });
    }
    if object.contains_key("crit") {
        return Err(TokenError::MalformedHeader(
            "critical header extensions (\"crit\") are not supported".into(),
        ));
    }
    let kid = match object.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        Some(Value::String(_)) | None => return Err(TokenError::MissingKeyId),
        Some(_) => {
            return Err(TokenError::MalformedHeader("\"kid\" is not a string".into()));
        }
    };
    let typ = match object.get("typ") {
        Some(Value::String(typ)) => Some(typ.clone()),
        None => None,
        Some(_) => {
            return Err(TokenError::MalformedHeader("\"typ\" is not a string".into()));
        }
    };
    Ok(Header { alg: alg.clone(), typ, kid })
}

/// Parses and checks the claim set, naming the first missing or mistyped claim.
fn parse_claims(json: &[u8]) -> Result<Claims, TokenError> {
    let object = parse_object(json).map_err(TokenError::MalformedClaims)?;
    if let Some(missing) = Claims::REQUIRED.into_iter().find(|name| !object.contains_key(*name)) {
        return Err(TokenError::MissingClaim(missing));
    }
    for (name, value) in &object {
        check_claim_type(name, value)
            .map_err(|e| TokenError::MalformedClaims(format!("claim \"{name}\": {e}")))?;
    }
    Claims::deserialize(&Value::Object(object))
        .map_err(|e| TokenError::MalformedClaims(e.to_string()))
}

/// Deserializes one known claim on its own so a type error can name it.
fn check_claim_type(name: &str, value: &Value) -> Result<(), serde_json::Error> {
    match name {
        "exp" | "iat" => i64::deserialize(value).map(drop),
        "nbf" => Option::<i64>::deserialize(value).map(drop),
        "jti" | "resource" | "topic" | "events_url" | "whip_url" | "version" => {
            String::deserialize(value).map(drop)
        }
        "user_id" => Option::<String>::deserialize(value).map(drop),
        "capabilities" => TokenCapabilities::deserialize(value).map(drop),
        "attributes" => std::collections::BTreeMap::<String, String>::deserialize(value).map(drop),
        _ => Ok(()),
    }
}

/// Parses `json` as a JSON object. serde_json bounds nesting depth, so
/// hostile input cannot exhaust the stack.
fn parse_object(json: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

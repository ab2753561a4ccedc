//! Public keys imported by operators (IVS `ImportPublicKey`) for verifying
//! self-signed tokens: PEM parsing and fingerprints.
//!
//! Only SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) holding a
//! P-384 EC key is accepted. Other inputs are told apart so the operator
//! gets a useful message: not PEM, another PEM type, another key type or
//! curve, a bad curve point.

use p384::ecdsa::VerifyingKey;
use p384::pkcs8::der::Document;
use p384::pkcs8::{EncodePublicKey as _, LineEnding, ObjectIdentifier, SubjectPublicKeyInfoRef};
use sha2::{Digest as _, Sha256};

use crate::error::KeyError;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Parses an SPKI PEM public key, accepting only P-384.
pub fn parse_public_key_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    let (label, document) =
        Document::from_pem(pem.trim()).map_err(|e| KeyError::NotPem(e.to_string()))?;
    if label != "PUBLIC KEY" {
        return Err(KeyError::WrongPemLabel { label: label.to_owned() });
    }
    let spki = SubjectPublicKeyInfoRef::try_from(document.as_bytes())
        .map_err(|e| KeyError::MalformedSpki(e.to_string()))?;
    let (algorithm, parameters) =
        spki.algorithm.oids().map_err(|e| KeyError::MalformedSpki(e.to_string()))?;
    if algorithm != ID_EC_PUBLIC_KEY || parameters != Some(SECP384R1) {
        return Err(KeyError::NotP384 { found: describe_algorithm(algorithm, parameters) });
    }
    VerifyingKey::try_from(spki).map_err(|_| KeyError::InvalidPoint)
}

/// The fingerprint of a public key: SHA-256 of its DER SubjectPublicKeyInfo,
/// as 64 lowercase hex digits.
///
/// IVS documents `fingerprint` only as "a short string used to identify or
/// verify the full public key" and its exact derivation is unconfirmed. The
/// SPKI digest was chosen because anyone can reproduce it from the PEM with
/// standard tools:
/// `openssl pkey -pubin -in key.pem -outform DER | sha256sum`.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(spki_der(key)))
}

/// Encodes `key` as an SPKI PEM (`-----BEGIN PUBLIC KEY-----`, LF line endings).
pub fn encode_public_key_pem(key: &VerifyingKey) -> String {
    // Encoding a valid in-memory key cannot fail.
    key.to_public_key_pem(LineEnding::LF).expect("a P-384 public key encodes as PEM")
}

/// The DER SubjectPublicKeyInfo of `key`.
pub(crate) fn spki_der(key: &VerifyingKey) -> Vec<u8> {
    key.to_public_key_der().expect("a P-384 public key encodes as DER").into_vec()
}

/// A human name for a public key algorithm, for error messages.
fn describe_algorithm(algorithm: ObjectIdentifier, parameters: Option<ObjectIdentifier>) -> String {
    match algorithm.to_string().as_str() {
        "1.2.840.10045.2.1" => match parameters.map(|p| p.to_string()).as_deref() {
            Some("1.2.840.10045.3.1.7") => "EC P-256".into(),
            Some("1.3.132.0.35") => "EC P-521".into(),
            Some("1.3.132.0.10") => "EC secp256k1".into(),
            Some(curve) => format!("EC key on curve {curve}"),
            None => "EC key without a named curve".into(),
        },
        "1.2.840.113549.1.1.1" => "RSA".into(),
        "1.2.840.113549.1.1.10" => "RSA-PSS".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        other => format!("key algorithm {other}"),
    }
}

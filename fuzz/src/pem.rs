//! The `public_key_pem` harness: `ImportPublicKey`'s `publicKeyMaterial`.
//!
//! Input: the PEM text (inputs that are not UTF-8 are skipped: it arrives as a JSON string).
//! Oracle beyond "no panic": an accepted key fingerprints, re-encodes, and parses back to
//! the same key.
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use troupe_tokens::{
    NodeKey, SigningKey, encode_public_key_pem, fingerprint, parse_public_key_pem,
};

/// Parses `data` as an SPKI PEM. Returns whether it was accepted.
pub fn run(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(key) = parse_public_key_pem(text) else {
        return false;
    };
    assert_eq!(fingerprint(&key).len(), 64);
    let pem = encode_public_key_pem(&key);
    let again = parse_public_key_pem(&pem).expect("a re-encoded accepted key parses");
    assert_eq!(again, key, "re-encoding changed the key");
    true
}

/// A P-384 public key PEM (LF line endings) from a fixed private scalar.
pub fn p384_pem(scalar: u8) -> String {
    let signing = SigningKey::from_slice(&[scalar; 48]).expect("a valid scalar");
    NodeKey::from_signing_key(signing).public_pem().to_owned()
}

/// An Ed25519 key: well-formed SPKI, wrong algorithm.
pub const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEABSCD0+PyvwaXC6UmF3TxQGaD4F3jgjT32c+TYCU3reA=
-----END PUBLIC KEY-----
";

/// A P-256 key: well-formed SPKI, wrong curve.
pub const P256_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEekIKNAvKGoiZEXk8ikONzDRMuGsm
jeav9jsZ9vMRKShYacruGeIe4zff/qC+nlD51OEWdzARYx6ZIctIDWdZ0g==
-----END PUBLIC KEY-----
";

/// Accepted keys in the shapes operators paste them, then well-formed rejected ones.
pub fn seeds() -> Vec<Vec<u8>> {
    let pem = p384_pem(0x2a);
    vec![
        pem.clone().into_bytes(),
        pem.replace('\n', "\r\n").into_bytes(),
        format!("\n  {pem}  \n").into_bytes(),
        p384_pem(0x07).into_bytes(),
        P256_PEM.as_bytes().to_vec(),
        ED25519_PEM.as_bytes().to_vec(),
        pem.replace("PUBLIC KEY", "EC PRIVATE KEY").into_bytes(),
    ]
}

/// Pieces of PEM and base64 worth splicing in.
pub const DICTIONARY: &[&[u8]] = &[
    b"-----BEGIN PUBLIC KEY-----\n",
    b"-----END PUBLIC KEY-----\n",
    b"-----BEGIN ",
    b"-----END ",
    b"-----",
    b"\n",
    b"\r\n",
    b"=",
    b"==",
    b"+/",
    b"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE",
    b"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
    b"MCowBQYDK2VwAyEA",
    b"AAAAAAAAAAAAAAAA",
    b"////////////////",
];

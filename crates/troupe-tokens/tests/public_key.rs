//! Parsing imported public key PEMs and fingerprinting them.

use troupe_tokens::{KeyError, NodeKey, fingerprint, parse_public_key_pem};

/// Generated with `openssl ecparam -name secp384r1 -genkey | openssl pkey -pubout`.
const P384_PEM: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEEIYmGSHqIb7dXU+Qe27+F7wtg53f1Yxu
xE+q1ZhzfqbdfhLa4UwYS32uVnvIvAe9eLVaGRVaEdJx4pOuFk15aXU0/LrUCdfz
7fweuPhRZvPmiQXEdlwQL6waZxGWU1jH
-----END PUBLIC KEY-----
";
/// `openssl pkey -pubin -in key.pem -outform DER | sha256sum` of [`P384_PEM`].
const P384_FINGERPRINT: &str = "2ca50bddc6a5f8810f92aa9da4097b0d6790687138e3af9ea12f74fe69750a28";

const P256_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEekIKNAvKGoiZEXk8ikONzDRMuGsm
jeav9jsZ9vMRKShYacruGeIe4zff/qC+nlD51OEWdzARYx6ZIctIDWdZ0g==
-----END PUBLIC KEY-----
";
const RSA_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkKYdka2eoLYEa1hi3GOakxzNn
45uViTYI/16ZH6t2voGZLymuZQvI4SKbaDBJZVLy2wUQ73edAbVSWwE9qQXXygvS
Hlun5ofriphAh8bLi/DRXGXamRLyUtYOBNh8svdrVQh4GJ+BGbNLF7eFInFOpRLl
mUQCCrVt4MGMZhmgswIDAQAB
-----END PUBLIC KEY-----
";
const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEABSCD0+PyvwaXC6UmF3TxQGaD4F3jgjT32c+TYCU3reA=
-----END PUBLIC KEY-----
";

#[test]
fn p384_spki_pem_is_accepted_and_fingerprinted_like_openssl() {
    let key = parse_public_key_pem(P384_PEM).unwrap();
    assert_eq!(fingerprint(&key), P384_FINGERPRINT);
    // Surrounding whitespace and CRLF line endings are tolerated.
    let crlf = format!("\n  {}  \n", P384_PEM.replace('\n', "\r\n"));
    assert_eq!(parse_public_key_pem(&crlf).unwrap(), key);
}

#[test]
fn round_trips_through_node_key_pem() {
    let node = NodeKey::generate();
    let key = parse_public_key_pem(node.public_pem()).unwrap();
    assert_eq!(&key, node.verifying_key());
    assert_eq!(fingerprint(&key), node.fingerprint());
    assert_eq!(fingerprint(&key).len(), 64);
}

#[test]
fn other_key_types_are_named() {
    for (pem, found) in [(P256_PEM, "EC P-256"), (RSA_PEM, "RSA"), (ED25519_PEM, "Ed25519")] {
        let error = parse_public_key_pem(pem).unwrap_err();
        assert_eq!(error, KeyError::NotP384 { found: found.into() });
        assert!(error.to_string().starts_with("not a P-384 public key"), "{error}");
    }
}

#[test]
fn garbage_is_not_pem() {
    for input in ["", "garbage", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n"] {
        assert!(matches!(parse_public_key_pem(input), Err(KeyError::NotPem(_))), "{input:?}");
    }
}

#[test]
fn wrong_pem_labels() {
    let private = P384_PEM.replace("PUBLIC KEY", "PRIVATE KEY");
    assert_eq!(
        parse_public_key_pem(&private).unwrap_err(),
        KeyError::WrongPemLabel { label: "PRIVATE KEY".into() }
    );
    let certificate = P384_PEM.replace("PUBLIC KEY", "CERTIFICATE");
    assert!(matches!(
        parse_public_key_pem(&certificate),
        Err(KeyError::WrongPemLabel { label }) if label == "CERTIFICATE"
    ));
}

#[test]
fn broken_spki_and_bad_points() {
    // Valid PEM armour around bytes that are not a SubjectPublicKeyInfo.
    // DER `SEQUENCE { INTEGER 1 }`.
    let not_spki = "-----BEGIN PUBLIC KEY-----\nMAMCAQE=\n-----END PUBLIC KEY-----\n";
    assert!(matches!(parse_public_key_pem(not_spki), Err(KeyError::MalformedSpki(_))));

    // A P-384 SPKI whose point is off the curve: flip a bit of y.
    let der = pem_body(P384_PEM);
    let mut bad = der.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(parse_public_key_pem(&to_pem(&bad)).unwrap_err(), KeyError::InvalidPoint);
    assert_eq!(to_pem(&der).trim(), P384_PEM.trim(), "helper round trips");
}

fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn to_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

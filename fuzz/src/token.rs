//! The `token_decode` harness: a participant token as a client would present it.
//!
//! Input: the token text (inputs that are not UTF-8 are skipped: the token arrives as a
//! `&str`). Everything a verifier does after a successful decode runs too, including the
//! signature check against [`key`], which signed [`seeds`].
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use troupe_tokens::{Claims, NodeKey, SigningKey, TokenCapabilities, check_times, decode};

/// The fixed key the seed tokens are signed with.
pub fn key() -> &'static NodeKey {
    static KEY: OnceLock<NodeKey> = OnceLock::new();
    KEY.get_or_init(|| {
        NodeKey::from_signing_key(SigningKey::from_slice(&[0x2a; 48]).expect("a valid scalar"))
    })
}

/// When the seed tokens were issued (unix seconds).
pub const ISSUED_AT: i64 = 1_800_000_000;

/// Decodes `data` as a token; on success also reads the key id, checks the times and
/// verifies the signature. Returns whether the token decoded and its signature verified.
pub fn run(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(token) = decode(text) else {
        return false;
    };
    let _ = token.kid();
    let _ = check_times(token.claims(), ISSUED_AT + 60, 30, 1_209_600);
    token.verify_signature(key().verifying_key()).is_ok()
}

/// Claims like those the control plane mints.
pub fn claims(user_id: Option<&str>, attributes: &[(&str, &str)]) -> Claims {
    Claims {
        exp: ISSUED_AT + 3600,
        iat: ISSUED_AT,
        nbf: Some(ISSUED_AT),
        jti: "p-0123456789ab".into(),
        user_id: user_id.map(str::to_owned),
        resource: "arn:aws:ivs:us-east-1:000000000000:stage/AbCdEf012345".into(),
        topic: "AbCdEf012345".into(),
        events_url: "ws://127.0.0.1:7800/events".into(),
        whip_url: "http://127.0.0.1:7800/whip".into(),
        capabilities: TokenCapabilities { allow_publish: true, allow_subscribe: true },
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        version: "1.0".into(),
    }
}

/// Real tokens signed by [`key`]; every one decodes and verifies.
pub fn seeds() -> Vec<Vec<u8>> {
    [
        claims(Some("alice"), &[("role", "host")]),
        claims(None, &[]),
        claims(Some("ünïcødé \"quoted\""), &[("a", "1"), ("b", "\u{1F600}")]),
    ]
    .iter()
    .map(|claims| key().sign(claims).into_bytes())
    .collect()
}

/// Pieces of tokens worth splicing in.
pub const DICTIONARY: &[&[u8]] = &[
    b".",
    b"eyJ",
    b"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImsifQ",
    b"e30",
    b"W10",
    b"bnVsbA",
    b"=",
    b"-",
    b"_",
    b"+",
    b"/",
    b"AAAA",
];

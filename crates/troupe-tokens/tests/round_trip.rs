//! Sign → decode → verify with this crate alone.

mod common;

use common::{b64, now, sample_claims, unb64};
use troupe_tokens::{NodeKey, TokenError, decode, sign};

#[test]
fn node_key_token_round_trips() {
    let key = NodeKey::generate();
    let claims = sample_claims(now());
    let token = key.sign(&claims);

    let decoded = decode(&token).expect("decodes");
    assert_eq!(decoded.kid(), key.kid());
    assert_eq!(decoded.header.alg, "ES384");
    assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
    assert_eq!(decoded.claims(), &claims);
    decoded.verify_signature(key.verifying_key()).expect("signature verifies");
    assert_eq!(decoded.into_claims(), claims);
}

#[test]
fn header_is_exactly_the_ivs_shape() {
    let key = NodeKey::generate();
    let token = key.sign(&sample_claims(now()));
    let header = unb64(token.split('.').next().unwrap());
    assert_eq!(
        String::from_utf8(header).unwrap(),
        format!(r#"{{"alg":"ES384","typ":"JWT","kid":"{}"}}"#, key.kid())
    );
    let signature = unb64(token.rsplit('.').next().unwrap());
    assert_eq!(signature.len(), 96, "raw r||s, not DER");
}

#[test]
fn claim_names_are_exact_and_optional_ones_omitted() {
    let key = NodeKey::generate();
    let mut claims = sample_claims(1_700_000_000);
    claims.user_id = None;
    let token = key.sign(&claims);
    let payload: serde_json::Value =
        serde_json::from_slice(&unb64(token.split('.').nth(1).unwrap())).unwrap();
    let mut names: Vec<&str> = payload.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "attributes",
            "capabilities",
            "events_url",
            "exp",
            "iat",
            "jti",
            "resource",
            "topic",
            "version",
            "whip_url"
        ]
    );
    assert_eq!(
        payload["capabilities"],
        serde_json::json!({"allow_publish": true, "allow_subscribe": false})
    );
    assert_eq!(payload["exp"], serde_json::json!(1_700_003_600));
    assert_eq!(payload["version"], "1.0");
}

#[test]
fn free_sign_function_matches_node_key() {
    let key = NodeKey::generate();
    let signing_key = p384::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let claims = sample_claims(now());
    // Deterministic signatures: same inputs, same token.
    assert_eq!(sign(&claims, &signing_key, "k1"), sign(&claims, &signing_key, "k1"));
    let token = sign(&claims, &signing_key, "self-signed");
    let decoded = decode(&token).unwrap();
    assert_eq!(decoded.kid(), "self-signed");
    decoded.verify_signature(signing_key.verifying_key()).unwrap();
    // ...but not under another key.
    assert_eq!(decoded.verify_signature(key.verifying_key()), Err(TokenError::BadSignature));
}

#[test]
fn tampered_claims_fail_signature_check() {
    let key = NodeKey::generate();
    let token = key.sign(&sample_claims(now()));
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&unb64(parts[1])).unwrap();
    claims["capabilities"]["allow_subscribe"] = serde_json::json!(true);
    let forged =
        format!("{}.{}.{}", parts[0], b64(&serde_json::to_vec(&claims).unwrap()), parts[2]);
    let decoded = decode(&forged).expect("still well-formed");
    assert!(decoded.claims().capabilities.allow_subscribe);
    assert_eq!(decoded.verify_signature(key.verifying_key()), Err(TokenError::BadSignature));
}

#[test]
fn tampered_signature_and_header_fail() {
    let key = NodeKey::generate();
    let token = key.sign(&sample_claims(now()));
    let parts: Vec<&str> = token.split('.').collect();

    let mut signature = unb64(parts[2]);
    signature[10] ^= 1;
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
    assert_eq!(
        decode(&forged).unwrap().verify_signature(key.verifying_key()),
        Err(TokenError::BadSignature)
    );

    // All-zero r and s is not even a valid signature value.
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64(&[0u8; 96]));
    assert_eq!(
        decode(&forged).unwrap().verify_signature(key.verifying_key()),
        Err(TokenError::BadSignature)
    );

    // A different kid changes the signed header.
    let header = br#"{"alg":"ES384","typ":"JWT","kid":"other"}"#;
    let forged = format!("{}.{}.{}", b64(header), parts[1], parts[2]);
    assert_eq!(
        decode(&forged).unwrap().verify_signature(key.verifying_key()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn unknown_claims_ignored_nbf_parsed() {
    let key = p384::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let mut claims = serde_json::to_value(sample_claims(100)).unwrap();
    claims["nbf"] = serde_json::json!(150);
    claims["something_else"] = serde_json::json!({"x": [1, 2]});
    let header = br#"{"alg":"ES384","kid":"k"}"#;
    let input = format!("{}.{}", b64(header), b64(&serde_json::to_vec(&claims).unwrap()));
    let signature: p384::ecdsa::Signature =
        p384::ecdsa::signature::Signer::sign(&key, input.as_bytes());
    let token = format!("{input}.{}", b64(&signature.to_bytes()));

    let decoded = decode(&token).unwrap();
    assert_eq!(decoded.claims().nbf, Some(150));
    assert_eq!(decoded.header.typ, None);
    decoded.verify_signature(key.verifying_key()).unwrap();
}

//! Cross-checks against an independent implementation, `jsonwebtoken` 9
//! (ring-backed), in both directions.

mod common;

use common::{now, sample_claims};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p384::pkcs8::{EncodePrivateKey as _, LineEnding};
use troupe_tokens::{Claims, NodeKey, TokenError, check_times, decode, parse_public_key_pem};

#[test]
fn jsonwebtoken_verifies_node_key_tokens() {
    let key = NodeKey::generate();
    let claims = sample_claims(now());
    let token = key.sign(&claims);

    let decoding_key = DecodingKey::from_ec_pem(key.public_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::ES384);
    validation.validate_exp = true;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Claims>(&token, &decoding_key, &validation)
        .expect("jsonwebtoken accepts our token");
    assert_eq!(data.claims, claims);
    assert_eq!(data.header.alg, Algorithm::ES384);
    assert_eq!(data.header.kid.as_deref(), Some(key.kid()));
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
}

#[test]
fn jsonwebtoken_rejects_our_expired_token() {
    let key = NodeKey::generate();
    let token = key.sign(&sample_claims(now() - 7200));
    let decoding_key = DecodingKey::from_ec_pem(key.public_pem().as_bytes()).unwrap();
    let error =
        jsonwebtoken::decode::<Claims>(&token, &decoding_key, &Validation::new(Algorithm::ES384))
            .unwrap_err();
    assert_eq!(error.kind(), &jsonwebtoken::errors::ErrorKind::ExpiredSignature);
}

#[test]
fn we_verify_jsonwebtoken_tokens() {
    let signing_key = p384::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let private_pem = signing_key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public_pem = troupe_tokens::public_key::encode_public_key_pem(signing_key.verifying_key());

    let claims = sample_claims(now());
    let mut header = Header::new(Algorithm::ES384);
    header.kid = Some("arn:aws:ivs:us-west-2:123456789012:public-key/abc".into());
    let encoding_key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&header, &claims, &encoding_key).unwrap();

    let decoded = decode(&token).expect("we accept jsonwebtoken's token");
    assert_eq!(decoded.kid(), "arn:aws:ivs:us-west-2:123456789012:public-key/abc");
    assert_eq!(decoded.claims(), &claims);
    let verifying_key = parse_public_key_pem(&public_pem).unwrap();
    decoded.verify_signature(&verifying_key).unwrap();
    check_times(decoded.claims(), now(), 60, 14 * 24 * 3600).unwrap();

    // And a different key does not verify it.
    let other = NodeKey::generate();
    assert_eq!(decoded.verify_signature(other.verifying_key()), Err(TokenError::BadSignature));
}

#[test]
fn jsonwebtoken_es256_and_hs256_tokens_are_rejected_by_alg() {
    let claims = sample_claims(now());

    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k".into());
    let token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(b"secret")).unwrap();
    assert_eq!(
        decode(&token).unwrap_err(),
        TokenError::UnsupportedAlgorithm { alg: "HS256".into() }
    );

    // A genuine ES256 token, signed by jsonwebtoken with a P-256 key
    // (test-only key generated with `openssl ecparam -name prime256v1`).
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k".into());
    let p256 = EncodingKey::from_ec_pem(P256_PRIVATE_PEM.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&header, &claims, &p256).unwrap();
    assert_eq!(
        decode(&token).unwrap_err(),
        TokenError::UnsupportedAlgorithm { alg: "ES256".into() }
    );
}

const P256_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk7yBKAfwEuAqO4Yk
05Pi8FX06RURedeHv5tf+umSbdahRANCAAR0W5V5cs1mEzGM4DWVaAK+aAu7JwTK
j02k65O3s+EA6pK2PNfpvW4d+OhXd46g/8mFzHrTL/JaRiIULSeXZCt5
-----END PRIVATE KEY-----
";

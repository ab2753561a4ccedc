//! `decode` rejects every structurally wrong token with a distinct error.

mod common;

use common::{b64, now, sample_claims};
use troupe_tokens::{Claims, MAX_TOKEN_LEN, NodeKey, TokenError, decode};

/// A token with the given raw header JSON, claims JSON and signature bytes.
fn assemble(header: &[u8], claims: &[u8], signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(claims), b64(signature))
}

fn claims_json() -> Vec<u8> {
    serde_json::to_vec(&sample_claims(now())).unwrap()
}

const GOOD_HEADER: &[u8] = br#"{"alg":"ES384","typ":"JWT","kid":"k"}"#;

#[test]
fn assembled_baseline_decodes() {
    decode(&assemble(GOOD_HEADER, &claims_json(), &[7; 96])).expect("baseline is well-formed");
}

#[test]
fn alg_none_is_rejected() {
    let header = br#"{"alg":"none","typ":"JWT","kid":"k"}"#;
    let unsigned = format!("{}.{}.", b64(header), b64(&claims_json()));
    assert_eq!(
        decode(&unsigned).unwrap_err(),
        TokenError::UnsupportedAlgorithm { alg: "none".into() }
    );
    // Also with a signature part present.
    assert_eq!(
        decode(&assemble(header, &claims_json(), &[1; 96])).unwrap_err(),
        TokenError::UnsupportedAlgorithm { alg: "none".into() }
    );
}

#[test]
fn other_algorithms_are_rejected() {
    for alg in ["HS256", "HS384", "ES256", "ES512", "RS256", "PS384", "es384", "ES384 ", ""] {
        let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
        assert_eq!(
            decode(&assemble(header.as_bytes(), &claims_json(), &[1; 96])).unwrap_err(),
            TokenError::UnsupportedAlgorithm { alg: alg.into() },
            "alg {alg:?}"
        );
    }
}

#[test]
fn hs256_token_signed_with_the_public_key_as_secret_is_rejected() {
    // The classic alg-confusion attack: HMAC keyed with the public PEM.
    let key = NodeKey::generate();
    let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#, key.kid());
    let token = jsonwebtoken::encode(
        &serde_json::from_str::<jsonwebtoken::Header>(&header).unwrap(),
        &sample_claims(now()),
        &jsonwebtoken::EncodingKey::from_secret(key.public_pem().as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        decode(&token),
        Err(TokenError::UnsupportedAlgorithm { alg }) if alg == "HS256"
    ));
}

#[test]
fn malformed_headers() {
    let cases: [(&[u8], TokenError); 8] = [
        (br#"{"typ":"JWT","kid":"k"}"#, TokenError::MalformedHeader("missing \"alg\"".into())),
        (
            br#"{"alg":384,"kid":"k"}"#,
            TokenError::MalformedHeader("\"alg\" is not a string".into()),
        ),
        (br#"{"alg":"ES384"}"#, TokenError::MissingKeyId),
        (br#"{"alg":"ES384","kid":""}"#, TokenError::MissingKeyId),
        (
            br#"{"alg":"ES384","kid":7}"#,
            TokenError::MalformedHeader("\"kid\" is not a string".into()),
        ),
        (
            br#"{"alg":"ES384","kid":"k","typ":1}"#,
            TokenError::MalformedHeader("\"typ\" is not a string".into()),
        ),
        (
            br#"{"alg":"ES384","kid":"k","crit":["exp"]}"#,
            TokenError::MalformedHeader(
                "critical header extensions (\"crit\") are not supported".into(),
            ),
        ),
        (br#"["ES384"]"#, TokenError::MalformedHeader("not a JSON object".into())),
    ];
    for (header, expected) in cases {
        assert_eq!(
            decode(&assemble(header, &claims_json(), &[1; 96])).unwrap_err(),
            expected,
            "header {}",
            String::from_utf8_lossy(header)
        );
    }
    assert!(matches!(
        decode(&assemble(b"{not json", &claims_json(), &[1; 96])),
        Err(TokenError::MalformedHeader(m)) if m.starts_with("invalid JSON")
    ));
}

#[test]
fn wrong_segment_counts() {
    let good = assemble(GOOD_HEADER, &claims_json(), &[1; 96]);
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        (String::new(), 1),
        (parts[0].to_owned(), 1),
        (format!("{}.{}", parts[0], parts[1]), 2),
        (format!("{good}.{}", parts[2]), 4),
        (format!("{good}.."), 5),
        ("....".to_owned(), 5),
    ];
    for (token, found) in cases {
        assert_eq!(decode(&token).unwrap_err(), TokenError::WrongPartCount { found }, "{token:?}");
    }
}

#[test]
fn bad_base64_in_each_part() {
    let good = assemble(GOOD_HEADER, &claims_json(), &[1; 96]);
    let parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    for (index, part) in ["header", "claims", "signature"].into_iter().enumerate() {
        for corrupt in [
            format!("{}=", parts[index]), // padding is not allowed
            format!("{}*", parts[index]), // outside the alphabet
            parts[index].replace(['-', '_'], "+"),
            // A length of 4n + 1 is impossible in base64.
            format!("{}{}", parts[index], "A".repeat((5 - parts[index].len() % 4) % 4)),
        ] {
            if corrupt == parts[index] {
                continue;
            }
            let mut mutated = parts.clone();
            mutated[index] = corrupt;
            let result = decode(&mutated.join("."));
            assert_eq!(
                result.unwrap_err(),
                TokenError::BadBase64 { part },
                "part {part}: {:?}",
                mutated[index]
            );
        }
    }
    // Standard-alphabet characters are not base64url.
    let token = format!("{}.{}.{}", b64(GOOD_HEADER), b64(&claims_json()), "ab+/");
    assert_eq!(decode(&token).unwrap_err(), TokenError::BadBase64 { part: "signature" });
}

#[test]
fn signature_must_be_96_raw_bytes() {
    for len in [0, 1, 64, 95, 97, 104, 132] {
        assert_eq!(
            decode(&assemble(GOOD_HEADER, &claims_json(), &vec![1; len])).unwrap_err(),
            TokenError::MalformedSignature { len },
        );
    }
}

#[test]
fn every_missing_required_claim_is_named() {
    for name in Claims::REQUIRED {
        let mut claims = serde_json::to_value(sample_claims(now())).unwrap();
        claims.as_object_mut().unwrap().remove(name);
        let token = assemble(GOOD_HEADER, &serde_json::to_vec(&claims).unwrap(), &[1; 96]);
        let error = decode(&token).unwrap_err();
        assert_eq!(error, TokenError::MissingClaim(name));
        assert!(error.to_string().contains(name), "{error}");
    }
}

#[test]
fn optional_claims_may_be_missing() {
    let mut claims = serde_json::to_value(sample_claims(now())).unwrap();
    let object = claims.as_object_mut().unwrap();
    object.remove("user_id");
    object.remove("attributes");
    let token = assemble(GOOD_HEADER, &serde_json::to_vec(&claims).unwrap(), &[1; 96]);
    let decoded = decode(&token).unwrap();
    assert_eq!(decoded.claims().user_id, None);
    assert!(decoded.claims().attributes.is_empty());
}

#[test]
fn mistyped_claims_are_named() {
    let cases = [
        ("exp", serde_json::json!("tomorrow")),
        ("iat", serde_json::json!(1.5)),
        ("nbf", serde_json::json!(true)),
        ("jti", serde_json::json!(12)),
        ("user_id", serde_json::json!(["a"])),
        ("capabilities", serde_json::json!({"allow_publish": "yes"})),
        ("capabilities", serde_json::json!({"allow_publish": true})),
        ("attributes", serde_json::json!({"a": 1})),
        ("version", serde_json::json!(1.0)),
    ];
    for (name, value) in cases {
        let mut claims = serde_json::to_value(sample_claims(now())).unwrap();
        claims[name] = value.clone();
        let token = assemble(GOOD_HEADER, &serde_json::to_vec(&claims).unwrap(), &[1; 96]);
        match decode(&token) {
            Err(TokenError::MalformedClaims(message)) => {
                assert!(message.contains(name), "{name}={value}: {message}")
            }
            other => panic!("{name}={value}: {other:?}"),
        }
    }
    for claims in [&b"[]"[..], b"null", b"\"x\"", b"{"] {
        assert!(matches!(
            decode(&assemble(GOOD_HEADER, claims, &[1; 96])),
            Err(TokenError::MalformedClaims(_))
        ));
    }
}

#[test]
fn oversized_tokens_are_rejected_before_parsing() {
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(
        decode(&huge).unwrap_err(),
        TokenError::TooLarge { len: MAX_TOKEN_LEN + 1, max: MAX_TOKEN_LEN }
    );
    // A real, validly signed token padded out with attributes.
    let key = NodeKey::generate();
    let mut claims = sample_claims(now());
    claims.attributes.insert("blob".into(), "x".repeat(MAX_TOKEN_LEN));
    let token = key.sign(&claims);
    assert!(matches!(
        decode(&token),
        Err(TokenError::TooLarge { len, .. }) if len == token.len()
    ));
    // Just under the limit is fine.
    claims.attributes.insert("blob".into(), "x".repeat(1000));
    decode(&key.sign(&claims)).unwrap();
}

#[test]
fn sdk_codes() {
    assert_eq!(TokenError::Expired { exp: 1, now: 2 }.sdk_code(), "TOKEN_EXPIRED");
    assert_eq!(TokenError::NotYetValid { not_before: 3, now: 2 }.sdk_code(), "TOKEN_EXPIRED");
    for error in [
        TokenError::BadSignature,
        TokenError::UnknownKey { kid: "k".into() },
        TokenError::MissingKeyId,
        TokenError::UnsupportedAlgorithm { alg: "none".into() },
        TokenError::LifetimeTooLong { lifetime: 10, max: 5 },
    ] {
        assert_eq!(error.sdk_code(), "TOKEN_MALFORMED", "{error}");
    }
}

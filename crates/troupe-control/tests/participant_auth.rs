//! The token verifier the media and events planes use: node-signed and self-signed tokens,
//! and every way a token must be refused.

mod common;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p384::{ecdsa::SigningKey, elliptic_curve::rand_core::OsRng};
use serde_json::{Value, json};
use time::OffsetDateTime;
use troupe_control::{operation::Operation, participant_auth::TokenRejection};
use troupe_tokens::{Claims, TokenCapabilities};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn claims_for(stage_arn: &str, jti: &str, iat: i64, exp: i64) -> Claims {
    Claims {
        exp,
        iat,
        nbf: None,
        jti: jti.into(),
        user_id: Some("self-signed-user".into()),
        resource: stage_arn.into(),
        topic: stage_arn.rsplit('/').next().unwrap().into(),
        events_url: "ws://127.0.0.1:7800/events".into(),
        whip_url: "http://127.0.0.1:7800/whip".into(),
        capabilities: TokenCapabilities { allow_publish: true, allow_subscribe: false },
        attributes: Default::default(),
        version: "1.0".into(),
    }
}

/// Replaces one part of a compact JWS.
fn with_part(token: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[index] = part.to_string();
    parts.join(".")
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn node_tokens_verify_with_their_claims() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let pt = t
        .token(
            &arn,
            json!({"userId": "alice", "capabilities": ["SUBSCRIBE"], "attributes": {"a": "1"}}),
        )
        .await;
    let v = t.plane.verify_participant_token(pt["token"].as_str().unwrap(), now()).await.unwrap();
    assert_eq!(v.participant_id(), pt["participantId"].as_str().unwrap());
    assert_eq!(v.claims.user_id.as_deref(), Some("alice"));
    assert_eq!(v.claims.resource, arn);
    assert!(v.require_subscribe().is_ok());
    let err = v.require_publish().unwrap_err();
    assert_eq!(err.code(), "TOKEN_NOT_ALLOWED");
    assert_eq!(err.http_status(), 403);
}

#[tokio::test]
async fn self_signed_tokens_until_the_key_is_deleted() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let (signing, key_arn) = t.import_new_key().await;
    let n = now().unix_timestamp();
    let token = troupe_tokens::sign(&claims_for(&arn, "self1", n, n + 600), &signing, &key_arn);

    let v = t.plane.verify_participant_token(&token, now()).await.unwrap();
    assert_eq!(v.participant_id(), "self1");
    assert!(v.require_publish().is_ok());

    // Signed by another key under the same kid: refused.
    let other = SigningKey::random(&mut OsRng);
    let forged = troupe_tokens::sign(&claims_for(&arn, "self1", n, n + 600), &other, &key_arn);
    let err = t.plane.verify_participant_token(&forged, now()).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_MALFORMED", "{err}");

    t.call(Operation::DeletePublicKey, json!({"arn": key_arn})).await.unwrap();
    let err = t.plane.verify_participant_token(&token, now()).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_MALFORMED");
    assert!(err.to_string().contains("unknown key"), "{err}");
}

#[tokio::test]
async fn refuses_bad_algorithms_kids_and_tampering() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let pt = t.token(&arn, json!({"userId": "alice"})).await;
    let token = pt["token"].as_str().unwrap();
    let kid = t.plane.node_key().kid().to_string();
    let claims_part = token.split('.').nth(1).unwrap();

    // alg: none, with and without a signature.
    let none = b64(&json!({"alg": "none", "typ": "JWT", "kid": kid}));
    for forged in [format!("{none}.{claims_part}."), format!("{none}.{claims_part}")] {
        let err = t.plane.verify_participant_token(&forged, now()).await.unwrap_err();
        assert!(matches!(err, TokenRejection::Malformed(_)), "{err}");
    }

    // HS256 signed with the public key as the HMAC secret (the classic confusion attack).
    use hmac::{Hmac, Mac};
    let hs = b64(&json!({"alg": "HS256", "typ": "JWT", "kid": kid}));
    let input = format!("{hs}.{claims_part}");
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(t.plane.node_key().public_pem().as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let err = t.plane.verify_participant_token(&format!("{input}.{sig}"), now()).await.unwrap_err();
    assert!(err.to_string().contains("HS256"), "{err}");

    // A kid nobody knows.
    let wrong_kid = b64(&json!({"alg": "ES384", "typ": "JWT", "kid": "node-0000000000000000"}));
    let err = t
        .plane
        .verify_participant_token(&with_part(token, 0, &wrong_kid), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown key"), "{err}");

    // Tampered claims: grant publish to a subscribe-only token.
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims_part).unwrap()).unwrap();
    claims["user_id"] = "mallory".into();
    let err = t
        .plane
        .verify_participant_token(&with_part(token, 1, &b64(&claims)), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");

    // Garbage.
    for junk in ["", "a.b", "a.b.c", "....", &"x".repeat(100_000)] {
        let err = t.plane.verify_participant_token(junk, now()).await.unwrap_err();
        assert_eq!(err.code(), "TOKEN_MALFORMED");
        assert_eq!(err.http_status(), 401);
    }
}

#[tokio::test]
async fn refuses_expired_and_not_yet_valid_tokens() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let pt = t.token(&arn, json!({"duration": 1})).await;
    let token = pt["token"].as_str().unwrap();
    let later = now() + time::Duration::minutes(2);
    let err = t.plane.verify_participant_token(token, later).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_EXPIRED");
    let earlier = now() - time::Duration::minutes(2);
    let err = t.plane.verify_participant_token(token, earlier).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_EXPIRED", "issued in the future: {err}");
    assert!(t.plane.verify_participant_token(token, now()).await.is_ok());
}

#[tokio::test]
async fn refuses_revoked_participants_and_deleted_stages() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let pt = t.token(&arn, json!({})).await;
    let token = pt["token"].as_str().unwrap();
    let other = t.token(&arn, json!({})).await;
    t.call(
        Operation::DisconnectParticipant,
        json!({"stageArn": arn, "participantId": pt["participantId"], "reason": "bye"}),
    )
    .await
    .unwrap();
    let err = t.plane.verify_participant_token(token, now()).await.unwrap_err();
    assert_eq!(err.code(), "PARTICIPANT_DISCONNECTED");
    assert_eq!(err.http_status(), 403);
    // Only that participant.
    assert!(
        t.plane.verify_participant_token(other["token"].as_str().unwrap(), now()).await.is_ok()
    );

    t.call(Operation::DeleteStage, json!({"arn": arn})).await.unwrap();
    let err = t
        .plane
        .verify_participant_token(other["token"].as_str().unwrap(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "STAGE_DELETED");
    assert_eq!(err.http_status(), 404);
}

#[tokio::test]
async fn refuses_a_topic_that_does_not_match_the_resource() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    let (signing, key_arn) = t.import_new_key().await;
    let n = now().unix_timestamp();
    let mut claims = claims_for(&arn, "p1", n, n + 60);
    claims.topic = "someOtherStage".into();
    let token = troupe_tokens::sign(&claims, &signing, &key_arn);
    let err = t.plane.verify_participant_token(&token, now()).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_NOT_ALLOWED");
    // Lifetime over 14 days.
    let claims = claims_for(&arn, "p2", n, n + 15 * 24 * 3600);
    let token = troupe_tokens::sign(&claims, &signing, &key_arn);
    let err = t.plane.verify_participant_token(&token, now()).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_MALFORMED", "{err}");
}

#[tokio::test]
async fn other_nodes_tokens_until_their_key_is_retired() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    // Another node sharing the store.
    let other = troupe_tokens::NodeKey::generate();
    let store = t.plane.store();
    store.register_node_key(other.kid(), other.public_pem()).await.unwrap();
    let n = now().unix_timestamp();
    let token = other.sign(&claims_for(&arn, "fromOtherNode", n, n + 600));
    let v = t.plane.verify_participant_token(&token, now()).await.unwrap();
    assert_eq!(v.participant_id(), "fromOtherNode");

    store.retire_node_key(other.kid(), now()).await.unwrap();
    let err = t.plane.verify_participant_token(&token, now()).await.unwrap_err();
    assert!(err.to_string().contains("unknown key"), "{err}");
}

/// Makes `participant_id` known on a stage the way the media plane will: a session row and a
/// participant row, written through the store.
async fn joined(t: &common::TestPlane, stage_arn: &str, participant_id: &str) {
    let stage_id = stage_arn.rsplit('/').next().unwrap();
    let store = t.plane.store();
    let session = store.start_session(stage_id, "st-AAAAAAAAAAAAA", now()).await.unwrap();
    let record = troupe_store::ParticipantRecord {
        seq: 0,
        stage_id: stage_id.into(),
        session_id: session.session_id,
        participant_id: participant_id.into(),
        user_id: None,
        state: troupe_store::ParticipantState::Connected,
        first_join_time: now(),
        attributes: Default::default(),
        published: false,
        recording_state: "DISABLED".into(),
        details: Default::default(),
    };
    store.upsert_participant(&record).await.unwrap();
}

#[tokio::test]
async fn a_participant_id_reused_on_two_stages_stays_revoked_on_each() {
    let t = common::plane().await;
    let (a, b) = (t.create_stage().await, t.create_stage().await);
    let (signing, key_arn) = t.import_new_key().await;
    let n = now().unix_timestamp();
    let on_a = troupe_tokens::sign(&claims_for(&a, "alice", n, n + 600), &signing, &key_arn);
    let on_b = troupe_tokens::sign(&claims_for(&b, "alice", n, n + 600), &signing, &key_arn);
    joined(&t, &a, "alice").await;
    joined(&t, &b, "alice").await;
    for stage in [&a, &b] {
        t.call(
            Operation::DisconnectParticipant,
            json!({"stageArn": stage, "participantId": "alice"}),
        )
        .await
        .unwrap();
    }
    for token in [&on_a, &on_b] {
        let err = t.plane.verify_participant_token(token, now()).await.unwrap_err();
        assert_eq!(err.code(), "PARTICIPANT_DISCONNECTED");
    }
}

//! Operation behaviour below HTTP: validation messages, quotas, pagination, store failures.
//! (The HTTP, SigV4 and SDK-facing shapes are covered by tests/conformance with the real SDK.)

mod common;

use std::collections::BTreeSet;

use serde_json::json;
use troupe_control::{Call, ErrorType, Limits, operation::Operation};

#[tokio::test]
async fn validation_names_the_member() {
    let t = common::plane().await;
    let cases = [
        (Operation::CreateStage, json!({"name": "has spaces"}), "name"),
        (Operation::CreateStage, json!({"name": 7}), "name"),
        (Operation::CreateStage, json!({"tags": {"aws:x": "y"}}), "tags"),
        (
            Operation::CreateStage,
            json!({"participantTokenConfigurations": (0..13).map(|_| json!({})).collect::<Vec<_>>()}),
            "participantTokenConfigurations",
        ),
        (
            Operation::CreateStage,
            json!({"participantTokenConfigurations": [{"duration": 0}]}),
            "participantTokenConfigurations[0].duration",
        ),
        (Operation::GetStage, json!({}), "arn"),
        (Operation::GetStage, json!({"arn": "nonsense"}), "arn"),
        (
            Operation::CreateParticipantToken,
            json!({"stageArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc", "duration": 20161}),
            "duration",
        ),
        (
            Operation::CreateParticipantToken,
            json!({"stageArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc", "capabilities": ["FLY"]}),
            "capabilities",
        ),
        (
            Operation::CreateParticipantToken,
            json!({"stageArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc", "attributes": {"k": "v".repeat(1100)}}),
            "attributes",
        ),
        (Operation::ListStages, json!({"maxResults": 101}), "maxResults"),
        (Operation::ListStages, json!({"nextToken": "bogus"}), "nextToken"),
        (
            Operation::GetStageSession,
            json!({"stageArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc", "sessionId": "x"}),
            "sessionId",
        ),
        (
            Operation::ImportPublicKey,
            json!({"publicKeyMaterial": "not a pem"}),
            "publicKeyMaterial",
        ),
        (
            Operation::ListParticipants,
            json!({"stageArn": "arn:aws:ivs:us-east-1:000000000000:stage/abc", "sessionId": "st-abcdefghijklm", "filterByState": "CONNECTED", "filterByPublished": true}),
            "only one filter",
        ),
    ];
    for (op, body, member) in cases {
        let err = t.call(op, body.clone()).await.unwrap_err();
        assert_eq!(err.kind, ErrorType::Validation, "{op:?} {body}: {err}");
        assert!(
            err.message.contains(member),
            "{op:?} {body}: {:?} should name {member}",
            err.message
        );
    }
}

#[tokio::test]
async fn unknown_and_foreign_resources_are_not_found() {
    let t = common::plane().await;
    for arn in [
        "arn:aws:ivs:us-east-1:000000000000:stage/doesNotExist",
        "arn:aws:ivs:eu-west-1:000000000000:stage/abc",
        "arn:aws:ivs:us-east-1:999999999999:stage/abc",
    ] {
        let err = t.call(Operation::GetStage, json!({"arn": arn})).await.unwrap_err();
        assert_eq!(err.kind, ErrorType::ResourceNotFound, "{arn}");
        assert!(err.message.contains(arn));
    }
    let arn = t.create_stage().await;
    let err = t
        .call(Operation::DisconnectParticipant, json!({"stageArn": arn, "participantId": "nobody"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorType::ResourceNotFound);
}

#[tokio::test]
async fn stage_quota() {
    let t = common::plane_with(Limits { max_stages: 2, ..Limits::default() }).await;
    t.create_stage().await;
    t.create_stage().await;
    let err = t.call(Operation::CreateStage, json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::ServiceQuotaExceeded);
    assert_eq!(err.kind.status().as_u16(), 402);
}

#[tokio::test]
async fn tag_quota_counts_existing_tags() {
    let t = common::plane().await;
    let tags: serde_json::Map<_, _> = (0..45).map(|i| (format!("k{i}"), json!("v"))).collect();
    let out = t.call(Operation::CreateStage, json!({"tags": tags})).await.unwrap();
    let arn = out["stage"]["arn"].as_str().unwrap().to_string();
    let more: serde_json::Map<_, _> = (0..6).map(|i| (format!("n{i}"), json!("v"))).collect();
    let body = json!({"tags": more}).to_string();
    let call = |op| Call {
        operation: op,
        body: body.as_bytes(),
        resource_arn: Some(arn.clone()),
        tag_keys: vec![],
    };
    let err = t.plane.call(call(Operation::TagResource)).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::Validation, "the IVS model has no quota error for tags");
    let listed =
        t.plane.call(Call { body: b"", ..call(Operation::ListTagsForResource) }).await.unwrap();
    assert_eq!(listed["tags"].as_object().unwrap().len(), 45, "nothing written on failure");
}

#[tokio::test]
async fn pages_cover_every_stage_once() {
    let t = common::plane().await;
    let mut created = BTreeSet::new();
    for _ in 0..7 {
        created.insert(t.create_stage().await);
    }
    let mut seen = BTreeSet::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"maxResults": 3});
        if let Some(n) = &next {
            body["nextToken"] = n.clone().into();
        }
        let out = t.call(Operation::ListStages, body).await.unwrap();
        pages += 1;
        for s in out["stages"].as_array().unwrap() {
            assert!(seen.insert(s["arn"].as_str().unwrap().to_string()), "duplicate");
        }
        match out.get("nextToken").and_then(|n| n.as_str()) {
            Some(n) => next = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
}

#[tokio::test]
async fn a_failing_store_is_an_internal_error_not_a_panic() {
    let t = common::plane().await;
    let arn = t.create_stage().await;
    t.plane.store().close().await;
    let err = t.call(Operation::GetStage, json!({"arn": arn})).await.unwrap_err();
    assert_eq!(err.kind, ErrorType::InternalServer);
    assert!(!err.message.contains("sqlite"), "backend details stay in the logs: {}", err.message);
}

//! The `control_call` harness: every control-plane operation, behind authentication, over
//! an in-memory SQLite store.
//!
//! Input format: byte 0 picks the operation (`Operation::ALL[byte % ALL.len()]`: the stage
//! API's and the channel API's, 42 in all); then a line with
//! the resource ARN of the tag operations (empty: none); then a line of tag keys separated
//! by `\t` (the `tagKeys` query parameter, decoded); everything after is the body.
//!
//! To let mutations reach past "not found", `$STAGE`, `$KEY` and `$CHANNEL` in the ARN line
//! and the body are replaced by the ARNs of a stage, a public key and a channel that exist,
//! and `$PEM` by a JSON-escaped P-384 public key that is not yet imported.
//!
//! Oracle beyond "no panic": no input may produce an `InternalServerException` (the store
//! is in memory and cannot fail, so one means a request reached the store unvalidated).
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use std::sync::Arc;

use serde_json::{Value, json};
use troupe_control::{
    ApiResult, Call, ControlConfig, ControlPlane, Credential, Endpoints, ErrorType, Limits,
    arn::ArnScope, operation::Operation,
};
use troupe_tokens::{NodeKey, SigningKey};

/// The state is thrown away and rebuilt after this many calls, so that what a long fuzzing
/// run creates (stages, keys, tags) does not slow it down or pin it at a quota.
const CALLS_PER_PLANE: u32 = 2000;

fn fixed_key(scalar: u8) -> NodeKey {
    NodeKey::from_signing_key(SigningKey::from_slice(&[scalar; 48]).expect("a valid scalar"))
}

/// A control plane with one stage and one public key, and a runtime to call it on.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    plane: Option<ControlPlane>,
    stage_arn: String,
    key_arn: String,
    channel_arn: String,
    /// `$PEM` as a JSON string literal, quotes included.
    pem_json: String,
    calls: u32,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut harness = Harness {
            runtime,
            plane: None,
            stage_arn: String::new(),
            key_arn: String::new(),
            channel_arn: String::new(),
            pem_json: serde_json::to_string(fixed_key(0x07).public_pem()).expect("a string"),
            calls: 0,
        };
        harness.reset();
        harness
    }

    /// Replaces the plane by a fresh one over a new in-memory database.
    pub fn reset(&mut self) {
        let old = self.plane.take();
        let (plane, stage_arn, key_arn, channel_arn) = self.runtime.block_on(async move {
            drop(old);
            let store = troupe_store::open("sqlite::memory:").await.expect("in-memory store");
            let node_key = fixed_key(0x2a);
            store
                .register_node_key(node_key.kid(), node_key.public_pem())
                .await
                .expect("register node key");
            let config = ControlConfig {
                scope: ArnScope { region: "us-east-1".into(), account: "000000000000".into() },
                endpoints: Endpoints::from_public_url("http://127.0.0.1:7800"),
                credentials: vec![Credential {
                    access_key_id: "fuzzkey".into(),
                    secret_access_key: "fuzzsecret".into(),
                    read_only: false,
                }],
                limits: Limits {
                    max_stages: 200,
                    max_public_keys: 20,
                    max_channels: 200,
                    ..Limits::default()
                },
                rtmp_port: Some(1935),
                rtmps: false,
            };
            let plane = ControlPlane::new(store, config, Arc::new(node_key));
            let call = |operation, body: Value| {
                let plane = plane.clone();
                async move {
                    let body = body.to_string();
                    plane
                        .call(Call {
                            operation,
                            body: body.as_bytes(),
                            resource_arn: None,
                            tag_keys: vec![],
                        })
                        .await
                        .expect("setup call")
                }
            };
            let stage =
                call(Operation::CreateStage, json!({"name": "fuzz", "tags": {"k": "v"}})).await;
            let key = call(
                Operation::ImportPublicKey,
                json!({"publicKeyMaterial": fixed_key(0x05).public_pem(), "name": "fuzz"}),
            )
            .await;
            let channel = call(Operation::CreateChannel, json!({"name": "fuzz"})).await;
            let arn = |v: &Value| v["arn"].as_str().expect("an arn").to_owned();
            (plane, arn(&stage["stage"]), arn(&key["publicKey"]), arn(&channel["channel"]))
        });
        self.plane = Some(plane);
        self.stage_arn = stage_arn;
        self.key_arn = key_arn;
        self.channel_arn = channel_arn;
        self.calls = 0;
    }

    /// Makes the call `data` encodes. `None` if `data` is empty.
    pub fn run(&mut self, data: &[u8]) -> Option<ApiResult<Value>> {
        let (&selector, mut rest) = data.split_first()?;
        if self.calls >= CALLS_PER_PLANE {
            self.reset();
        }
        self.calls += 1;
        let operation = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
        let arn_line = self.substitute(take_line(&mut rest));
        let keys_line = take_line(&mut rest);
        let body = self.substitute(rest);
        let resource_arn =
            Some(String::from_utf8_lossy(&arn_line).into_owned()).filter(|a| !a.is_empty());
        let tag_keys = if keys_line.is_empty() {
            Vec::new()
        } else {
            keys_line
                .split(|&b| b == b'\t')
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        let plane = self.plane.as_ref().expect("a plane");
        let result = self.runtime.block_on(plane.call(Call {
            operation,
            body: &body,
            resource_arn,
            tag_keys,
        }));
        if let Err(error) = &result {
            assert_ne!(
                error.kind,
                ErrorType::InternalServer,
                "{}: {}",
                operation.name(),
                error.message
            );
            let _ = (error.body(), error.to_string());
        }
        Some(result)
    }

    fn substitute(&self, bytes: &[u8]) -> Vec<u8> {
        if !bytes.contains(&b'$') {
            return bytes.to_vec();
        }
        let pem = &self.pem_json[1..self.pem_json.len() - 1];
        let mut out = Vec::with_capacity(bytes.len() + 128);
        let mut rest = bytes;
        while let Some((&first, tail)) = rest.split_first() {
            let replaced = [
                (&b"$STAGE"[..], self.stage_arn.as_str()),
                (&b"$KEY"[..], self.key_arn.as_str()),
                (&b"$CHANNEL"[..], self.channel_arn.as_str()),
                (&b"$PEM"[..], pem),
            ]
            .into_iter()
            .find(|(name, _)| rest.starts_with(name));
            match replaced {
                Some((name, value)) => {
                    out.extend_from_slice(value.as_bytes());
                    rest = &rest[name.len()..];
                }
                None => {
                    out.push(first);
                    rest = tail;
                }
            }
        }
        out
    }
}

/// The next `\n`-terminated line of `rest` (or all of it), advancing `rest` past it.
fn take_line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let line = &rest[..end];
            *rest = &rest[end + 1..];
            line
        }
        None => std::mem::take(rest),
    }
}

/// One seed: the operation, the ARN line, the tag keys, the body, and whether it succeeds
/// on a fresh [`Harness`].
pub struct Seed {
    pub operation: Operation,
    pub arn: &'static str,
    pub tag_keys: &'static [&'static str],
    pub body: &'static str,
    pub succeeds: bool,
}

impl Seed {
    /// The input format described in the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let index =
            Operation::ALL.iter().position(|op| *op == self.operation).expect("a listed operation");
        let mut out = vec![index as u8];
        out.extend_from_slice(self.arn.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.tag_keys.join("\t").as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.body.as_bytes());
        out
    }
}

const fn seed(operation: Operation, body: &'static str, succeeds: bool) -> Seed {
    Seed { operation, arn: "", tag_keys: &[], body, succeeds }
}

/// A valid request for every operation (and a few that are valid but find nothing).
pub const SEEDS: &[Seed] = &[
    seed(
        Operation::CreateStage,
        r#"{"name":"fuzz-stage_1","tags":{"team":"a","env":"b"},"participantTokenConfigurations":[{"userId":"u","duration":60,"capabilities":["PUBLISH"],"attributes":{"a":"b"}},{}],"autoParticipantRecordingConfiguration":{"storageConfigurationArn":""}}"#,
        true,
    ),
    seed(Operation::CreateStage, "", true),
    seed(Operation::GetStage, r#"{"arn":"$STAGE"}"#, true),
    seed(Operation::ListStages, r#"{"maxResults":1}"#, true),
    seed(
        Operation::UpdateStage,
        r#"{"arn":"$STAGE","name":"renamed","autoParticipantRecordingConfiguration":{"storageConfigurationArn":"","mediaTypes":["AUDIO_VIDEO"]}}"#,
        true,
    ),
    seed(Operation::DeleteStage, r#"{"arn":"$STAGE"}"#, true),
    seed(
        Operation::ListStageSessions,
        r#"{"stageArn":"$STAGE","maxResults":10,"nextToken":""}"#,
        true,
    ),
    seed(
        Operation::GetStageSession,
        r#"{"stageArn":"$STAGE","sessionId":"st-abcdefghijklm"}"#,
        false,
    ),
    seed(
        Operation::CreateParticipantToken,
        r#"{"stageArn":"$STAGE","userId":"alice","duration":720,"attributes":{"role":"host","x":"\u00e9"},"capabilities":["PUBLISH","SUBSCRIBE"]}"#,
        true,
    ),
    seed(
        Operation::DisconnectParticipant,
        r#"{"stageArn":"$STAGE","participantId":"abcdefABCDEF","reason":"bye"}"#,
        false,
    ),
    seed(
        Operation::GetParticipant,
        r#"{"stageArn":"$STAGE","sessionId":"st-abcdefghijklm","participantId":"abcdefABCDEF"}"#,
        false,
    ),
    seed(
        Operation::ListParticipants,
        r#"{"stageArn":"$STAGE","sessionId":"st-abcdefghijklm","filterByState":"CONNECTED","maxResults":5}"#,
        true,
    ),
    seed(
        Operation::ListParticipants,
        r#"{"stageArn":"$STAGE","sessionId":"st-abcdefghijklm","filterByRecordingState":"ACTIVE"}"#,
        true,
    ),
    seed(
        Operation::ListParticipantEvents,
        r#"{"stageArn":"$STAGE","sessionId":"st-abcdefghijklm","participantId":"abcdefABCDEF","maxResults":100}"#,
        true,
    ),
    seed(
        Operation::ImportPublicKey,
        r#"{"publicKeyMaterial":"$PEM","name":"imported","tags":{"t":"1"}}"#,
        true,
    ),
    seed(Operation::GetPublicKey, r#"{"arn":"$KEY"}"#, true),
    seed(Operation::ListPublicKeys, "{}", true),
    seed(Operation::DeletePublicKey, r#"{"arn":"$KEY"}"#, true),
    Seed {
        operation: Operation::TagResource,
        arn: "$STAGE",
        tag_keys: &[],
        body: r#"{"tags":{"a":"1","b":"2"}}"#,
        succeeds: true,
    },
    Seed {
        operation: Operation::TagResource,
        arn: "$KEY",
        tag_keys: &[],
        body: r#"{"tags":{"owner":"me"}}"#,
        succeeds: true,
    },
    Seed {
        operation: Operation::UntagResource,
        arn: "$STAGE",
        tag_keys: &["k", "missing"],
        body: "",
        succeeds: true,
    },
    Seed {
        operation: Operation::ListTagsForResource,
        arn: "$STAGE",
        tag_keys: &[],
        body: "",
        succeeds: true,
    },
    seed(
        Operation::CreateChannel,
        r#"{"name":"show","latencyMode":"NORMAL","type":"ADVANCED_HD","preset":"CONSTRAINED_BANDWIDTH_DELIVERY","insecureIngest":true,"containerFormat":"FRAGMENTED_MP4","recordingConfigurationArn":"","tags":{"a":"b"}}"#,
        true,
    ),
    seed(Operation::GetChannel, r#"{"arn":"$CHANNEL"}"#, true),
    seed(Operation::BatchGetChannel, r#"{"arns":["$CHANNEL","$STAGE"]}"#, true),
    seed(Operation::ListChannels, r#"{"filterByName":"fuzz","maxResults":5}"#, true),
    seed(Operation::UpdateChannel, r#"{"arn":"$CHANNEL","name":"n","type":"BASIC"}"#, true),
    seed(Operation::DeleteChannel, r#"{"arn":"$CHANNEL"}"#, true),
    seed(Operation::CreateStreamKey, r#"{"channelArn":"$CHANNEL","tags":{"k":"v"}}"#, false),
    seed(
        Operation::GetStreamKey,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:stream-key/abcdefABCDEF"}"#,
        false,
    ),
    seed(Operation::ListStreamKeys, r#"{"channelArn":"$CHANNEL"}"#, true),
    seed(
        Operation::DeleteStreamKey,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:stream-key/abcdefABCDEF"}"#,
        false,
    ),
    seed(Operation::GetStream, r#"{"channelArn":"$CHANNEL"}"#, false),
    seed(Operation::ListStreams, r#"{"filterBy":{"health":"HEALTHY"}}"#, true),
    seed(Operation::StopStream, r#"{"channelArn":"$CHANNEL"}"#, false),
    seed(Operation::GetStreamSession, r#"{"channelArn":"$CHANNEL"}"#, false),
    seed(Operation::ListStreamSessions, r#"{"channelArn":"$CHANNEL","maxResults":3}"#, true),
    seed(
        Operation::CreateRecordingConfiguration,
        r#"{"name":"rc","destinationConfiguration":{"s3":{"bucketName":"my-bucket"}},"thumbnailConfiguration":{"recordingMode":"INTERVAL","targetIntervalSeconds":30,"storage":["LATEST"]},"recordingReconnectWindowSeconds":60,"renditionConfiguration":{"renditionSelection":"CUSTOM","renditions":["HD"]}}"#,
        true,
    ),
    seed(
        Operation::GetRecordingConfiguration,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:recording-configuration/abcdefABCDEF"}"#,
        false,
    ),
    seed(Operation::ListRecordingConfigurations, "{}", true),
    seed(
        Operation::DeleteRecordingConfiguration,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:recording-configuration/abcdefABCDEF"}"#,
        false,
    ),
    seed(
        Operation::CreateStorageConfiguration,
        r#"{"name":"sc","s3":{"bucketName":"stage-recordings"},"tags":{"x":"y"}}"#,
        true,
    ),
    seed(
        Operation::GetStorageConfiguration,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:storage-configuration/abcdefABCDEF"}"#,
        false,
    ),
    seed(Operation::ListStorageConfigurations, r#"{"maxResults":100}"#, true),
    seed(
        Operation::DeleteStorageConfiguration,
        r#"{"arn":"arn:aws:ivs:us-east-1:000000000000:storage-configuration/abcdefABCDEF"}"#,
        false,
    ),
    seed(
        Operation::CreateStage,
        r#"{"autoParticipantRecordingConfiguration":{"storageConfigurationArn":"arn:aws:ivs:us-east-1:000000000000:storage-configuration/abcdefABCDEF"}}"#,
        false,
    ),
];

/// [`SEEDS`], encoded.
pub fn seeds() -> Vec<Vec<u8>> {
    SEEDS.iter().map(Seed::encode).collect()
}

/// JSON and IVS vocabulary worth splicing in.
pub const DICTIONARY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-1",
    b"1.5",
    b"1e400",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"4294967297",
    b"\\u0000",
    b"\\ud800",
    b"\\\"",
    b"$STAGE",
    b"$KEY",
    b"$PEM",
    b"\"name\":",
    b"\"arn\":",
    b"\"stageArn\":",
    b"\"sessionId\":",
    b"\"participantId\":",
    b"\"userId\":",
    b"\"duration\":",
    b"\"attributes\":",
    b"\"capabilities\":",
    b"\"tags\":",
    b"\"nextToken\":",
    b"\"maxResults\":",
    b"\"filterByUserId\":",
    b"\"filterByPublished\":",
    b"\"filterByState\":",
    b"\"filterByRecordingState\":",
    b"\"publicKeyMaterial\":",
    b"\"reason\":",
    b"\"participantTokenConfigurations\":",
    b"\"autoParticipantRecordingConfiguration\":",
    b"\"storageConfigurationArn\":",
    b"\"PUBLISH\"",
    b"\"SUBSCRIBE\"",
    b"\"CONNECTED\"",
    b"\"DISCONNECTED\"",
    b"arn:aws:ivs:us-east-1:000000000000:stage/",
    b"arn:aws:ivs:us-east-1:000000000000:public-key/",
    b"aws:",
    b"st-",
    b"\t",
    b"\n",
];

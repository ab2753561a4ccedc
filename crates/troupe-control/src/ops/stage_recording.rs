//! A stage's `autoParticipantRecordingConfiguration` (individual participant recording):
//! every member of the model checked and given IVS's default, and the storage configuration
//! it names resolved (it must exist: ValidationException otherwise, the only client error
//! CreateStage's model has).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    arn::ResourceType,
    error::{ApiError, ApiResult, ErrorType},
    plane::ControlPlane,
};

const FIELD: &str = "autoParticipantRecordingConfiguration";
const MEDIA_TYPES: &[&str] = &["AUDIO_VIDEO", "AUDIO_ONLY", "NONE"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThumbnailRequest {
    target_interval_seconds: Option<i64>,
    storage: Option<Vec<String>>,
    recording_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HlsRequest {
    target_segment_duration_seconds: Option<i64>,
}

/// `autoParticipantRecordingConfiguration` as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StageRecordingRequest {
    storage_configuration_arn: Option<String>,
    media_types: Option<Vec<String>>,
    thumbnail_configuration: Option<ThumbnailRequest>,
    recording_reconnect_window_seconds: Option<i64>,
    hls_configuration: Option<HlsRequest>,
    record_participant_replicas: Option<bool>,
}

/// A checked configuration: what is stored and shown, and the storage configuration it names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StageRecording {
    pub json: Value,
    pub storage_configuration_id: Option<String>,
}

fn range(value: i64, allowed: std::ops::RangeInclusive<i64>, member: &str) -> ApiResult<i64> {
    if allowed.contains(&value) {
        return Ok(value);
    }
    Err(ApiError::validation(format!(
        "{FIELD}.{member} must be between {} and {} (got {value})",
        allowed.start(),
        allowed.end()
    )))
}

impl StageRecordingRequest {
    /// Checks every member and fills IVS's defaults. With `storageConfigurationArn` `""`
    /// (recording off), the other members reset to their defaults, as IVS documents.
    fn normalize(&self) -> ApiResult<(String, Value)> {
        let arn = self.storage_configuration_arn.clone().ok_or_else(|| {
            ApiError::validation(format!(
                "{FIELD}.storageConfigurationArn is required (\"\" turns recording off)"
            ))
        })?;
        let off = arn.is_empty();
        let media_types = self.media_types.clone().unwrap_or_else(|| vec!["AUDIO_VIDEO".into()]);
        if media_types.len() > 1 || media_types.iter().any(|m| !MEDIA_TYPES.contains(&m.as_str())) {
            return Err(ApiError::validation(format!(
                "{FIELD}.mediaTypes must hold one of {} (got {media_types:?})",
                MEDIA_TYPES.join(", ")
            )));
        }
        let media_types =
            if media_types.is_empty() { vec!["AUDIO_VIDEO".to_string()] } else { media_types };
        let t = self.thumbnail_configuration.as_ref();
        let interval = range(
            t.and_then(|t| t.target_interval_seconds).unwrap_or(60),
            1..=86_400,
            "thumbnailConfiguration.targetIntervalSeconds",
        )?;
        let storage =
            t.and_then(|t| t.storage.clone()).unwrap_or_else(|| vec!["SEQUENTIAL".into()]);
        if storage.len() > 2 || storage.iter().any(|s| s != "SEQUENTIAL" && s != "LATEST") {
            return Err(ApiError::validation(format!(
                "{FIELD}.thumbnailConfiguration.storage must hold SEQUENTIAL and/or LATEST \
                 (got {storage:?})"
            )));
        }
        let mode = t.and_then(|t| t.recording_mode.clone()).unwrap_or_else(|| "DISABLED".into());
        if mode != "INTERVAL" && mode != "DISABLED" {
            return Err(ApiError::validation(format!(
                "{FIELD}.thumbnailConfiguration.recordingMode: {mode:?} is not INTERVAL or DISABLED"
            )));
        }
        let window = range(
            self.recording_reconnect_window_seconds.unwrap_or(0),
            0..=300,
            "recordingReconnectWindowSeconds",
        )?;
        let segment = range(
            self.hls_configuration
                .as_ref()
                .and_then(|h| h.target_segment_duration_seconds)
                .unwrap_or(6),
            2..=10,
            "hlsConfiguration.targetSegmentDurationSeconds",
        )?;
        let replicas = self.record_participant_replicas.unwrap_or(true);
        if off {
            return Ok((arn, default_json()));
        }
        Ok((
            arn.clone(),
            json!({
                "storageConfigurationArn": arn,
                "mediaTypes": media_types,
                "thumbnailConfiguration": {
                    "targetIntervalSeconds": interval,
                    "storage": storage,
                    "recordingMode": mode,
                },
                "recordingReconnectWindowSeconds": window,
                "hlsConfiguration": {"targetSegmentDurationSeconds": segment},
                "recordParticipantReplicas": replicas,
            }),
        ))
    }
}

/// The configuration of a stage that does not record (IVS's defaults, no storage).
pub(crate) fn default_json() -> Value {
    json!({
        "storageConfigurationArn": "",
        "mediaTypes": ["AUDIO_VIDEO"],
        "thumbnailConfiguration": {
            "targetIntervalSeconds": 60,
            "storage": ["SEQUENTIAL"],
            "recordingMode": "DISABLED",
        },
        "recordingReconnectWindowSeconds": 0,
        "hlsConfiguration": {"targetSegmentDurationSeconds": 6},
        "recordParticipantReplicas": true,
    })
}

impl ControlPlane {
    /// Checks a stage's recording configuration; a storage configuration it names must exist.
    pub(crate) async fn stage_recording(
        &self,
        request: &Option<StageRecordingRequest>,
    ) -> ApiResult<Option<StageRecording>> {
        let Some(request) = request else { return Ok(None) };
        let (arn, json) = request.normalize()?;
        if arn.is_empty() {
            return Ok(Some(StageRecording { json, storage_configuration_id: None }));
        }
        let field = format!("{FIELD}.storageConfigurationArn");
        let id = match self.own_id(&arn, &field, ResourceType::StorageConfiguration) {
            Ok(id) => id,
            // Another region's or account's: as unknown as a missing one.
            Err(e) if e.kind == ErrorType::ResourceNotFound => {
                return Err(ApiError::validation(format!(
                    "{field}: storage configuration {arn} not found"
                )));
            }
            Err(e) => return Err(e),
        };
        let exists = self
            .store
            .get_storage_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "storage configuration"))?
            .is_some();
        if !exists {
            return Err(ApiError::validation(format!(
                "{field}: storage configuration {arn} not found"
            )));
        }
        Ok(Some(StageRecording { json, storage_configuration_id: Some(id) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(v: Value) -> ApiResult<(String, Value)> {
        serde_json::from_value::<StageRecordingRequest>(v).unwrap().normalize()
    }

    #[test]
    fn defaults_are_ivs_defaults() {
        let arn = "arn:aws:ivs:us-east-1:000000000000:storage-configuration/abc";
        let (_, json) = normalize(json!({"storageConfigurationArn": arn})).unwrap();
        assert_eq!(json["mediaTypes"], json!(["AUDIO_VIDEO"]));
        assert_eq!(json["recordingReconnectWindowSeconds"], 0);
        assert_eq!(json["hlsConfiguration"]["targetSegmentDurationSeconds"], 6);
        assert_eq!(json["thumbnailConfiguration"]["recordingMode"], "DISABLED");
        assert_eq!(json["thumbnailConfiguration"]["targetIntervalSeconds"], 60);
        assert_eq!(json["recordParticipantReplicas"], true);
        // Turning recording off resets the rest.
        let (arn, json) = normalize(json!({
            "storageConfigurationArn": "", "recordingReconnectWindowSeconds": 30
        }))
        .unwrap();
        assert_eq!((arn.as_str(), json), ("", default_json()));
    }

    #[test]
    fn out_of_range_members_are_named() {
        let arn = "arn:aws:ivs:us-east-1:000000000000:storage-configuration/abc";
        for (extra, member) in [
            (json!({"mediaTypes": ["VIDEO"]}), "mediaTypes"),
            (json!({"mediaTypes": ["AUDIO_ONLY", "NONE"]}), "mediaTypes"),
            (json!({"recordingReconnectWindowSeconds": 301}), "recordingReconnectWindowSeconds"),
            (json!({"hlsConfiguration": {"targetSegmentDurationSeconds": 1}}), "hlsConfiguration"),
            (json!({"thumbnailConfiguration": {"storage": ["ALL"]}}), "thumbnailConfiguration"),
            (json!({"thumbnailConfiguration": {"recordingMode": "X"}}), "thumbnailConfiguration"),
        ] {
            let mut body = json!({"storageConfigurationArn": arn});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let err = normalize(body).unwrap_err();
            assert!(err.message.contains(&format!("{FIELD}.{member}")), "{}", err.message);
        }
        assert!(normalize(json!({})).unwrap_err().message.contains("storageConfigurationArn"));
    }
}

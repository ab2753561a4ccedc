//! CreateRecordingConfiguration, GetRecordingConfiguration, ListRecordingConfigurations,
//! DeleteRecordingConfiguration (`ivs`: where a channel's streams are recorded).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use troupe_store::{RecordingConfigurationRecord, StoreError, StringMap};

use crate::{
    arn::{ResourceType, new_resource_id},
    error::{ApiError, ApiResult},
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{
        ArnRequest, ListRequest, check_bucket_name, check_name, check_tags, parse_body, required,
    },
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Destination {
    bucket_name: Option<String>,
}

#[derive(Deserialize)]
struct DestinationConfiguration {
    s3: Option<S3Destination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThumbnailRequest {
    recording_mode: Option<String>,
    target_interval_seconds: Option<i64>,
    resolution: Option<String>,
    storage: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenditionRequest {
    rendition_selection: Option<String>,
    renditions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRecordingConfigurationRequest {
    name: Option<String>,
    destination_configuration: Option<DestinationConfiguration>,
    tags: Option<StringMap>,
    thumbnail_configuration: Option<ThumbnailRequest>,
    recording_reconnect_window_seconds: Option<i64>,
    rendition_configuration: Option<RenditionRequest>,
}

const RESOLUTIONS: &[&str] = &["SD", "HD", "FULL_HD", "LOWEST_RESOLUTION"];

fn check_one_of(value: &str, allowed: &[&str], field: &str) -> ApiResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(ApiError::validation(format!("{field}: {value:?} is not one of {}", allowed.join(", "))))
}

fn check_range(value: i64, range: std::ops::RangeInclusive<i64>, field: &str) -> ApiResult<()> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(ApiError::validation(format!(
        "{field} must be between {} and {} (got {value})",
        range.start(),
        range.end()
    )))
}

impl CreateRecordingConfigurationRequest {
    /// The settings with IVS's defaults: thumbnails every 60 s to SEQUENTIAL, no reconnect
    /// window, ALL renditions.
    fn settings(&self) -> ApiResult<Value> {
        let mut thumbnail = Map::new();
        let t = self.thumbnail_configuration.as_ref();
        let mode = t.and_then(|t| t.recording_mode.clone()).unwrap_or_else(|| "INTERVAL".into());
        check_one_of(&mode, &["DISABLED", "INTERVAL"], "thumbnailConfiguration.recordingMode")?;
        let interval = t.and_then(|t| t.target_interval_seconds).unwrap_or(60);
        check_range(interval, 1..=60, "thumbnailConfiguration.targetIntervalSeconds")?;
        let storage =
            t.and_then(|t| t.storage.clone()).unwrap_or_else(|| vec!["SEQUENTIAL".into()]);
        if storage.len() > 2 {
            return Err(ApiError::validation(
                "thumbnailConfiguration.storage may hold at most 2 values",
            ));
        }
        for s in &storage {
            check_one_of(s, &["SEQUENTIAL", "LATEST"], "thumbnailConfiguration.storage")?;
        }
        thumbnail.insert("recordingMode".into(), mode.into());
        thumbnail.insert("targetIntervalSeconds".into(), interval.into());
        if let Some(resolution) = t.and_then(|t| t.resolution.clone()) {
            check_one_of(&resolution, RESOLUTIONS, "thumbnailConfiguration.resolution")?;
            thumbnail.insert("resolution".into(), resolution.into());
        }
        thumbnail.insert("storage".into(), json!(storage));

        let window = self.recording_reconnect_window_seconds.unwrap_or(0);
        check_range(window, 0..=300, "recordingReconnectWindowSeconds")?;

        let r = self.rendition_configuration.as_ref();
        let selection =
            r.and_then(|r| r.rendition_selection.clone()).unwrap_or_else(|| "ALL".into());
        check_one_of(
            &selection,
            &["ALL", "NONE", "CUSTOM"],
            "renditionConfiguration.renditionSelection",
        )?;
        let renditions = r.and_then(|r| r.renditions.clone()).unwrap_or_default();
        for rendition in &renditions {
            check_one_of(rendition, RESOLUTIONS, "renditionConfiguration.renditions")?;
        }
        if selection == "CUSTOM" && renditions.is_empty() {
            return Err(ApiError::validation(
                "renditionConfiguration.renditions: CUSTOM selection needs at least one rendition",
            ));
        }
        Ok(json!({
            "thumbnailConfiguration": thumbnail,
            "recordingReconnectWindowSeconds": window,
            "renditionConfiguration": {"renditionSelection": selection, "renditions": renditions},
        }))
    }
}

impl ControlPlane {
    /// Checks that a configuration's bucket exists, through the server's [`crate::BucketCheck`].
    pub(crate) async fn require_bucket(&self, bucket: &str, field: &str) -> ApiResult<()> {
        match self.bucket_check().bucket_exists(bucket).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::validation(format!(
                "{field}: bucket {bucket:?} does not exist; create it first"
            ))),
            Err(e) => {
                tracing::error!(bucket, error = %e, "bucket check failed");
                Err(ApiError::internal(format!("could not check bucket {bucket:?}; try again")))
            }
        }
    }

    pub(crate) async fn find_recording_configuration(
        &self,
        arn: &str,
        field: &str,
    ) -> ApiResult<RecordingConfigurationRecord> {
        let id = self.own_id(arn, field, ResourceType::RecordingConfiguration)?;
        self.store
            .get_recording_configuration(&id)
            .await
            .map_err(|e| ApiError::from_store(e, "recording configuration"))?
            .ok_or_else(|| ApiError::not_found(format!("recording configuration {arn} not found")))
    }

    pub(crate) async fn create_recording_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: CreateRecordingConfigurationRequest = parse_body(body)?;
        let name = req.name.clone().unwrap_or_default();
        check_name(&name, "name")?;
        let field = "destinationConfiguration.s3.bucketName";
        let bucket = req
            .destination_configuration
            .as_ref()
            .and_then(|d| d.s3.as_ref())
            .and_then(|s3| s3.bucket_name.clone())
            .ok_or_else(|| ApiError::validation(format!("{field} is required")))?;
        check_bucket_name(&bucket, field)?;
        let tags = req.tags.clone().unwrap_or_default();
        check_tags(&tags, self.config.limits.max_tags, "tags")?;
        let settings = req.settings()?;
        self.require_bucket(&bucket, field).await?;
        let record = RecordingConfigurationRecord {
            seq: 0,
            id: new_resource_id(),
            name,
            bucket_name: bucket,
            settings,
            tags,
            created_at: self.now(),
        };
        let max = self.config.limits.max_recording_configurations;
        let created =
            self.store.create_recording_configuration(&record, max).await.map_err(|e| match e {
                StoreError::QuotaExceeded(_) => ApiError::quota(format!(
                    "this server allows at most {max} recording configurations"
                )),
                other => ApiError::from_store(other, "recording configuration"),
            })?;
        Ok(json!({ "recordingConfiguration": self.recording_configuration_json(&created, true) }))
    }

    pub(crate) async fn get_recording_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let config = self.find_recording_configuration(required(&req.arn, "arn")?, "arn").await?;
        Ok(json!({ "recordingConfiguration": self.recording_configuration_json(&config, true) }))
    }

    pub(crate) async fn list_recording_configurations(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListRequest = parse_body(body)?;
        let scope = "recordingConfigurations";
        let page = page_request(scope, req.next_token.as_deref(), req.max_results, 50)?;
        let page = self
            .store
            .list_recording_configurations(page)
            .await
            .map_err(|e| ApiError::from_store(e, "recording configuration"))?;
        Ok(list_response(scope, scope, &page, |c| self.recording_configuration_json(c, false)))
    }

    pub(crate) async fn delete_recording_configuration(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ArnRequest = parse_body(body)?;
        let arn = required(&req.arn, "arn")?;
        let config = self.find_recording_configuration(arn, "arn").await?;
        self.store.delete_recording_configuration(&config.id).await.map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(format!(
                "recording configuration {arn} is used by a channel; set that channel's \
                 recordingConfigurationArn to \"\" (UpdateChannel) first"
            )),
            other => ApiError::from_store(other, &format!("recording configuration {arn}")),
        })?;
        Ok(json!({}))
    }
}

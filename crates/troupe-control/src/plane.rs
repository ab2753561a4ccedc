//! [`ControlPlane`]: the IVS operations over a store, independent of HTTP. The HTTP layer
//! (`http.rs`) authenticates, reads the request and calls [`ControlPlane::call`].

use std::sync::{Arc, RwLock};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use troupe_store::{StageRecord, Store};
use troupe_tokens::NodeKey;

use crate::{
    arn::{Arn, ResourceType},
    config::ControlConfig,
    error::{ApiError, ApiResult},
    live_streams::{BucketCheck, EveryBucketExists, LiveStreams, NothingLive},
    operation::Operation,
};

/// Something the media and events planes must act on, announced by the control plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlNotice {
    /// DisconnectParticipant: close the participant's sessions and events socket.
    ParticipantDisconnected { stage_id: String, participant_id: String, reason: Option<String> },
    /// DeleteStage: tell everyone on the stage and close it.
    StageDeleted { stage_id: String },
}

/// One operation call, as the HTTP layer decoded it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub operation: Operation,
    /// The JSON body (empty for the tag operations that have none).
    pub body: &'a [u8],
    /// The tag operations' resource ARN, from the path, percent-decoded.
    pub resource_arn: Option<String>,
    /// UntagResource's `tagKeys` query parameters, decoded.
    pub tag_keys: Vec<String>,
}

/// The control plane: shared by every request handler (cheap to clone).
#[derive(Clone)]
pub struct ControlPlane {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: Arc<ControlConfig>,
    pub(crate) node_key: Arc<NodeKey>,
    notices: broadcast::Sender<ControlNotice>,
    /// Installed by the server once its ingest runs; shared by every clone.
    live_streams: Arc<RwLock<Arc<dyn LiveStreams>>>,
    bucket_check: Arc<RwLock<Arc<dyn BucketCheck>>>,
}

impl ControlPlane {
    pub fn new(store: Arc<dyn Store>, config: ControlConfig, node_key: Arc<NodeKey>) -> Self {
        let (notices, _) = broadcast::channel(1024);
        ControlPlane {
            store,
            config: Arc::new(config),
            node_key,
            notices,
            live_streams: Arc::new(RwLock::new(Arc::new(NothingLive))),
            bucket_check: Arc::new(RwLock::new(Arc::new(EveryBucketExists))),
        }
    }

    /// Tells the control plane which channels are live (GetStream, ListStreams, StopStream,
    /// and the checks of UpdateChannel and DeleteChannel). Until then nothing is live.
    pub fn set_live_streams(&self, live: Arc<dyn LiveStreams>) {
        // A poisoned lock only means a panic elsewhere while swapping an Arc: take it anyway.
        *self.live_streams.write().unwrap_or_else(|e| e.into_inner()) = live;
    }

    /// Tells the control plane how to check that a storage bucket exists
    /// (CreateStorageConfiguration, CreateRecordingConfiguration). Until then every one does.
    pub fn set_bucket_check(&self, check: Arc<dyn BucketCheck>) {
        *self.bucket_check.write().unwrap_or_else(|e| e.into_inner()) = check;
    }

    pub(crate) fn live_streams(&self) -> Arc<dyn LiveStreams> {
        self.live_streams.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn bucket_check(&self) -> Arc<dyn BucketCheck> {
        self.bucket_check.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn config(&self) -> &ControlConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn node_key(&self) -> &Arc<NodeKey> {
        &self.node_key
    }

    /// Subscribes to notices (the media plane does, at start).
    pub fn notices(&self) -> broadcast::Receiver<ControlNotice> {
        self.notices.subscribe()
    }

    pub(crate) fn notify(&self, notice: ControlNotice) {
        // No receiver yet (no media plane running) is fine: nothing to tell.
        let _ = self.notices.send(notice);
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// Runs one operation and returns its JSON response body.
    pub async fn call(&self, call: Call<'_>) -> ApiResult<Value> {
        let body = call.body;
        match call.operation {
            Operation::CreateStage => self.create_stage(body).await,
            Operation::GetStage => self.get_stage(body).await,
            Operation::ListStages => self.list_stages(body).await,
            Operation::UpdateStage => self.update_stage(body).await,
            Operation::DeleteStage => self.delete_stage(body).await,
            Operation::ListStageSessions => self.list_stage_sessions(body).await,
            Operation::GetStageSession => self.get_stage_session(body).await,
            Operation::CreateParticipantToken => self.create_participant_token(body).await,
            Operation::DisconnectParticipant => self.disconnect_participant(body).await,
            Operation::GetParticipant => self.get_participant(body).await,
            Operation::ListParticipants => self.list_participants(body).await,
            Operation::ListParticipantEvents => self.list_participant_events(body).await,
            Operation::ImportPublicKey => self.import_public_key(body).await,
            Operation::GetPublicKey => self.get_public_key(body).await,
            Operation::ListPublicKeys => self.list_public_keys(body).await,
            Operation::DeletePublicKey => self.delete_public_key(body).await,
            Operation::TagResource => self.tag_resource(call.resource_arn, body).await,
            Operation::UntagResource => self.untag_resource(call.resource_arn, call.tag_keys).await,
            Operation::ListTagsForResource => self.list_tags_for_resource(call.resource_arn).await,
            Operation::CreateStorageConfiguration => self.create_storage_configuration(body).await,
            Operation::GetStorageConfiguration => self.get_storage_configuration(body).await,
            Operation::ListStorageConfigurations => self.list_storage_configurations(body).await,
            Operation::DeleteStorageConfiguration => self.delete_storage_configuration(body).await,
            Operation::CreateChannel => self.create_channel(body).await,
            Operation::GetChannel => self.get_channel(body).await,
            Operation::BatchGetChannel => self.batch_get_channel(body).await,
            Operation::ListChannels => self.list_channels(body).await,
            Operation::UpdateChannel => self.update_channel(body).await,
            Operation::DeleteChannel => self.delete_channel(body).await,
            Operation::CreateStreamKey => self.create_stream_key(body).await,
            Operation::GetStreamKey => self.get_stream_key(body).await,
            Operation::ListStreamKeys => self.list_stream_keys(body).await,
            Operation::DeleteStreamKey => self.delete_stream_key(body).await,
            Operation::GetStream => self.get_stream(body).await,
            Operation::ListStreams => self.list_streams(body).await,
            Operation::StopStream => self.stop_stream(body).await,
            Operation::GetStreamSession => self.get_stream_session(body).await,
            Operation::ListStreamSessions => self.list_stream_sessions(body).await,
            Operation::CreateRecordingConfiguration => {
                self.create_recording_configuration(body).await
            }
            Operation::GetRecordingConfiguration => self.get_recording_configuration(body).await,
            Operation::ListRecordingConfigurations => {
                self.list_recording_configurations(body).await
            }
            Operation::DeleteRecordingConfiguration => {
                self.delete_recording_configuration(body).await
            }
        }
    }

    /// Resolves an ARN of this deployment to its id: ValidationException when malformed or of
    /// another type, ResourceNotFoundException when another region's or account's.
    pub(crate) fn own_id(&self, arn: &str, field: &str, want: ResourceType) -> ApiResult<String> {
        let parsed = Arn::parse_as(arn, field, want)?;
        if !self.config.scope.owns(&parsed) {
            return Err(ApiError::not_found(format!("{} {arn} not found", want.noun())));
        }
        Ok(parsed.id)
    }

    /// Resolves a stage ARN from a request to the stored stage, or the IVS error a client expects:
    /// ValidationException for a malformed ARN, ResourceNotFoundException for an unknown stage.
    pub async fn find_stage(&self, arn: &str, field: &str) -> ApiResult<StageRecord> {
        let parsed = Arn::parse_as(arn, field, ResourceType::Stage)?;
        let not_found = || ApiError::not_found(format!("stage {arn} not found"));
        if !self.config.scope.owns(&parsed) {
            return Err(not_found());
        }
        self.store
            .get_stage(&parsed.id)
            .await
            .map_err(|e| ApiError::from_store(e, "stage"))?
            .ok_or_else(not_found)
    }
}

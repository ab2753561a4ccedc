//! Broadcasting to an audience (DESIGN §6): channels live on this node, their ingest (RTMP,
//! RTMPS, WHIP), their low-latency HLS playback and the watch page. The control plane keeps the
//! channels, keys and stream sessions; this module is where their media is.
//!
//! - [`live_channels`]: which channels are live, one stream each; [`viewers`]: who watches.
//! - [`ingest`]: one stream's samples into its HLS packager.
//! - [`rtmp_ingest`] (with [`rtmp_timing`]), [`whip_ingest`] (with [`rtp_media`]): the ways in.
//! - [`playback`], [`watch_page`]: the ways out.
//! - [`recorder`]: a recording into [`storage`]; [`participant_recording`]: a stage's
//!   publishers recorded (fed by [`tap_queue`]).

pub mod channel_recording;
pub mod ingest;
pub mod live_channels;
pub mod metrics;
pub mod participant_recording;
pub mod playback;
pub mod recorder;
pub mod rtmp_ingest;
mod rtmp_timing;
pub mod rtp_media;
pub mod storage;
pub mod tap_queue;
pub mod viewers;
pub mod watch_page;
pub mod whip_ingest;

use std::sync::Arc;

use troupe_control::{
    ControlPlane,
    arn::ResourceType,
    live_streams::{LiveStreamInfo, LiveStreams},
};
use troupe_storage::Storage;

use self::{
    channel_recording::ChannelRecordingPlan,
    ingest::Ingest,
    live_channels::{IngestProtocol, LiveChannel, LiveChannels},
    participant_recording::ParticipantRecordings,
};

/// The RTMP application name ingest URLs use (`rtmp://host/app/<streamKey>`, as IVS).
pub const RTMP_APP: &str = "app";

/// What ingest needs to know of a channel its stream key opened.
#[derive(Debug, Clone)]
pub struct ChannelGrant {
    pub id: String,
    pub name: String,
    pub insecure_ingest: bool,
    pub recording_configuration_id: Option<String>,
}

pub struct Broadcast {
    plane: ControlPlane,
    pub channels: LiveChannels,
    pub storage: Storage,
    pub participant_recordings: Arc<ParticipantRecordings>,
    /// Whether the node has TLS (then plain RTMP needs the channel's `insecureIngest`).
    tls_on: bool,
}

impl Broadcast {
    pub fn new(plane: ControlPlane, tls_on: bool, storage: Storage) -> Arc<Broadcast> {
        let participant_recordings = ParticipantRecordings::new(plane.clone(), storage.clone());
        Arc::new(Broadcast {
            plane,
            channels: LiveChannels::default(),
            storage,
            participant_recordings,
            tls_on,
        })
    }

    /// The channel a stream key opens, or why it opens none.
    pub async fn authorize(&self, stream_key: &str) -> Result<ChannelGrant, String> {
        let channel = self.plane.authorize_stream_key(stream_key).await.map_err(|refused| {
            format!("{refused} (the channel or its key may have been deleted)")
        })?;
        Ok(ChannelGrant {
            id: channel.id,
            name: channel.name,
            insecure_ingest: channel.settings.insecure_ingest,
            recording_configuration_id: channel.recording_configuration_id,
        })
    }

    /// An RTMP(S) publish of `stream_key` to application `app`.
    pub async fn admit_rtmp(
        &self,
        app: &str,
        stream_key: &str,
        protocol: IngestProtocol,
    ) -> Result<Ingest, String> {
        if app != RTMP_APP {
            return Err(format!(
                "unknown application {app:?}: publish to rtmp://<host>:<port>/{RTMP_APP}/<streamKey>"
            ));
        }
        let channel = self.authorize(stream_key).await?;
        if protocol == IngestProtocol::Rtmp && self.tls_on && !channel.insecure_ingest {
            return Err(format!(
                "channel {} takes RTMPS only (rtmps://…): allow plain RTMP with insecureIngest",
                channel.id
            ));
        }
        self.go_live(&channel, protocol, true).await
    }

    /// Makes the channel live with a new stream (refused when it is live already).
    pub async fn go_live(
        &self,
        grant: &ChannelGrant,
        protocol: IngestProtocol,
        expects_video: bool,
    ) -> Result<Ingest, String> {
        let live =
            self.channels.claim(&grant.id, &grant.name, protocol).map_err(|e| e.to_string())?;
        let mut ingest = Ingest::new(live.clone(), expects_video);
        if let Some(id) = &grant.recording_configuration_id
            && let Some(plan) = self.recording_plan(&grant.id, id).await
        {
            ingest.record(plan);
        }
        // The stream session is recorded when the media starts (what the encoder sends is
        // known then, and the stream is LIVE from that moment); `ended` waits for that write,
        // so an end is never stored before its start.
        let plane = self.plane.clone();
        let (written_tx, written_rx) = tokio::sync::oneshot::channel::<()>();
        live.set_session_written(written_rx);
        let started = live.clone();
        ingest.on_started(Box::new(move |configuration| {
            tokio::spawn(async move {
                match plane.stream_started(&started.channel_id, &configuration).await {
                    Ok(stream_id) => {
                        let _ = started.stream_id.set(stream_id);
                        let _ = written_tx.send(());
                    }
                    Err(e) => tracing::warn!(channel = %started.channel_id, error = %e, "could not record the stream session"),
                }
            });
        }));
        tracing::info!(channel = %grant.id, protocol = protocol.name(), "channel push accepted");
        Ok(ingest)
    }

    /// Where the channel's stream is recorded (its recording configuration's bucket).
    async fn recording_plan(
        &self,
        channel_id: &str,
        configuration_id: &str,
    ) -> Option<ChannelRecordingPlan> {
        let config = match self.plane.recording_configuration(configuration_id).await {
            Ok(config) => config,
            Err(e) => {
                tracing::warn!(channel = %channel_id, error = %e, "recording configuration gone: not recording");
                return None;
            }
        };
        if let Err(e) = self.storage.prepare_bucket(&config.bucket_name).await {
            tracing::warn!(bucket = %config.bucket_name, error = %e, "recording bucket not usable now; uploads will be retried");
        }
        let scope = &self.plane.config().scope;
        Some(ChannelRecordingPlan {
            storage: self.storage.clone(),
            bucket: config.bucket_name,
            account: scope.account.clone(),
            channel_id: channel_id.to_string(),
            channel_arn: scope.arn(ResourceType::Channel, channel_id),
        })
    }

    /// The stream ended (the encoder stopped, the connection dropped, StopStream).
    pub async fn ended(&self, live: &LiveChannel) {
        self.channels.release(live);
        if let Some(written) = live.take_session_written() {
            // Resolves when the start was written; an error means it never will be.
            if written.await.is_ok()
                && let Some(stream_id) = live.stream_id.get()
                && let Err(e) = self.plane.stream_ended(&live.channel_id, stream_id).await
            {
                tracing::warn!(channel = %live.channel_id, error = %e, "could not record the end of the stream session");
            }
        }
        tracing::info!(channel = %live.channel_id, stream = ?live.stream_id.get(), protocol = live.protocol.name(), "channel offline");
    }

    /// At shutdown (after the stages' participants were let go): waits for the pushes and the
    /// participant recordings to end (writing their last segments and markers), then for the
    /// upload queue to drain, up to `timeout` in all.
    pub async fn drain(&self, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        self.participant_recordings.shut_down();
        let busy = || !self.channels.all().is_empty() || self.participant_recordings.active() > 0;
        while busy() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if let Err(e) = self.storage.flush(left).await {
            tracing::warn!(error = %e, "recording uploads still queued at shutdown");
        }
    }

    /// The name of a channel that exists (for the watch page of an offline channel).
    pub async fn channel_name(&self, channel_id: &str) -> Option<String> {
        self.plane.store().get_channel(channel_id).await.ok().flatten().map(|c| c.name)
    }
}

/// What is live, for GetStream, ListStreams and StopStream.
impl LiveStreams for Broadcast {
    fn get(&self, channel_id: &str) -> Option<LiveStreamInfo> {
        self.channels.get(channel_id).and_then(|live| live_info(&live))
    }

    fn list(&self) -> Vec<(String, LiveStreamInfo)> {
        self.channels
            .all()
            .iter()
            .filter_map(|live| Some((live.channel_id.clone(), live_info(live)?)))
            .collect()
    }

    fn stop(&self, channel_id: &str) -> bool {
        self.channels.stop(channel_id)
    }
}

/// A push is a stream once its media started (and its session was recorded).
fn live_info(live: &LiveChannel) -> Option<LiveStreamInfo> {
    let now = std::time::Instant::now();
    Some(LiveStreamInfo {
        stream_id: live.stream_id.get()?.clone(),
        start_time: live.started,
        health: live.health(now),
        viewer_count: live.viewers.count(now),
        ingest: live.ingest(),
    })
}

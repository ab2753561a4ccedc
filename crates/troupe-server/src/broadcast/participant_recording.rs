//! Individual participant recording (`autoParticipantRecordingConfiguration` on a stage): each
//! publisher's media, from a tap on its publish session, into a [`Recorder`] under the
//! participant's IVS prefix (`<stageId>/<sessionId>/<participantId>/<start>`), with its
//! `recordingState`, bucket and prefix in GetParticipant. A participant that publishes again
//! within `recordingReconnectWindowSeconds` continues the same recording (a new period after
//! an `EXT-X-DISCONTINUITY`); after the window the recording ends.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use troupe_control::ControlPlane;
use troupe_media::tap::{MediaTap, TappedPacket};
use troupe_storage::{
    Storage,
    layout::{
        PARTICIPANT_RENDITION, ParticipantMedia, ParticipantRecordingMarker, RecordingKeys,
        RecordingKind, participant_recording_prefix,
    },
};
use troupe_store::StageRecord;

use super::{
    recorder::{Keep, Marker, Recorder},
    rtp_media::{Media, RtpMedia, opus_track},
    tap_queue::{KeyframeCadence, TapQueue},
};

/// How long a new publish waits for the stage's session to exist in the store (the events
/// hub opens it as the publish joins).
const SESSION_WAIT: Duration = Duration::from_secs(5);

/// The stage's recording settings, with IVS's defaults for what the client left out.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSettings {
    pub storage_configuration_id: String,
    pub keep: Keep,
    pub reconnect_window: Duration,
    pub target_segment: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AutoRecording {
    storage_configuration_arn: String,
    media_types: Option<Vec<String>>,
    recording_reconnect_window_seconds: Option<u64>,
    hls_configuration: Option<HlsConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HlsConfiguration {
    target_segment_duration_seconds: Option<u64>,
}

impl RecordingSettings {
    /// `None` when the stage does not record (no configuration, or `mediaTypes: [NONE]`).
    pub fn of(stage: &StageRecord) -> Option<RecordingSettings> {
        let auto: AutoRecording = serde_json::from_value(stage.auto_recording.clone()?).ok()?;
        let media = auto.media_types.unwrap_or_default();
        let keep = match media.first().map(String::as_str) {
            None | Some("AUDIO_VIDEO") => Keep { video: true, audio: true },
            Some("AUDIO_ONLY") => Keep { video: false, audio: true },
            _ => return None,
        };
        let id = auto.storage_configuration_arn.rsplit('/').next()?.to_string();
        Some(RecordingSettings {
            storage_configuration_id: id,
            keep,
            reconnect_window: Duration::from_secs(
                auto.recording_reconnect_window_seconds.unwrap_or(0).min(300),
            ),
            target_segment: Duration::from_secs(
                auto.hls_configuration
                    .and_then(|h| h.target_segment_duration_seconds)
                    .unwrap_or(6)
                    .clamp(2, 10),
            ),
        })
    }
}

/// A publish's packets, handed to the participant's recording.
struct Attach {
    packets: mpsc::Receiver<TappedPacket>,
    tap: std::sync::Weak<TapQueue>,
}

type Key = (String, String);

/// The recordings in progress on this node, by (stage, participant).
pub struct ParticipantRecordings {
    plane: ControlPlane,
    storage: Storage,
    active: Arc<Mutex<HashMap<Key, mpsc::Sender<Attach>>>>,
    shutdown: watch::Sender<bool>,
}

impl ParticipantRecordings {
    pub fn new(plane: ControlPlane, storage: Storage) -> Arc<ParticipantRecordings> {
        let (shutdown, _) = watch::channel(false);
        Arc::new(ParticipantRecordings { plane, storage, active: Default::default(), shutdown })
    }

    /// At shutdown: recordings end as their publishes do, without waiting for a reconnect.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Recordings still writing.
    pub fn active(&self) -> usize {
        self.active.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The tap for an admitted publish, when its stage records: the packets go to the
    /// participant's recording (a new one, or the one a reconnect continues).
    pub fn tap_for(&self, stage: &StageRecord, participant_id: &str) -> Option<Arc<dyn MediaTap>> {
        let settings = RecordingSettings::of(stage)?;
        let (tap, packets) = TapQueue::new();
        let mut attach = Attach { packets, tap: Arc::downgrade(&tap) };
        let key = (stage.id.clone(), participant_id.to_string());
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = active.get(&key) {
            match sender.try_send(attach) {
                Ok(()) => return Some(tap),
                Err(mpsc::error::TrySendError::Full(a) | mpsc::error::TrySendError::Closed(a)) => {
                    attach = a;
                }
            }
        }
        let (sender, attachments) = mpsc::channel(4);
        active.insert(key.clone(), sender);
        let task = RecordingTask {
            plane: self.plane.clone(),
            storage: self.storage.clone(),
            active: self.active.clone(),
            shutdown: self.shutdown.subscribe(),
            key,
            stage_arn: self
                .plane
                .config()
                .scope
                .arn(troupe_control::arn::ResourceType::Stage, &stage.id),
            settings,
        };
        tokio::spawn(task.run(attach, attachments));
        Some(tap)
    }
}

struct RecordingTask {
    plane: ControlPlane,
    storage: Storage,
    active: Arc<Mutex<HashMap<Key, mpsc::Sender<Attach>>>>,
    shutdown: watch::Receiver<bool>,
    key: Key,
    stage_arn: String,
    settings: RecordingSettings,
}

impl RecordingTask {
    async fn run(self, mut first: Attach, mut attachments: mpsc::Receiver<Attach>) {
        let (stage_id, participant_id) = self.key.clone();
        // Nothing is written for a publish that never sends (refused by the worker, say).
        let Some(first_packet) = first.packets.recv().await else {
            self.forget();
            return;
        };
        let Some((mut recorder, bucket, prefix, first_session)) = self.start().await else {
            self.forget();
            return;
        };
        // The stage sessions the recording spans (a reconnect may land in a new one): each
        // shows the participant's recording.
        let mut sessions = vec![first_session];
        let mut pending = Some(first_packet);
        let mut next = Some(first);
        let mut periods = 0u32;
        let mut active_reported = false;
        while let Some(Attach { mut packets, tap }) = next.take() {
            if periods > 0 {
                recorder.reconnect();
                if let Some(session) = self.active_session().await
                    && !sessions.contains(&session)
                {
                    sessions.push(session);
                    self.report(&sessions, "ACTIVE", &bucket, &prefix).await;
                }
            }
            periods += 1;
            let mut media = RtpMedia::default();
            let mut out = Vec::new();
            // Segments start at keyframes: ask for one each segment target.
            let mut cadence = KeyframeCadence::new(self.settings.target_segment);
            recorder.set_audio(opus_track());
            loop {
                let packet = match pending.take() {
                    Some(p) => p,
                    None => match packets.recv().await {
                        Some(p) => p,
                        None => break,
                    },
                };
                let mut wants_keyframe = media.push(&packet, &mut out);
                for m in out.drain(..) {
                    match m {
                        Media::VideoTrack(track) => recorder.set_video(track),
                        Media::Video(sample) => {
                            if self.settings.keep.video {
                                wants_keyframe |= cadence.sample(sample.keyframe, packet.received);
                            }
                            recorder.video(sample);
                        }
                        Media::Audio(sample) => recorder.audio(sample),
                    }
                }
                if wants_keyframe && let Some(tap) = tap.upgrade() {
                    tap.want_keyframe();
                }
                if !active_reported && recorder.recorded_seconds() > 0.0 {
                    active_reported = true;
                    self.report(&sessions, "ACTIVE", &bucket, &prefix).await;
                }
            }
            // The publish ended: a new one within the window continues this recording.
            let mut shutdown = self.shutdown.clone();
            let reconnected = tokio::select! {
                r = tokio::time::timeout(self.settings.reconnect_window, attachments.recv()) => r.ok().flatten(),
                // The node stops: no reconnect will come here.
                _ = shutdown.wait_for(|stop| *stop) => None,
            };
            next = match reconnected {
                Some(attach) => Some(attach),
                None => {
                    // Out of the table first, then anything that came meanwhile still counts.
                    self.forget();
                    attachments.try_recv().ok()
                }
            };
        }
        self.report(&sessions, "STOPPING", &bucket, &prefix).await;
        let ok = recorder.finish();
        self.report(&sessions, if ok { "STOPPED" } else { "FAILED" }, &bucket, &prefix).await;
        tracing::info!(stage = %stage_id, participant = %participant_id, %prefix, periods, "participant recording ended");
    }

    fn forget(&self) {
        self.active.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }

    /// The stage's session now (the events hub opens it as a publish joins: wait a little).
    async fn active_session(&self) -> Option<String> {
        let stage_id = &self.key.0;
        let deadline = tokio::time::Instant::now() + SESSION_WAIT;
        loop {
            match self.plane.store().get_stage(stage_id).await {
                Ok(Some(stage)) if stage.active_session_id.is_some() => {
                    return stage.active_session_id;
                }
                Ok(None) => return None,
                _ if tokio::time::Instant::now() > deadline => {
                    tracing::warn!(stage = %stage_id, "no stage session to record into");
                    return None;
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Finds the stage session and the bucket; writes `recording-started.json`.
    async fn start(&self) -> Option<(Recorder, String, String, String)> {
        let (stage_id, participant_id) = &self.key;
        let session_id = self.active_session().await?;
        let sessions = [session_id.clone()];
        let bucket = match self
            .plane
            .storage_configuration(&self.settings.storage_configuration_id)
            .await
        {
            Ok(config) => config.bucket_name,
            Err(e) => {
                tracing::warn!(stage = %stage_id, error = %e, "the stage records to a storage configuration that is gone: not recording");
                self.report(&sessions, "FAILED", "", "").await;
                return None;
            }
        };
        if let Err(e) = self.storage.prepare_bucket(&bucket).await {
            tracing::warn!(%bucket, error = %e, "recording bucket not usable; uploads will be retried");
        }
        let started = OffsetDateTime::now_utc();
        let prefix = participant_recording_prefix(stage_id, &session_id, participant_id, started);
        self.report(&sessions, "STARTING", &bucket, &prefix).await;
        let marker = ParticipantRecordingMarker::started(
            &self.stage_arn,
            &session_id,
            participant_id,
            started,
            ParticipantMedia::single_rendition(false, false),
        );
        let recorder = Recorder::start(
            self.storage.clone(),
            &bucket,
            RecordingKeys::new(prefix.clone(), RecordingKind::Participant),
            PARTICIPANT_RENDITION,
            self.settings.target_segment,
            self.settings.keep,
            Marker::Participant(marker),
        );
        Some((recorder, bucket, prefix, session_id))
    }

    async fn report(&self, sessions: &[String], state: &str, bucket: &str, prefix: &str) {
        let (stage_id, participant_id) = &self.key;
        for session in sessions {
            let set = self.plane.set_participant_recording(
                stage_id,
                session,
                participant_id,
                state,
                bucket,
                prefix,
            );
            if let Err(e) = set.await {
                tracing::debug!(stage = %stage_id, participant = %participant_id, error = %e, "recording state not stored");
            }
        }
    }
}

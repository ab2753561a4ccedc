//! A channel's recording (`recordingConfigurationArn`): its stream, as pushed, into the
//! recording configuration's bucket under IVS's channel prefix
//! (`ivs/v1/<account>/<channelId>/<y>/<m>/<d>/<h>/<min>/<recordingId>/`), one rendition named
//! like IVS's (`720p30`): Troupe does not transcode, so the source is the only rendition.

use std::time::Duration;

use time::OffsetDateTime;
use troupe_hls::{AudioTrack, VideoTrack};
use troupe_storage::{
    Storage,
    layout::{
        ChannelMedia, ChannelRecordingMarker, HlsMedia, HlsRendition, RecordingKeys, RecordingKind,
        channel_recording_prefix,
    },
};

use super::recorder::{Keep, Marker, Recorder};

/// Where a channel's next stream is recorded, decided when it goes live.
#[derive(Clone)]
pub struct ChannelRecordingPlan {
    pub storage: Storage,
    pub bucket: String,
    pub account: String,
    pub channel_id: String,
    pub channel_arn: String,
}

/// IVS channel recordings use 6-second segments.
const TARGET_SEGMENT: Duration = Duration::from_secs(6);

impl ChannelRecordingPlan {
    /// Starts the recording once the stream's tracks are known (its first keyframe).
    pub fn start(
        &self,
        video: Option<&VideoTrack>,
        audio: Option<&AudioTrack>,
        framerate: Option<f64>,
    ) -> Recorder {
        let started = OffsetDateTime::now_utc();
        let recording_id = new_recording_id();
        let prefix =
            channel_recording_prefix(&self.account, &self.channel_id, started, &recording_id);
        let rendition = match video {
            Some(v) => format!("{}p{}", v.height(), framerate.map_or(30, |f| f.round() as u32)),
            None => "audio_only".to_string(),
        };
        let renditions = match video {
            Some(v) => {
                let mut r = HlsRendition::channel(&rendition, v.width(), v.height());
                r.byte_range_playlist = None; // Troupe writes no byte-range playlists.
                vec![r]
            }
            None => vec![HlsRendition {
                path: rendition.clone(),
                playlist: troupe_storage::layout::RENDITION_PLAYLIST.to_string(),
                byte_range_playlist: None,
                resolution_height: None,
                resolution_width: None,
            }],
        };
        let mut hls = HlsMedia::channel(renditions);
        hls.byte_range_playlist = None;
        let marker = ChannelRecordingMarker::started(
            &self.channel_arn,
            started,
            ChannelMedia { hls, thumbnails: None, latest_thumbnail: None },
        );
        let keep = Keep { video: video.is_some(), audio: audio.is_some() };
        let mut recorder = Recorder::start(
            self.storage.clone(),
            &self.bucket,
            RecordingKeys::new(prefix, RecordingKind::Channel),
            &rendition,
            TARGET_SEGMENT,
            keep,
            Marker::Channel(marker),
        );
        if let Some(v) = video {
            recorder.set_video(v.clone());
        }
        if let Some(a) = audio {
            recorder.set_audio(a.clone());
        }
        recorder
    }
}

/// IVS recording ids are 12 letters and digits.
fn new_recording_id() -> String {
    use rand::{Rng, distributions::Alphanumeric};
    rand::thread_rng().sample_iter(&Alphanumeric).take(12).map(char::from).collect()
}

//! The CMAF header: `ftyp` + `moov` with one `trak` per track (empty sample tables: every
//! sample lives in fragments) and `mvex`/`trex` announcing that fragments follow.

use bytes::Bytes;

use super::box_writer::BoxWriter;
use crate::track::{AudioParams, AudioTrack, TrackError, VIDEO_TIMESCALE, VideoTrack};

pub const VIDEO_TRACK_ID: u32 = 1;
pub const AUDIO_TRACK_ID: u32 = 2;
/// An audio-only stream's one track.
pub const AUDIO_ONLY_TRACK_ID: u32 = 1;

pub fn init_segment(
    video: Option<&VideoTrack>,
    audio: Option<&AudioTrack>,
) -> Result<Bytes, TrackError> {
    let audio = match audio {
        Some(track) => Some((track, track.params()?)),
        None => None,
    };
    if video.is_none() && audio.is_none() {
        return Err(TrackError::NoTracks);
    }
    let audio_id = if video.is_some() { AUDIO_TRACK_ID } else { AUDIO_ONLY_TRACK_ID };
    let mut w = BoxWriter::new();
    w.boxed(b"ftyp", |w| {
        w.bytes(b"iso6");
        w.u32(0);
        w.bytes(b"iso6cmfcmp41");
        if video.is_some() {
            w.bytes(b"avc1");
        }
        if matches!(audio, Some((AudioTrack::Opus { .. }, _))) {
            w.bytes(b"Opus");
        }
    });
    w.boxed(b"moov", |w| {
        w.full(b"mvhd", 0, 0, |w| {
            w.zeros(8); // creation, modification time
            w.u32(1000);
            w.u32(0); // duration: unknown, fragmented
            w.u32(0x0001_0000); // rate 1.0
            w.u16(0x0100); // volume 1.0
            w.zeros(10);
            w.unity_matrix();
            w.zeros(24);
            w.u32(audio_id + 1);
        });
        if let Some(video) = video {
            video_trak(w, video);
        }
        if let Some((track, params)) = &audio {
            audio_trak(w, audio_id, track, params);
        }
        w.boxed(b"mvex", |w| {
            let ids = video.map(|_| VIDEO_TRACK_ID).into_iter().chain(audio.map(|_| audio_id));
            for id in ids {
                w.full(b"trex", 0, 0, |w| {
                    w.u32(id);
                    w.u32(1); // default_sample_description_index
                    w.zeros(12); // duration, size, flags: every trun says its own
                });
            }
        });
    });
    Ok(Bytes::from(w.buf))
}

fn tkhd(w: &mut BoxWriter, id: u32, volume: u16, width: u32, height: u32) {
    w.full(b"tkhd", 0, 0x3, |w| {
        w.zeros(8); // creation, modification time
        w.u32(id);
        w.u32(0);
        w.u32(0); // duration
        w.zeros(8);
        w.u16(0); // layer
        w.u16(0); // alternate_group
        w.u16(volume);
        w.u16(0);
        w.unity_matrix();
        w.u32(width << 16);
        w.u32(height << 16);
    });
}

fn mdhd_hdlr(w: &mut BoxWriter, timescale: u32, handler: &[u8; 4], name: &str) {
    w.full(b"mdhd", 0, 0, |w| {
        w.zeros(8);
        w.u32(timescale);
        w.u32(0);
        w.u16(0x55c4); // "und"
        w.u16(0);
    });
    w.full(b"hdlr", 0, 0, |w| {
        w.u32(0);
        w.bytes(handler);
        w.zeros(12);
        w.bytes(name.as_bytes());
        w.u8(0);
    });
}

/// dinf and the empty sample tables around one sample entry.
fn dinf_stbl(w: &mut BoxWriter, sample_entry: impl FnOnce(&mut BoxWriter)) {
    w.boxed(b"dinf", |w| {
        w.full(b"dref", 0, 0, |w| {
            w.u32(1);
            w.full(b"url ", 0, 1, |_| {}); // flag 1: media is in this file
        });
    });
    w.boxed(b"stbl", |w| {
        w.full(b"stsd", 0, 0, |w| {
            w.u32(1);
            sample_entry(w);
        });
        w.full(b"stts", 0, 0, |w| w.u32(0));
        w.full(b"stsc", 0, 0, |w| w.u32(0));
        w.full(b"stsz", 0, 0, |w| w.zeros(8));
        w.full(b"stco", 0, 0, |w| w.u32(0));
    });
}

fn video_trak(w: &mut BoxWriter, video: &VideoTrack) {
    let (width, height) = (video.width(), video.height());
    w.boxed(b"trak", |w| {
        tkhd(w, VIDEO_TRACK_ID, 0, width, height);
        w.boxed(b"mdia", |w| {
            mdhd_hdlr(w, VIDEO_TIMESCALE, b"vide", "VideoHandler");
            w.boxed(b"minf", |w| {
                w.full(b"vmhd", 0, 1, |w| w.zeros(8));
                dinf_stbl(w, |w| {
                    w.boxed(b"avc1", |w| {
                        w.zeros(6);
                        w.u16(1); // data_reference_index
                        w.zeros(16);
                        w.u16(width as u16);
                        w.u16(height as u16);
                        w.u32(0x0048_0000); // 72 dpi
                        w.u32(0x0048_0000);
                        w.u32(0);
                        w.u16(1); // frame_count
                        w.zeros(32); // compressorname
                        w.u16(0x0018); // depth
                        w.u16(0xffff); // pre_defined = -1
                        w.boxed(b"avcC", |w| w.bytes(&video.config().record));
                    });
                });
            });
        });
    });
}

fn audio_sample_entry_fields(w: &mut BoxWriter, params: &AudioParams) {
    w.zeros(6);
    w.u16(1); // data_reference_index
    w.zeros(8);
    w.u16(params.channels);
    w.u16(16); // samplesize
    w.zeros(4);
    // 16.16 fixed point; rates above 65535 Hz do not fit and are written as 0 (the real rate
    // is in the ASC and the timescale).
    w.u32(if params.timescale <= 0xffff { params.timescale << 16 } else { 0 });
}

fn audio_trak(w: &mut BoxWriter, id: u32, track: &AudioTrack, params: &AudioParams) {
    w.boxed(b"trak", |w| {
        tkhd(w, id, 0x0100, 0, 0);
        w.boxed(b"mdia", |w| {
            mdhd_hdlr(w, params.timescale, b"soun", "SoundHandler");
            w.boxed(b"minf", |w| {
                w.full(b"smhd", 0, 0, |w| w.zeros(4));
                dinf_stbl(w, |w| match track {
                    AudioTrack::Aac { audio_specific_config } => w.boxed(b"mp4a", |w| {
                        audio_sample_entry_fields(w, params);
                        w.full(b"esds", 0, 0, |w| esds(w, id, audio_specific_config));
                    }),
                    AudioTrack::Opus { channels, pre_skip } => w.boxed(b"Opus", |w| {
                        audio_sample_entry_fields(w, params);
                        // Opus in ISOBMFF §4.3.2: mapping family 0, no gain.
                        w.boxed(b"dOps", |w| {
                            w.u8(0);
                            w.u8(*channels);
                            w.u16(*pre_skip);
                            w.u32(48_000);
                            w.u16(0);
                            w.u8(0);
                        });
                    }),
                });
            });
        });
    });
}

/// An MPEG-4 descriptor: tag and a size in 7-bit groups (14496-1 §8.3.3).
fn descriptor(w: &mut BoxWriter, tag: u8, contents: impl FnOnce(&mut BoxWriter)) {
    let mut inner = BoxWriter::new();
    contents(&mut inner);
    let size = inner.buf.len() as u32;
    w.u8(tag);
    for shift in [21, 14, 7] {
        w.u8(0x80 | ((size >> shift) & 0x7f) as u8);
    }
    w.u8((size & 0x7f) as u8);
    w.bytes(&inner.buf);
}

fn esds(w: &mut BoxWriter, id: u32, audio_specific_config: &[u8]) {
    descriptor(w, 0x03, |w| {
        w.u16(id as u16); // ES_ID
        w.u8(0); // no dependency, URL or OCR stream
        descriptor(w, 0x04, |w| {
            w.u8(0x40); // Audio ISO/IEC 14496-3
            w.u8(0x15); // AudioStream << 2 | reserved 1
            w.bytes(&[0, 0, 0]); // bufferSizeDB
            w.u32(0); // maxBitrate
            w.u32(0); // avgBitrate
            descriptor(w, 0x05, |w| w.bytes(audio_specific_config));
        });
        descriptor(w, 0x06, |w| w.u8(0x02));
    });
}

//! FLV tag bodies as RTMP audio and video messages carry them: H.264 (codec id 7) and AAC
//! (sound format 10) only, since that is what channels transcode-free into HLS. Any other
//! codec is refused by name so that the operator's log says what the encoder should change.

use bytes::Bytes;

use crate::error::RtmpError;

/// A video message's content.
#[derive(Debug, PartialEq)]
pub enum VideoBody {
    Config(Bytes),
    Frame {
        cts_ms: i32,
        keyframe: bool,
        data: Bytes,
    },
    /// End of sequence, a video info/command frame or an empty message: nothing to pass on.
    Nothing,
}

/// An audio message's content.
#[derive(Debug, PartialEq)]
pub enum AudioBody {
    Config(Bytes),
    Frame(Bytes),
    Nothing,
}

const AVC: u8 = 7;
const AAC: u8 = 10;
const KEYFRAME: u8 = 1;
const INFO_FRAME: u8 = 5;

/// Parses a video message. `nalu_length_size` is the AVC configuration's NAL unit length
/// size, once one was received; frames before it are refused (they cannot be decoded).
pub fn parse_video(
    payload: &Bytes,
    nalu_length_size: Option<usize>,
) -> Result<VideoBody, RtmpError> {
    let Some(&first) = payload.first() else { return Ok(VideoBody::Nothing) };
    if first & 0x80 != 0 {
        // Enhanced RTMP: a FourCC instead of a codec id.
        let fourcc = payload.get(1..5).map(String::from_utf8_lossy).unwrap_or_default();
        return Err(RtmpError::UnsupportedVideoCodec(format!("enhanced-RTMP FourCC {fourcc:?}")));
    }
    let frame_type = first >> 4;
    let codec = first & 0x0f;
    if codec != AVC {
        return Err(RtmpError::UnsupportedVideoCodec(video_codec_name(codec)));
    }
    if frame_type == INFO_FRAME {
        return Ok(VideoBody::Nothing);
    }
    let Some(header) = payload.get(1..5) else {
        return Err(RtmpError::MalformedVideo("AVC packet shorter than its 5-byte header"));
    };
    let cts_ms = (i32::from_be_bytes([header[1], header[2], header[3], 0])) >> 8;
    let data = payload.slice(5..);
    match header[0] {
        0 => {
            avc_nalu_length_size(&data)?;
            Ok(VideoBody::Config(data))
        }
        1 => {
            let Some(length_size) = nalu_length_size else {
                return Err(RtmpError::MalformedVideo("AVC frames before the AVC sequence header"));
            };
            if data.is_empty() {
                return Ok(VideoBody::Nothing);
            }
            check_nalu_framing(&data, length_size)?;
            Ok(VideoBody::Frame { cts_ms, keyframe: frame_type == KEYFRAME, data })
        }
        2 => Ok(VideoBody::Nothing),
        _ => Err(RtmpError::MalformedVideo("AVC packet type is not 0, 1 or 2")),
    }
}

/// The NAL unit length size an AVCDecoderConfigurationRecord declares (ISO/IEC 14496-15).
pub fn avc_nalu_length_size(record: &[u8]) -> Result<usize, RtmpError> {
    if record.len() < 7 {
        return Err(RtmpError::MalformedVideo("AVC sequence header shorter than 7 bytes"));
    }
    if record[0] != 1 {
        return Err(RtmpError::MalformedVideo("AVC sequence header version is not 1"));
    }
    match (record[4] & 0x03) + 1 {
        3 => Err(RtmpError::MalformedVideo("AVC NAL unit length size of 3 bytes")),
        n => Ok(usize::from(n)),
    }
}

fn check_nalu_framing(mut data: &[u8], length_size: usize) -> Result<(), RtmpError> {
    while !data.is_empty() {
        let Some(prefix) = data.get(..length_size) else {
            return Err(RtmpError::MalformedVideo("AVC frame ends inside a NAL unit length"));
        };
        let length = prefix.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        data = &data[length_size..];
        if length > data.len() {
            return Err(RtmpError::MalformedVideo(
                "AVC NAL unit longer than the rest of the frame",
            ));
        }
        data = &data[length..];
    }
    Ok(())
}

fn video_codec_name(codec: u8) -> String {
    let name = match codec {
        1 => "JPEG",
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video v2",
        12 => "HEVC",
        _ => "unknown",
    };
    format!("{name} (FLV codec id {codec})")
}

/// Parses an audio message. Frames before the AAC sequence header are refused.
pub fn parse_audio(payload: &Bytes, configured: bool) -> Result<AudioBody, RtmpError> {
    let Some(&first) = payload.first() else { return Ok(AudioBody::Nothing) };
    let format = first >> 4;
    if format == 9 {
        let fourcc = payload.get(1..5).map(String::from_utf8_lossy).unwrap_or_default();
        return Err(RtmpError::UnsupportedAudioCodec(format!("enhanced-RTMP FourCC {fourcc:?}")));
    }
    if format != AAC {
        return Err(RtmpError::UnsupportedAudioCodec(audio_codec_name(format)));
    }
    let Some(&packet_type) = payload.get(1) else {
        return Err(RtmpError::MalformedAudio("AAC packet without its packet type byte"));
    };
    let data = payload.slice(2..);
    match packet_type {
        0 if data.len() < 2 => {
            Err(RtmpError::MalformedAudio("AAC sequence header shorter than 2 bytes"))
        }
        0 => Ok(AudioBody::Config(data)),
        1 if !configured => {
            Err(RtmpError::MalformedAudio("AAC frames before the AAC sequence header"))
        }
        1 if data.is_empty() => Ok(AudioBody::Nothing),
        1 => Ok(AudioBody::Frame(data)),
        _ => Err(RtmpError::MalformedAudio("AAC packet type is not 0 or 1")),
    }
}

fn audio_codec_name(format: u8) -> String {
    let name = match format {
        0 => "linear PCM, platform endian",
        1 => "ADPCM",
        2 => "MP3",
        3 => "linear PCM, little endian",
        4 => "Nellymoser 16 kHz mono",
        5 => "Nellymoser 8 kHz mono",
        6 => "Nellymoser",
        7 => "G.711 A-law",
        8 => "G.711 mu-law",
        11 => "Speex",
        14 => "MP3 8 kHz",
        15 => "device-specific sound",
        _ => "unknown",
    };
    format!("{name} (FLV sound format {format})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &[u8] = &[1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0];

    fn video(bytes: &[u8]) -> Result<VideoBody, RtmpError> {
        parse_video(&Bytes::copy_from_slice(bytes), Some(4))
    }

    #[test]
    fn avc_sequence_header_and_frames() {
        let mut msg = vec![0x17, 0, 0, 0, 0];
        msg.extend_from_slice(CONFIG);
        assert_eq!(video(&msg).unwrap(), VideoBody::Config(Bytes::from_static(CONFIG)));
        assert_eq!(avc_nalu_length_size(CONFIG), Ok(4));

        let frame = [0x27, 1, 0xff, 0xff, 0xfe, 0, 0, 0, 2, 0x41, 0x9a, 0, 0, 0, 1, 0x01];
        assert_eq!(
            video(&frame).unwrap(),
            VideoBody::Frame {
                cts_ms: -2,
                keyframe: false,
                data: Bytes::copy_from_slice(&frame[5..])
            }
        );
        let key = [0x17, 1, 0, 0, 0x42, 0, 0, 0, 1, 0x65];
        assert!(matches!(
            video(&key).unwrap(),
            VideoBody::Frame { cts_ms: 66, keyframe: true, .. }
        ));
        assert_eq!(video(&[0x17, 2, 0, 0, 0]).unwrap(), VideoBody::Nothing);
        assert_eq!(video(&[0x57, 0]).unwrap(), VideoBody::Nothing, "video info frame");
        assert_eq!(video(&[]).unwrap(), VideoBody::Nothing);
    }

    #[test]
    fn malformed_avc_is_refused() {
        let e = |b: &[u8]| video(b).unwrap_err();
        assert_eq!(
            e(&[0x17, 1, 0]),
            RtmpError::MalformedVideo("AVC packet shorter than its 5-byte header")
        );
        assert_eq!(
            e(&[0x17, 3, 0, 0, 0]),
            RtmpError::MalformedVideo("AVC packet type is not 0, 1 or 2")
        );
        assert_eq!(
            e(&[0x17, 0, 0, 0, 0, 1, 2]),
            RtmpError::MalformedVideo("AVC sequence header shorter than 7 bytes")
        );
        assert_eq!(
            e(&[0x17, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]),
            RtmpError::MalformedVideo("AVC sequence header version is not 1")
        );
        assert_eq!(
            e(&[0x17, 0, 0, 0, 0, 1, 0, 0, 0, 0xfe, 0, 0]),
            RtmpError::MalformedVideo("AVC NAL unit length size of 3 bytes")
        );
        assert_eq!(
            e(&[0x17, 1, 0, 0, 0, 0, 0, 0, 5, 1]),
            RtmpError::MalformedVideo("AVC NAL unit longer than the rest of the frame")
        );
        assert_eq!(
            e(&[0x17, 1, 0, 0, 0, 0, 0]),
            RtmpError::MalformedVideo("AVC frame ends inside a NAL unit length")
        );
        assert_eq!(
            parse_video(&Bytes::from_static(&[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]), None)
                .unwrap_err(),
            RtmpError::MalformedVideo("AVC frames before the AVC sequence header")
        );
    }

    #[test]
    fn other_video_codecs_are_named() {
        let e = |b: &[u8]| video(b).unwrap_err().to_string();
        assert!(e(&[0x12, 0]).contains("Sorenson H.263 (FLV codec id 2)"), "{}", e(&[0x12]));
        assert!(e(&[0x14]).contains("On2 VP6 (FLV codec id 4)"));
        assert!(e(&[0x1c, 0]).contains("HEVC (FLV codec id 12)"));
        assert_eq!(
            video(b"\x90hvc1").unwrap_err(),
            RtmpError::UnsupportedVideoCodec("enhanced-RTMP FourCC \"hvc1\"".into())
        );
        assert!(e(&[0x90]).contains("FourCC"));
    }

    #[test]
    fn aac_sequence_header_and_frames() {
        let audio = |b: &[u8], c| parse_audio(&Bytes::copy_from_slice(b), c);
        assert_eq!(
            audio(&[0xaf, 0, 0x11, 0x90], false).unwrap(),
            AudioBody::Config(Bytes::from_static(&[0x11, 0x90]))
        );
        assert_eq!(
            audio(&[0xaf, 1, 0x21, 0x10], true).unwrap(),
            AudioBody::Frame(Bytes::from_static(&[0x21, 0x10]))
        );
        assert_eq!(audio(&[0xaf, 1], true).unwrap(), AudioBody::Nothing);
        assert_eq!(audio(&[], true).unwrap(), AudioBody::Nothing);
        assert_eq!(
            audio(&[0xaf], true),
            Err(RtmpError::MalformedAudio("AAC packet without its packet type byte"))
        );
        assert_eq!(
            audio(&[0xaf, 0, 1], true),
            Err(RtmpError::MalformedAudio("AAC sequence header shorter than 2 bytes"))
        );
        assert_eq!(
            audio(&[0xaf, 1, 1], false),
            Err(RtmpError::MalformedAudio("AAC frames before the AAC sequence header"))
        );
        assert_eq!(
            audio(&[0xaf, 2, 1], true),
            Err(RtmpError::MalformedAudio("AAC packet type is not 0 or 1"))
        );
    }

    #[test]
    fn other_audio_codecs_are_named() {
        let e = |b: &[u8]| parse_audio(&Bytes::copy_from_slice(b), true).unwrap_err().to_string();
        assert!(e(&[0x2f]).contains("MP3 (FLV sound format 2)"));
        assert!(e(&[0xb6]).contains("Speex (FLV sound format 11)"));
        assert!(e(&[0x6f]).contains("Nellymoser (FLV sound format 6)"));
        assert!(e(b"\x90Opus").contains("enhanced-RTMP FourCC \"Opus\""));
    }
}

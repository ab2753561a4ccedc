//! `@setDataFrame`/`onMetaData`: the stream properties an encoder announces.

use crate::amf0::Amf0Value;
use crate::event::{CodecId, StreamMetadata};

/// The metadata in a data message's values, if it is `@setDataFrame("onMetaData", {..})` or
/// `onMetaData({..})`; any other data message (`onTextData`, cue points…) is `None`.
pub fn from_data_message(values: &[Amf0Value]) -> Option<StreamMetadata> {
    let values = match values.first()?.as_str()? {
        "@setDataFrame" => &values[1..],
        _ => values,
    };
    if values.first()?.as_str()? != "onMetaData" {
        return None;
    }
    let props = values.get(1)?;
    props.properties()?;
    let number = |key| props.get(key).and_then(Amf0Value::as_number);
    let codec = |key| match props.get(key)? {
        Amf0Value::Number(n) => Some(CodecId::Number(*n)),
        Amf0Value::String(s) => Some(CodecId::Name(s.clone())),
        _ => None,
    };
    let stereo = match props.get("stereo") {
        Some(Amf0Value::Boolean(true)) => Some(2.0),
        Some(Amf0Value::Boolean(false)) => Some(1.0),
        _ => None,
    };
    Some(StreamMetadata {
        width: number("width"),
        height: number("height"),
        framerate: number("framerate").or_else(|| number("fps")),
        video_data_rate: number("videodatarate"),
        audio_data_rate: number("audiodatarate"),
        audio_sample_rate: number("audiosamplerate"),
        audio_channels: number("audiochannels").or(stereo),
        encoder: props.get("encoder").and_then(Amf0Value::as_str).map(str::to_owned),
        video_codec_id: codec("videocodecid"),
        audio_codec_id: codec("audiocodecid"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amf0::{object, string};

    #[test]
    fn reads_what_ffmpeg_and_obs_send() {
        let ffmpeg = Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(1280.0)),
            ("height".into(), Amf0Value::Number(720.0)),
            ("framerate".into(), Amf0Value::Number(30.0)),
            ("videocodecid".into(), Amf0Value::Number(7.0)),
            ("audiosamplerate".into(), Amf0Value::Number(48000.0)),
            ("stereo".into(), Amf0Value::Boolean(false)),
            ("encoder".into(), string("Lavf61.7.100")),
        ]);
        let m =
            from_data_message(&[string("@setDataFrame"), string("onMetaData"), ffmpeg]).unwrap();
        assert_eq!((m.width, m.height, m.framerate), (Some(1280.0), Some(720.0), Some(30.0)));
        assert_eq!(m.audio_channels, Some(1.0));
        assert_eq!(m.video_codec_id, Some(CodecId::Number(7.0)));
        assert_eq!(m.encoder.as_deref(), Some("Lavf61.7.100"));
        assert_eq!(m.audio_codec_id, None);

        let obs =
            object(&[("audiochannels", Amf0Value::Number(2.0)), ("videocodecid", string("avc1"))]);
        let m = from_data_message(&[string("onMetaData"), obs]).unwrap();
        assert_eq!(m.audio_channels, Some(2.0));
        assert_eq!(m.video_codec_id, Some(CodecId::Name("avc1".into())));
    }

    #[test]
    fn other_data_messages_are_not_metadata() {
        assert_eq!(from_data_message(&[string("onTextData"), object(&[])]), None);
        assert_eq!(from_data_message(&[string("@setDataFrame"), string("onCuePoint")]), None);
        assert_eq!(from_data_message(&[string("onMetaData"), Amf0Value::Null]), None);
        assert_eq!(from_data_message(&[Amf0Value::Number(1.0)]), None);
        assert_eq!(from_data_message(&[]), None);
    }
}

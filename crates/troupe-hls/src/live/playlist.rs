//! Renders the live playlists. Called once per change (a part or segment completing), never per
//! request: the result is shared `Bytes`.

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::names::Names;
use super::state::{Part, Segment};
use crate::wall_clock::iso8601;

/// Everything the media playlist shows.
pub(crate) struct MediaView<'a> {
    pub names: &'a Names,
    pub target_duration: u64,
    pub part_target: Duration,
    pub segments: &'a [&'a Segment],
    pub open_parts: &'a [Part],
    pub open_msn: u64,
    pub open_program_date_time: Option<SystemTime>,
    pub ended: bool,
}

/// RFC 8216bis §6.2.2: parts older than three target durations from the end may go.
const PART_RETENTION_TARGET_DURATIONS: f64 = 3.0;

pub(crate) fn media_playlist(view: &MediaView<'_>) -> Bytes {
    let part_target = view.part_target.as_secs_f64();
    let mut out = String::with_capacity(256 + 160 * view.segments.len() * 5);
    out.push_str("#EXTM3U\n#EXT-X-VERSION:9\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", view.target_duration);
    let _ = writeln!(
        out,
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={:.3}",
        3.0 * part_target
    );
    let _ = writeln!(out, "#EXT-X-PART-INF:PART-TARGET={part_target:.3}");
    let first_msn = view.segments.first().map_or(view.open_msn, |segment| segment.msn);
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{first_msn}");
    let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", view.names.init());

    let retention = PART_RETENTION_TARGET_DURATIONS * view.target_duration as f64;
    let mut from_end = view.open_parts.iter().map(|part| part.duration).sum::<f64>();
    let keeps_parts: Vec<bool> = view
        .segments
        .iter()
        .rev()
        .map(|segment| {
            let keep = from_end < retention;
            from_end += segment.duration;
            keep
        })
        .collect();
    for (segment, keep_parts) in view.segments.iter().zip(keeps_parts.into_iter().rev()) {
        let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", iso8601(segment.program_date_time));
        if keep_parts {
            write_parts(&mut out, view.names, segment.msn, &segment.parts);
        }
        let _ =
            writeln!(out, "#EXTINF:{:.5},\n{}", segment.duration, view.names.segment(segment.msn));
    }
    if !view.ended {
        if let Some(time) = view.open_program_date_time {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", iso8601(time));
        }
        write_parts(&mut out, view.names, view.open_msn, view.open_parts);
        let hint = view.names.part(view.open_msn, view.open_parts.len() as u32);
        let _ = writeln!(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{hint}\"");
    } else {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    Bytes::from(out)
}

fn write_parts(out: &mut String, names: &Names, msn: u64, parts: &[Part]) {
    for (index, part) in parts.iter().enumerate() {
        let uri = names.part(msn, index as u32);
        let independent = if part.independent { ",INDEPENDENT=YES" } else { "" };
        let _ =
            writeln!(out, "#EXT-X-PART:DURATION={:.5},URI=\"{uri}\"{independent}", part.duration);
    }
}

/// What the multivariant playlist announces about the one variant.
pub(crate) struct VariantView<'a> {
    pub bandwidth: u64,
    pub codecs: &'a str,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
    pub media_playlist: &'a str,
}

pub(crate) fn multivariant_playlist(view: &VariantView<'_>) -> Bytes {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let _ = write!(
        out,
        "#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{}\"",
        view.bandwidth.max(1),
        view.codecs
    );
    if let Some((width, height)) = view.resolution {
        let _ = write!(out, ",RESOLUTION={width}x{height}");
    }
    if let Some(rate) = view.frame_rate {
        let _ = write!(out, ",FRAME-RATE={rate:.3}");
    }
    let _ = writeln!(out, "\n{}", view.media_playlist);
    Bytes::from(out)
}

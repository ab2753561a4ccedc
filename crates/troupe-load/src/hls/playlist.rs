//! Just enough of an HLS media playlist for a simulated player: its segments and parts with
//! their media sequence numbers and the wall-clock end of each (from
//! EXT-X-PROGRAM-DATE-TIME, when the server writes it), the preload hint, the init segment.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub msn: u64,
    /// The part's index in its segment; `None` for a whole segment.
    pub part: Option<u32>,
    pub uri: String,
    pub duration: f64,
    /// PROGRAM-DATE-TIME of the media's start plus its duration: when its last frame was
    /// stamped, the earliest the server could publish it.
    pub end: Option<SystemTime>,
}

impl Media {
    /// Its place in the stream: parts of a segment come before the segment itself.
    pub fn position(&self) -> (u64, u32) {
        (self.msn, self.part.unwrap_or(u32::MAX))
    }
}

#[derive(Debug, Default)]
pub struct MediaPlaylist {
    pub target_duration: f64,
    pub part_target: Option<f64>,
    pub init: Option<String>,
    pub segments: Vec<Media>,
    pub parts: Vec<Media>,
    /// The part the server hints at next: (msn, part index).
    pub hint: Option<(u64, u32)>,
}

/// The value of `NAME=` in an attribute list (quotes removed).
fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let (v, n) = quoted.split_once('"')?;
            (v, n.strip_prefix(',').unwrap_or(n))
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        if key.trim() == name {
            return Some(value);
        }
        rest = next;
    }
    None
}

fn wall_clock(text: &str) -> Result<SystemTime> {
    let t =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("a bad EXT-X-PROGRAM-DATE-TIME {text:?}"))?;
    Ok(SystemTime::from(t))
}

fn seconds(text: &str) -> Result<f64> {
    text.trim().parse().with_context(|| format!("{text:?} is not a duration"))
}

pub fn parse(text: &str) -> Result<MediaPlaylist> {
    if !text.starts_with("#EXTM3U") {
        bail!("not a playlist: {:?}", crate::http::truncate(text, 80));
    }
    let mut playlist = MediaPlaylist::default();
    let mut msn = 0u64;
    let mut part_index = 0u32;
    // Wall clock of the next media's start, advanced by each part and segment.
    let mut clock: Option<SystemTime> = None;
    let mut segment_start: Option<SystemTime> = None;
    let mut pending_duration: Option<f64> = None;
    let advance =
        |t: Option<SystemTime>, d: f64| t.map(|t| t + Duration::from_secs_f64(d.max(0.0)));
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            playlist.target_duration = seconds(v)?;
        } else if let Some(v) = line.strip_prefix("#EXT-X-PART-INF:") {
            playlist.part_target = attribute(v, "PART-TARGET").map(seconds).transpose()?;
        } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            msn = v.trim().parse().context("a bad EXT-X-MEDIA-SEQUENCE")?;
        } else if let Some(v) = line.strip_prefix("#EXT-X-MAP:") {
            playlist.init = attribute(v, "URI").map(str::to_string);
        } else if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
            clock = Some(wall_clock(v)?);
            if part_index == 0 {
                segment_start = clock;
            }
        } else if let Some(v) = line.strip_prefix("#EXT-X-PART:") {
            let duration = attribute(v, "DURATION").map(seconds).transpose()?.unwrap_or(0.0);
            let uri = attribute(v, "URI").context("an EXT-X-PART without a URI")?;
            if part_index == 0 {
                segment_start = clock;
            }
            clock = advance(clock, duration);
            playlist.parts.push(Media {
                msn,
                part: Some(part_index),
                uri: uri.to_string(),
                duration,
                end: clock,
            });
            part_index += 1;
        } else if let Some(v) = line.strip_prefix("#EXT-X-PRELOAD-HINT:") {
            if attribute(v, "TYPE") == Some("PART") {
                playlist.hint = Some((msn, part_index));
            }
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            pending_duration = Some(seconds(v.split(',').next().unwrap_or(""))?);
        } else if !line.starts_with('#') {
            let duration = pending_duration.take().context("a URI without #EXTINF")?;
            let start = if part_index == 0 { clock } else { segment_start };
            let end = advance(start, duration);
            playlist.segments.push(Media { msn, part: None, uri: line.to_string(), duration, end });
            clock = end;
            segment_start = end;
            msn += 1;
            part_index = 0;
        }
    }
    Ok(playlist)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_low_latency_playlist() {
        let text = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n\
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n\
#EXT-X-PART-INF:PART-TARGET=0.500\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-MAP:URI=\"t-init.mp4\"\n\
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n\
#EXT-X-PART:DURATION=1.00000,URI=\"t-7.0.m4s\",INDEPENDENT=YES\n\
#EXT-X-PART:DURATION=1.00000,URI=\"t-7.1.m4s\"\n#EXTINF:2.00000,\nt-7.m4s\n\
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n\
#EXT-X-PART:DURATION=0.50000,URI=\"t-8.0.m4s\",INDEPENDENT=YES\n\
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"t-8.1.m4s\"\n";
        let p = parse(text).unwrap();
        let at = |s: u64, ms: u64| {
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms))
        };
        assert_eq!(p.target_duration, 2.0);
        assert_eq!(p.part_target, Some(0.5));
        assert_eq!(p.init.as_deref(), Some("t-init.mp4"));
        assert_eq!(p.hint, Some((8, 1)));
        assert_eq!(p.segments.len(), 1);
        assert_eq!((p.segments[0].msn, p.segments[0].end), (7, at(1_700_000_002, 0)));
        let parts: Vec<_> =
            p.parts.iter().map(|m| (m.msn, m.part, m.uri.as_str(), m.end)).collect();
        assert_eq!(
            parts,
            [
                (7, Some(0), "t-7.0.m4s", at(1_700_000_001, 0)),
                (7, Some(1), "t-7.1.m4s", at(1_700_000_002, 0)),
                (8, Some(0), "t-8.0.m4s", at(1_700_000_002, 500)),
            ]
        );
        assert!(p.parts[1].position() < p.segments[0].position());
        assert!(p.segments[0].position() < p.parts[2].position());
    }

    #[test]
    fn reads_a_plain_playlist_without_wall_clock() {
        let text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-TARGETDURATION:1\n\
#EXTINF:1.000,\n3000.ts\n#EXTINF:1.001,\n4000.ts\n";
        let p = parse(text).unwrap();
        let segs: Vec<_> = p.segments.iter().map(|m| (m.msn, m.uri.as_str(), m.end)).collect();
        assert_eq!(segs, [(3, "3000.ts", None), (4, "4000.ts", None)]);
        assert!(p.parts.is_empty() && p.hint.is_none());
        assert!(parse("<html>").is_err());
    }
}

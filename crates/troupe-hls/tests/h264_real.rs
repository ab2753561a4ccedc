//! SPS parsing and avcC building on parameter sets libx264 wrote.

mod common;

use common::*;
use troupe_hls::VideoTrack;
use troupe_hls::fmp4::{find_box, init_segment};
use troupe_hls::h264::{self, AvcConfig, Sps};

fn parameter_sets(size: &str, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = temp_dir(&format!("sps-{size}"));
    let out = dir.join("out.h264");
    let source = format!("testsrc2=size={size}:rate=30");
    let mut args =
        vec!["-v", "error", "-y", "-f", "lavfi", "-i", &source, "-t", "0.2", "-c:v", "libx264"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-bsf:v", "h264_mp4toannexb", "-f", "h264", out.to_str().unwrap()]);
    run("ffmpeg", &args);
    let stream = std::fs::read(&out).unwrap();
    let nals = h264::annex_b_nal_units(&stream);
    let find = |kind| nals.iter().find(|n| h264::nal_type(n) == Some(kind)).unwrap().to_vec();
    (find(h264::NAL_SPS), find(h264::NAL_PPS))
}

#[test]
fn a_720p_high_profile_sps_parses() {
    let (sps, pps) = parameter_sets("1280x720", &["-pix_fmt", "yuv420p"]);
    let parsed = Sps::parse(&sps).unwrap();
    assert_eq!((parsed.width, parsed.height), (1280, 720));
    assert_eq!((parsed.profile_idc, parsed.level_idc), (100, 31));
    assert_eq!(parsed.chroma_format_idc, 1);
    assert_eq!(parsed.frame_rate, Some(30.0));
    assert_eq!(parsed.codec_string(), "avc1.64001f");

    let config = AvcConfig::from_parameter_sets(&sps, &pps).unwrap();
    assert_eq!((config.sps.len(), config.pps.len(), config.length_size), (1, 1, 4));
    assert_eq!(&config.sps[0][..], &sps[..]);
    assert_eq!(AvcConfig::parse(config.record.clone()).unwrap(), config);

    let track = VideoTrack::from_avcc(config.record.clone()).unwrap();
    let init = init_segment(Some(&track), None).unwrap();
    let stsd =
        find_box(&init, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"]).unwrap().unwrap();
    // stsd: version/flags, entry count, then the avc1 entry: 78 bytes of fields, then avcC.
    let avc1 = &stsd.payload[8..];
    assert_eq!(&avc1[4..8], b"avc1");
    assert_eq!(u16::from_be_bytes([avc1[32], avc1[33]]), 1280);
    assert_eq!(u16::from_be_bytes([avc1[34], avc1[35]]), 720);
    assert_eq!(&avc1[90..94], b"avcC");
    assert_eq!(&avc1[94..], &config.record[..]);
}

#[test]
fn cropping_gives_1080_lines_and_baseline_parses() {
    let (sps, _) = parameter_sets("1920x1080", &["-profile:v", "baseline"]);
    let parsed = Sps::parse(&sps).unwrap();
    assert_eq!((parsed.width, parsed.height), (1920, 1080), "1088 coded lines, 8 cropped");
    assert_eq!(parsed.profile_idc, 66);
}

#[test]
fn odd_sizes_and_4_4_4_crop_exactly() {
    let (sps, pps) = parameter_sets("642x362", &["-pix_fmt", "yuv444p"]);
    let parsed = Sps::parse(&sps).unwrap();
    assert_eq!((parsed.width, parsed.height, parsed.chroma_format_idc), (642, 362, 3));
    assert_eq!(parsed.profile_idc, 244);
    let config = AvcConfig::from_parameter_sets(&sps, &pps).unwrap();
    assert_eq!(config.parsed_sps, parsed);
}

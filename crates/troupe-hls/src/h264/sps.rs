//! Sequence parameter set parsing: the picture size (after cropping), profile and level a
//! playlist's RESOLUTION and CODECS need, the chroma format and bit depths an avcC for a High
//! profile carries, and the VUI frame rate when the encoder wrote one.

use super::H264Error;
use super::bits::{BitReader, rbsp};

#[derive(Debug, Clone, PartialEq)]
pub struct Sps {
    pub profile_idc: u8,
    /// The constraint_set flags byte, the middle byte of "avc1.PPCCLL".
    pub profile_compatibility: u8,
    pub level_idc: u8,
    pub chroma_format_idc: u32,
    pub bit_depth_luma: u32,
    pub bit_depth_chroma: u32,
    pub width: u32,
    pub height: u32,
    /// time_scale / (2 × num_units_in_tick) from the VUI, when present.
    pub frame_rate: Option<f64>,
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices (7.3.2.1.1).
fn has_high_profile_fields(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135)
}

impl Sps {
    /// Parses an SPS NAL unit, header byte included.
    pub fn parse(nal: &[u8]) -> Result<Sps, H264Error> {
        let header = *nal.first().ok_or(H264Error::Truncated("SPS"))?;
        if header & 0x1f != 7 {
            return Err(H264Error::NotAnSps(header & 0x1f));
        }
        let payload = rbsp(&nal[1..]);
        let mut r = BitReader::new(&payload);
        let profile_idc = r.bits(8)? as u8;
        let profile_compatibility = r.bits(8)? as u8;
        let level_idc = r.bits(8)? as u8;
        let _sps_id = r.ue()?;
        let (mut chroma_format_idc, mut separate_colour_plane) = (1, false);
        let (mut bit_depth_luma, mut bit_depth_chroma) = (8, 8);
        if has_high_profile_fields(profile_idc) {
            chroma_format_idc = r.ue()?;
            if chroma_format_idc > 3 {
                return Err(H264Error::Invalid("chroma_format_idc above 3"));
            }
            if chroma_format_idc == 3 {
                separate_colour_plane = r.bit()?;
            }
            bit_depth_luma = 8 + r.ue()?.min(6);
            bit_depth_chroma = 8 + r.ue()?.min(6);
            let _qpprime_y_zero_transform_bypass = r.bit()?;
            if r.bit()? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for index in 0..lists {
                    if r.bit()? {
                        skip_scaling_list(&mut r, if index < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        let _log2_max_frame_num = r.ue()?;
        match r.ue()? {
            0 => {
                let _log2_max_pic_order_cnt_lsb = r.ue()?;
            }
            1 => {
                let _delta_pic_order_always_zero = r.bit()?;
                let _offset_for_non_ref_pic = r.se()?;
                let _offset_for_top_to_bottom_field = r.se()?;
                let cycle = r.ue()?;
                if cycle > 255 {
                    return Err(H264Error::Invalid(
                        "num_ref_frames_in_pic_order_cnt_cycle above 255",
                    ));
                }
                for _ in 0..cycle {
                    r.se()?;
                }
            }
            2 => {}
            _ => return Err(H264Error::Invalid("pic_order_cnt_type above 2")),
        }
        let _max_num_ref_frames = r.ue()?;
        let _gaps_in_frame_num_allowed = r.bit()?;
        let width_in_mbs = u64::from(r.ue()?) + 1;
        let height_in_map_units = u64::from(r.ue()?) + 1;
        let frame_mbs_only = r.bit()?;
        if !frame_mbs_only {
            let _mb_adaptive_frame_field = r.bit()?;
        }
        let _direct_8x8_inference = r.bit()?;
        let crop = if r.bit()? { [r.ue()?, r.ue()?, r.ue()?, r.ue()?] } else { [0; 4] };
        let frame_rate = if r.bit()? { vui_frame_rate(&mut r).ok().flatten() } else { None };

        // 7.4.2.1.1: crop offsets are in chroma sample units, doubled for field coding.
        let chroma_array_type = if separate_colour_plane { 0 } else { chroma_format_idc };
        let field_factor: u64 = if frame_mbs_only { 1 } else { 2 };
        let (crop_unit_x, crop_unit_y) = match chroma_array_type {
            0 => (1, field_factor),
            1 => (2, 2 * field_factor),
            2 => (2, field_factor),
            _ => (1, field_factor),
        };
        let full_width = width_in_mbs * 16;
        let full_height = field_factor * height_in_map_units * 16;
        let crop_x = crop_unit_x * (u64::from(crop[0]) + u64::from(crop[1]));
        let crop_y = crop_unit_y * (u64::from(crop[2]) + u64::from(crop[3]));
        if crop_x >= full_width
            || crop_y >= full_height
            || full_width > 16_384
            || full_height > 16_384
        {
            return Err(H264Error::Invalid("picture size out of range after cropping"));
        }
        Ok(Sps {
            profile_idc,
            profile_compatibility,
            level_idc,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            width: (full_width - crop_x) as u32,
            height: (full_height - crop_y) as u32,
            frame_rate,
        })
    }

    /// The RFC 6381 codec string, "avc1.PPCCLL".
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.profile_compatibility, self.level_idc
        )
    }
}

fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), H264Error> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()?).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// Reads the VUI up to its timing info (E.1.1); the rest is of no use to a remuxer.
fn vui_frame_rate(r: &mut BitReader<'_>) -> Result<Option<f64>, H264Error> {
    if r.bit()? && r.bits(8)? == 255 {
        r.bits(32)?; // sar_width, sar_height
    }
    if r.bit()? {
        r.bit()?; // overscan_appropriate
    }
    if r.bit()? {
        r.bits(4)?; // video_format, video_full_range
        if r.bit()? {
            r.bits(24)?; // colour primaries, transfer, matrix
        }
    }
    if r.bit()? {
        r.ue()?;
        r.ue()?;
    }
    if !r.bit()? {
        return Ok(None);
    }
    let num_units_in_tick = r.bits(32)?;
    let time_scale = r.bits(32)?;
    if num_units_in_tick == 0 || time_scale == 0 {
        return Ok(None);
    }
    Ok(Some(f64::from(time_scale) / (2.0 * f64::from(num_units_in_tick))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_sps_nal_is_refused() {
        assert!(matches!(Sps::parse(&[0x68, 0xce, 0x38, 0x80]), Err(H264Error::NotAnSps(8))));
    }

    #[test]
    fn a_truncated_sps_is_an_error_not_a_panic() {
        let sps = [0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
        for end in 0..sps.len() {
            assert!(Sps::parse(&sps[..end]).is_err(), "prefix of {end} bytes");
        }
    }

    #[test]
    fn a_baseline_sps_parses() {
        // Written by hand: Baseline 66, level 30, 320×240 (20×15 MBs), no cropping, no VUI.
        // sps_id 0, log2_max_frame_num-4 0, poc_type 2, max_ref 1, gaps 0, width_mbs-1 19,
        // height_map_units-1 14, frame_mbs_only 1, direct_8x8 1, crop 0, vui 0.
        let ue = |value: u32| {
            let code = value + 1;
            "0".repeat(31 - code.leading_zeros() as usize) + &format!("{code:b}")
        };
        let mut bits =
            [ue(0), ue(0), ue(2), ue(1), "0".into(), ue(19), ue(14), "1100".into()].concat();
        bits += "1"; // rbsp stop bit
        while bits.len() % 8 != 0 {
            bits.push('0');
        }
        let mut nal = vec![0x67, 66, 0xc0, 30];
        nal.extend(
            bits.as_bytes()
                .chunks(8)
                .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()),
        );
        let sps = Sps::parse(&nal).unwrap();
        assert_eq!((sps.width, sps.height), (320, 240));
        assert_eq!(sps.codec_string(), "avc1.42c01e");
        assert_eq!(sps.frame_rate, None);
    }
}

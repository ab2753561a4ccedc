//! The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1), the body of an `avcC` box
//! and of an RTMP AVC sequence header.

use bytes::{BufMut, Bytes, BytesMut};

use super::{H264Error, NAL_PPS, NAL_SPS, Sps, nal_type};

#[derive(Debug, Clone, PartialEq)]
pub struct AvcConfig {
    /// The record's bytes, written into `avcC` unchanged.
    pub record: Bytes,
    /// Size in bytes of each sample's NAL length fields (1, 2 or 4).
    pub length_size: usize,
    pub sps: Vec<Bytes>,
    pub pps: Vec<Bytes>,
    /// The first SPS, parsed.
    pub parsed_sps: Sps,
}

impl AvcConfig {
    pub fn parse(record: Bytes) -> Result<AvcConfig, H264Error> {
        let mut reader = Reader { data: &record, position: 0 };
        let version = reader.u8()?;
        if version != 1 {
            return Err(H264Error::AvccVersion(version));
        }
        reader.take(3)?; // profile, compatibility, level: the SPS is authoritative
        let length_size = usize::from(reader.u8()? & 0x03) + 1;
        if length_size == 3 {
            return Err(H264Error::Invalid("avcC NAL length size of 3 bytes"));
        }
        let sps_count = reader.u8()? & 0x1f;
        let sps = reader.parameter_sets(usize::from(sps_count), &record)?;
        let pps_count = reader.u8()?;
        let pps = reader.parameter_sets(usize::from(pps_count), &record)?;
        let first_sps = sps.first().ok_or(H264Error::MissingParameterSet("SPS"))?;
        if pps.is_empty() {
            return Err(H264Error::MissingParameterSet("PPS"));
        }
        let parsed_sps = Sps::parse(first_sps)?;
        Ok(AvcConfig { record, length_size, sps, pps, parsed_sps })
    }

    /// Builds a record with 4-byte NAL lengths from an SPS and a PPS (as WHIP/RTP delivers
    /// them in band). High profiles get the chroma format and bit depth extension that
    /// 14496-15 requires for them.
    pub fn from_parameter_sets(sps: &[u8], pps: &[u8]) -> Result<AvcConfig, H264Error> {
        if nal_type(pps) != Some(NAL_PPS) {
            return Err(H264Error::MissingParameterSet("PPS"));
        }
        if nal_type(sps) != Some(NAL_SPS) {
            return Err(H264Error::NotAnSps(nal_type(sps).unwrap_or(0)));
        }
        let parsed = Sps::parse(sps)?;
        let too_large = |n: &[u8]| H264Error::NalTooLarge(n.len());
        let sps_len = u16::try_from(sps.len()).map_err(|_| too_large(sps))?;
        let pps_len = u16::try_from(pps.len()).map_err(|_| too_large(pps))?;
        let mut out = BytesMut::with_capacity(16 + sps.len() + pps.len());
        out.put_u8(1);
        out.put_slice(&[parsed.profile_idc, parsed.profile_compatibility, parsed.level_idc]);
        out.put_u8(0xfc | 3);
        out.put_u8(0xe0 | 1);
        out.put_u16(sps_len);
        out.put_slice(sps);
        out.put_u8(1);
        out.put_u16(pps_len);
        out.put_slice(pps);
        if matches!(parsed.profile_idc, 100 | 110 | 122 | 144) {
            out.put_u8(0xfc | parsed.chroma_format_idc as u8);
            out.put_u8(0xf8 | (parsed.bit_depth_luma - 8) as u8);
            out.put_u8(0xf8 | (parsed.bit_depth_chroma - 8) as u8);
            out.put_u8(0); // numOfSequenceParameterSetExt
        }
        AvcConfig::parse(out.freeze())
    }
}

struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Result<std::ops::Range<usize>, H264Error> {
        let end = self.position + count;
        if end > self.data.len() {
            return Err(H264Error::Truncated("avcC record"));
        }
        let range = self.position..end;
        self.position = end;
        Ok(range)
    }

    fn u8(&mut self) -> Result<u8, H264Error> {
        let range = self.take(1)?;
        Ok(self.data[range.start])
    }

    fn parameter_sets(&mut self, count: usize, record: &Bytes) -> Result<Vec<Bytes>, H264Error> {
        let mut sets = Vec::with_capacity(count);
        for _ in 0..count {
            let length = self.take(2)?;
            let length = usize::from(u16::from_be_bytes([
                self.data[length.start],
                self.data[length.start + 1],
            ]));
            let range = self.take(length)?;
            if range.is_empty() {
                return Err(H264Error::Invalid("empty parameter set in avcC"));
            }
            sets.push(record.slice(range));
        }
        Ok(sets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_record_is_an_error() {
        let record = [1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 10, 0x67];
        for end in 0..record.len() {
            assert!(AvcConfig::parse(Bytes::copy_from_slice(&record[..end])).is_err());
        }
    }

    #[test]
    fn a_wrong_version_is_named() {
        let error = AvcConfig::parse(Bytes::from_static(&[2, 0, 0, 0, 0xff, 0xe0, 0])).unwrap_err();
        assert_eq!(error, H264Error::AvccVersion(2));
    }

    #[test]
    fn a_record_without_pps_is_refused() {
        assert_eq!(
            AvcConfig::from_parameter_sets(&[0x67, 0x42], &[0x65]).unwrap_err(),
            H264Error::MissingParameterSet("PPS")
        );
    }
}

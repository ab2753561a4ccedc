//! A bit reader over an RBSP (emulation prevention already removed), with the Exp-Golomb codes
//! H.264 parameter sets are written in. Every read is bounds-checked: SPSes come from publishers.

use super::H264Error;

pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, position: 0 }
    }

    pub(crate) fn bit(&mut self) -> Result<bool, H264Error> {
        let byte = self.data.get(self.position / 8).ok_or(H264Error::Truncated("SPS"))?;
        let bit = (byte >> (7 - self.position % 8)) & 1;
        self.position += 1;
        Ok(bit == 1)
    }

    pub(crate) fn bits(&mut self, count: u32) -> Result<u32, H264Error> {
        debug_assert!(count <= 32);
        let mut value = 0u32;
        for _ in 0..count {
            value = (value << 1) | u32::from(self.bit()?);
        }
        Ok(value)
    }

    /// ue(v). More than 31 leading zeros cannot encode a value that fits the syntax elements
    /// we read, so it is rejected rather than overflowing.
    pub(crate) fn ue(&mut self) -> Result<u32, H264Error> {
        let mut leading_zeros = 0;
        while !self.bit()? {
            leading_zeros += 1;
            if leading_zeros > 31 {
                return Err(H264Error::Invalid("Exp-Golomb code longer than 32 bits"));
            }
        }
        let suffix = self.bits(leading_zeros)?;
        Ok(((1u64 << leading_zeros) - 1 + u64::from(suffix)) as u32)
    }

    /// se(v).
    pub(crate) fn se(&mut self) -> Result<i32, H264Error> {
        let code = i64::from(self.ue()?);
        let magnitude = (code + 1) / 2;
        Ok(if code % 2 == 1 { magnitude as i32 } else { -magnitude as i32 })
    }
}

/// Removes emulation prevention bytes (the 0x03 in 00 00 03), turning a NAL unit's payload into
/// its RBSP.
pub(crate) fn rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &byte in nal {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes_decode() {
        // 1 | 010 | 011 | 00100 | 00101 → ue 0, 1, 2, 3, 4
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut reader = BitReader::new(&data);
        let values: Vec<u32> = (0..5).map(|_| reader.ue().unwrap()).collect();
        assert_eq!(values, [0, 1, 2, 3, 4]);
        let mut reader = BitReader::new(&data);
        let signed: Vec<i32> = (0..5).map(|_| reader.se().unwrap()).collect();
        assert_eq!(signed, [0, 1, -1, 2, -2]);
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let mut reader = BitReader::new(&[0, 0, 0, 0, 0]);
        assert!(reader.ue().is_err());
    }

    #[test]
    fn emulation_prevention_is_removed() {
        assert_eq!(rbsp(&[0x67, 0, 0, 3, 1, 0, 0, 3, 0, 3]), [0x67, 0, 0, 1, 0, 0, 0, 3]);
    }
}

//! Annex B (start-code delimited) ↔ AVCC (4-byte big-endian length prefixed) NAL framing.

use bytes::{BufMut, Bytes, BytesMut};

use super::H264Error;

/// The NAL units of an Annex B byte stream, start codes (3 or 4 bytes) removed. Trailing zero
/// bytes before a start code belong to the start code (trailing_zero_8bits), not the NAL.
pub fn annex_b_nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut index = 0;
    while index + 3 <= stream.len() {
        if stream[index] == 0 && stream[index + 1] == 0 && stream[index + 2] == 1 {
            starts.push(index + 3);
            index += 3;
        } else {
            index += 1;
        }
    }
    let mut units = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let mut end = starts.get(n + 1).map_or(stream.len(), |next| next - 3);
        while end > start && stream[end - 1] == 0 {
            end -= 1;
        }
        if end > start {
            units.push(&stream[start..end]);
        }
    }
    units
}

/// One access unit in Annex B form → an AVCC sample with 4-byte lengths.
pub fn annex_b_to_avcc(access_unit: &[u8]) -> Result<Bytes, H264Error> {
    let units = annex_b_nal_units(access_unit);
    let mut out = BytesMut::with_capacity(access_unit.len() + 4 * units.len());
    for unit in units {
        let length = u32::try_from(unit.len()).map_err(|_| H264Error::NalTooLarge(unit.len()))?;
        out.put_u32(length);
        out.put_slice(unit);
    }
    Ok(out.freeze())
}

/// The NAL units of an AVCC sample whose lengths are `length_size` bytes (1, 2 or 4).
pub fn avcc_nal_units(sample: &[u8], length_size: usize) -> Result<Vec<&[u8]>, H264Error> {
    let mut units = Vec::new();
    let mut rest = sample;
    while !rest.is_empty() {
        if rest.len() < length_size {
            return Err(H264Error::Truncated("NAL length field"));
        }
        let length = rest[..length_size].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[length_size..];
        if length > rest.len() {
            return Err(H264Error::NalLengthOverrun { length, remaining: rest.len() });
        }
        units.push(&rest[..length]);
        rest = &rest[length..];
    }
    Ok(units)
}

/// An AVCC sample with 4-byte lengths → Annex B with 4-byte start codes.
pub fn avcc_to_annex_b(sample: &[u8]) -> Result<Bytes, H264Error> {
    let units = avcc_nal_units(sample, 4)?;
    let mut out = BytesMut::with_capacity(sample.len());
    for unit in units {
        out.put_slice(&[0, 0, 0, 1]);
        out.put_slice(unit);
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_of_both_lengths_split() {
        let stream = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5];
        let units = annex_b_nal_units(&stream);
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]);
    }

    #[test]
    fn annex_b_and_avcc_round_trip() {
        let stream = [0, 0, 0, 1, 0x65, 9, 9, 0, 0, 0, 1, 0x41, 7];
        let avcc = annex_b_to_avcc(&stream).unwrap();
        assert_eq!(&avcc[..], &[0, 0, 0, 3, 0x65, 9, 9, 0, 0, 0, 2, 0x41, 7]);
        assert_eq!(&avcc_to_annex_b(&avcc).unwrap()[..], &stream[..]);
    }

    #[test]
    fn an_overrunning_length_is_an_error() {
        assert_eq!(
            avcc_nal_units(&[0, 0, 0, 9, 0x65, 1], 4),
            Err(H264Error::NalLengthOverrun { length: 9, remaining: 2 })
        );
        assert_eq!(avcc_nal_units(&[0, 0], 4), Err(H264Error::Truncated("NAL length field")));
    }
}

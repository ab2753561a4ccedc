//! Reads a box tree back: sizes checked against the buffer, never trusted.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mp4Box<'a> {
    pub kind: [u8; 4],
    /// The contents after the box header (for a FullBox, version and flags included).
    pub payload: &'a [u8],
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoxError {
    #[error("box header truncated at offset {0}")]
    TruncatedHeader(usize),
    #[error("box '{kind}' at offset {offset} claims {size} bytes, {available} available")]
    Overrun { kind: String, offset: usize, size: u64, available: usize },
}

/// The boxes laid end to end in `data` (one level, not descending).
pub fn read_boxes(data: &[u8]) -> Result<Vec<Mp4Box<'_>>, BoxError> {
    let mut boxes = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let rest = &data[offset..];
        if rest.len() < 8 {
            return Err(BoxError::TruncatedHeader(offset));
        }
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (size, header) = match u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) {
            0 => (rest.len() as u64, 8),
            1 => {
                let large = rest.get(8..16).ok_or(BoxError::TruncatedHeader(offset))?;
                (u64::from_be_bytes(large.try_into().unwrap_or_default()), 16)
            }
            size => (u64::from(size), 8),
        };
        if size < header as u64 || size > rest.len() as u64 {
            return Err(BoxError::Overrun {
                kind: String::from_utf8_lossy(&kind).into_owned(),
                offset,
                size,
                available: rest.len(),
            });
        }
        boxes.push(Mp4Box { kind, payload: &rest[header..size as usize] });
        offset += size as usize;
    }
    Ok(boxes)
}

/// The first box at `path` (e.g. `[b"moov", b"trak", b"mdia"]`), descending through payloads.
pub fn find_box<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Result<Option<Mp4Box<'a>>, BoxError> {
    let Some((first, rest)) = path.split_first() else { return Ok(None) };
    for found in read_boxes(data)? {
        if &found.kind == *first {
            return if rest.is_empty() { Ok(Some(found)) } else { find_box(found.payload, rest) };
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_larger_than_its_buffer_is_an_error() {
        let data = [0, 0, 0, 20, b'm', b'o', b'o', b'v', 0, 0];
        assert!(matches!(read_boxes(&data), Err(BoxError::Overrun { size: 20, .. })));
        assert_eq!(read_boxes(&[0, 0, 0]), Err(BoxError::TruncatedHeader(0)));
    }
}

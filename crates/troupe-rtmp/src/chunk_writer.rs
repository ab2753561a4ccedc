//! Cuts messages into chunks: a type 0 header, then type 3 headers for the rest. Used for
//! this side's answers, and by [`crate::client`] to play a client in tests.

const EXTENDED: u32 = 0x00FF_FFFF;

/// Appends the basic header for `fmt` and `csid` (any id from 2 to 65599).
pub fn basic_header(out: &mut Vec<u8>, fmt: u8, csid: u32) {
    let fmt = fmt << 6;
    match csid {
        2..=63 => out.push(fmt | csid as u8),
        64..=319 => out.extend_from_slice(&[fmt, (csid - 64) as u8]),
        _ => {
            let id = csid - 64;
            out.extend_from_slice(&[fmt | 1, id as u8, (id >> 8) as u8]);
        }
    }
}

/// Appends `payload` as one message in chunks of `chunk_size`, always starting with a type 0
/// header (this side never relies on the peer's memory of earlier headers).
pub fn write_message(
    out: &mut Vec<u8>,
    chunk_size: u32,
    csid: u32,
    timestamp: u32,
    type_id: u8,
    stream_id: u32,
    payload: &[u8],
) {
    let extended = timestamp >= EXTENDED;
    basic_header(out, 0, csid);
    out.extend_from_slice(&be24(timestamp.min(EXTENDED)));
    out.extend_from_slice(&be24(payload.len() as u32));
    out.push(type_id);
    out.extend_from_slice(&stream_id.to_le_bytes());
    if extended {
        out.extend_from_slice(&timestamp.to_be_bytes());
    }
    let mut chunks = payload.chunks(chunk_size.max(1) as usize);
    if let Some(first) = chunks.next() {
        out.extend_from_slice(first);
    }
    for chunk in chunks {
        basic_header(out, 3, csid);
        if extended {
            out.extend_from_slice(&timestamp.to_be_bytes());
        }
        out.extend_from_slice(chunk);
    }
}

fn be24(v: u32) -> [u8; 3] {
    let b = v.to_be_bytes();
    [b[1], b[2], b[3]]
}

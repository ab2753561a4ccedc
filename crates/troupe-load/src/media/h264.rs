//! H.264 RTP packetization (RFC 6184, packetization-mode 1), as browsers do it: the parameter
//! sets that open a keyframe travel together in one STAP-A, NAL units that fit go as they are,
//! larger ones are split into FU-A fragments.

/// One encoded frame's NAL units (without start codes) → RTP payloads of at most `max` bytes.
pub fn packetize(nals: &[&[u8]], max: usize) -> Vec<Vec<u8>> {
    let mut payloads = Vec::new();
    let parameter_sets = nals.iter().take_while(|n| matches!(nal_type(n), Some(7 | 8))).count();
    let (sets, rest) = nals.split_at(parameter_sets);
    let aggregated: usize = sets.iter().map(|n| 2 + n.len()).sum::<usize>() + 1;
    if sets.len() > 1 && aggregated <= max {
        let nri = sets.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
        let mut stap = Vec::with_capacity(aggregated);
        stap.push(nri | 24);
        for nal in sets {
            stap.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            stap.extend_from_slice(nal);
        }
        payloads.push(stap);
    } else {
        payloads.extend(sets.iter().map(|n| n.to_vec()));
    }
    for nal in rest.iter().filter(|n| !n.is_empty()) {
        if nal.len() <= max {
            payloads.push(nal.to_vec());
            continue;
        }
        let (header, body) = (nal[0], &nal[1..]);
        let indicator = (header & 0xE0) | 28;
        let chunks: Vec<&[u8]> = body.chunks(max - 2).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i + 1 == chunks.len() { 0x40 } else { 0 };
            let mut fu = Vec::with_capacity(chunk.len() + 2);
            fu.push(indicator);
            fu.push(start | end | (header & 0x1F));
            fu.extend_from_slice(chunk);
            payloads.push(fu);
        }
    }
    payloads
}

/// The inverse of [`packetize`], for checking: RTP payloads of one frame → an Annex B stream.
pub fn depacketize(payloads: &[&[u8]]) -> Vec<u8> {
    const START: [u8; 4] = [0, 0, 0, 1];
    let mut out = Vec::new();
    for payload in payloads {
        match nal_type(payload) {
            Some(24) => {
                let mut rest = &payload[1..];
                while rest.len() >= 2 {
                    let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                    let Some(nal) = rest.get(2..2 + len) else { break };
                    out.extend_from_slice(&START);
                    out.extend_from_slice(nal);
                    rest = &rest[2 + len..];
                }
            }
            Some(28) if payload.len() >= 2 => {
                if payload[1] & 0x80 != 0 {
                    out.extend_from_slice(&START);
                    out.push((payload[0] & 0xE0) | (payload[1] & 0x1F));
                }
                out.extend_from_slice(&payload[2..]);
            }
            Some(_) => {
                out.extend_from_slice(&START);
                out.extend_from_slice(payload);
            }
            None => {}
        }
    }
    out
}

fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| b & 0x1F)
}

/// Splits an Annex B stream (start codes of 3 or 4 bytes) into its NAL units.
pub fn split_annex_b(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &(_, body)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&(code, _)| code);
        // A 4-byte start code's leading zero belongs to it, not to the NAL before.
        while end > body && stream[end - 1] == 0 {
            end -= 1;
        }
        nals.push(&stream[body..end]);
    }
    nals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sets_are_aggregated_and_large_nals_fragmented() {
        let sps = [0x67, 0x42, 0xe0, 0x1f];
        let pps = [0x68, 0xce, 0x3c, 0x80];
        let idr: Vec<u8> = std::iter::once(0x65).chain((0..250).map(|i| i as u8)).collect();
        let payloads = packetize(&[&sps, &pps, &idr], 100);
        assert_eq!(payloads[0][0] & 0x1F, 24, "STAP-A first");
        assert!(payloads[1..].iter().all(|p| p[0] & 0x1F == 28 && p.len() <= 100));
        assert_eq!(payloads[1][1], 0x80 | 5, "FU-A start of an IDR");
        assert_eq!(payloads.last().unwrap()[1], 0x40 | 5, "FU-A end");
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let stream = depacketize(&refs);
        assert_eq!(split_annex_b(&stream), vec![&sps[..], &pps[..], &idr[..]]);
    }
}

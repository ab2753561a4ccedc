//! Opus over RTP (RFC 7587): one Opus packet per RTP packet, 48 kHz RTP clock. Reordered
//! within a small window; a lost packet is simply missing from the output (the decoder
//! conceals it).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::{
    DepacketizeError,
    extend::{SequenceExtender, TimestampExtender},
    reorder::{ReorderBuffer, ReorderConfig, Reordered},
    rtp::RtpPacket,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusFrame {
    /// 48 kHz, extended across the 32-bit wrap.
    pub rtp_timestamp_ext: u64,
    pub data: Bytes,
}

pub struct OpusDepacketizer {
    ssrc: Option<u32>,
    sequences: SequenceExtender,
    timestamps: TimestampExtender,
    reorder: ReorderBuffer<OpusFrame>,
    released: Vec<Reordered<OpusFrame>>,
    output: VecDeque<OpusFrame>,
    /// Packets declared lost by the reorder window.
    pub lost_packets: u64,
}

impl Default for OpusDepacketizer {
    fn default() -> Self {
        Self::new(ReorderConfig::AUDIO)
    }
}

impl OpusDepacketizer {
    pub fn new(reorder: ReorderConfig) -> Self {
        OpusDepacketizer {
            ssrc: None,
            sequences: SequenceExtender::new(),
            timestamps: TimestampExtender::new(),
            reorder: ReorderBuffer::new(reorder),
            released: Vec::new(),
            output: VecDeque::new(),
            lost_packets: 0,
        }
    }

    /// Takes one whole RTP packet. Padding-only packets (empty payload) are skipped without
    /// error; an Opus packet is never empty (RFC 6716 §3.1: it has a TOC byte).
    pub fn push(&mut self, packet: &[u8]) -> Result<(), DepacketizeError> {
        let rtp = RtpPacket::parse(packet)?;
        if self.ssrc != Some(rtp.ssrc) {
            if self.ssrc.is_some() {
                self.flush();
                self.sequences = SequenceExtender::new();
                self.timestamps = TimestampExtender::new();
                self.reorder.reset();
            }
            self.ssrc = Some(rtp.ssrc);
        }
        let sequence = self.sequences.extend(u32::from(rtp.sequence));
        let timestamp = self.timestamps.extend(rtp.timestamp);
        let frame =
            OpusFrame { rtp_timestamp_ext: timestamp, data: Bytes::copy_from_slice(rtp.payload) };
        self.reorder.push(sequence, timestamp, frame, &mut self.released);
        self.take_released();
        if rtp.payload.is_empty() && !rtp_has_padding(packet) {
            return Err(DepacketizeError::EmptyOpusPayload);
        }
        Ok(())
    }

    /// End of stream: releases what the reorder window holds.
    pub fn flush(&mut self) {
        self.reorder.flush(&mut self.released);
        self.take_released();
    }

    pub fn poll_output(&mut self) -> Option<OpusFrame> {
        self.output.pop_front()
    }

    fn take_released(&mut self) {
        for item in self.released.drain(..) {
            match item {
                Reordered::Lost(n) => self.lost_packets += n,
                Reordered::Packet(frame) if frame.data.is_empty() => {}
                Reordered::Packet(frame) => self.output.push_back(frame),
            }
        }
    }
}

fn rtp_has_padding(packet: &[u8]) -> bool {
    packet.first().is_some_and(|b| b & 0x20 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 111];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn frames_come_out_in_order_across_the_wrap() {
        let mut d = OpusDepacketizer::default();
        let seqs = [65534u16, 0, 65535, 1];
        for (i, seq) in seqs.iter().enumerate() {
            let n = seq.wrapping_sub(65534) as u32;
            d.push(&packet(*seq, (u32::MAX - 960).wrapping_add(n * 960), &[0xfc, i as u8]))
                .unwrap();
        }
        d.flush();
        let frames: Vec<_> = std::iter::from_fn(|| d.poll_output()).collect();
        let ts: Vec<_> = frames.iter().map(|f| f.rtp_timestamp_ext).collect();
        let first = u64::from(u32::MAX - 960);
        assert_eq!(ts, vec![first, first + 960, first + 1920, first + 2880]);
        assert_eq!(frames[1].data[..], [0xfc, 2]);
        assert_eq!(d.lost_packets, 0);
    }

    #[test]
    fn an_empty_payload_is_refused() {
        let mut d = OpusDepacketizer::default();
        assert_eq!(d.push(&packet(1, 0, &[])), Err(DepacketizeError::EmptyOpusPayload));
    }
}

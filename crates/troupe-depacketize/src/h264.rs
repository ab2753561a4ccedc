//! H.264 over RTP (RFC 6184, packetization-mode 1: single NAL unit, STAP-A, FU-A) back to
//! access units. An access unit ends at the marker bit or when the timestamp changes. After
//! a loss (or a malformed packet) everything is dropped until the next access unit with an
//! IDR slice, and one [`H264Output::KeyframeRequest`] says the sender should be sent a PLI.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};

use crate::{
    DepacketizeError,
    extend::{SequenceExtender, TimestampExtender},
    reorder::{ReorderBuffer, ReorderConfig, Reordered},
    rtp::RtpPacket,
};

/// An access unit (one picture) in AVCC form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessUnit {
    /// 90 kHz, extended across the 32-bit wrap (starts at the first packet's timestamp).
    pub rtp_timestamp_ext: u64,
    /// Holds an IDR slice (NAL type 5).
    pub keyframe: bool,
    /// The NAL units, each after a 4-byte big-endian length; access unit delimiters removed.
    pub avcc: Bytes,
    /// On keyframes, the latest SPS and PPS seen (in this access unit or before): what the
    /// first sample of a recording needs. `None` on other access units.
    pub sps: Option<Bytes>,
    pub pps: Option<Bytes>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H264Output {
    AccessUnit(AccessUnit),
    /// Output stopped until the next IDR: ask the sender for a keyframe (PLI/FIR).
    KeyframeRequest,
}

/// An access unit larger than this is refused (a 4K IDR at high quality is a few MB).
pub const MAX_ACCESS_UNIT_BYTES: usize = 8 * 1024 * 1024;
pub const MAX_NAL_UNITS: usize = 1024;

const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;

struct OwnedPacket {
    marker: bool,
    timestamp: u64,
    payload: Bytes,
}

struct Building {
    timestamp: u64,
    avcc: BytesMut,
    nal_units: usize,
    keyframe: bool,
    /// A slice starting at macroblock 0 was seen before any other slice: the picture's start
    /// is there (a loss just before an access unit leaves no other trace).
    first_slice_seen: bool,
    slices: usize,
    /// Part of the access unit is missing or malformed: it will not be output.
    broken: bool,
}

/// Turns one SSRC's H.264 RTP packets into access units. A change of SSRC starts over.
pub struct H264Depacketizer {
    ssrc: Option<u32>,
    sequences: SequenceExtender,
    timestamps: TimestampExtender,
    reorder: ReorderBuffer<OwnedPacket>,
    released: Vec<Reordered<OwnedPacket>>,
    building: Option<Building>,
    /// The NAL unit being reassembled from FU-A fragments.
    fragment: Option<BytesMut>,
    waiting_for_idr: bool,
    keyframe_requested: bool,
    sps: Option<Bytes>,
    pps: Option<Bytes>,
    output: VecDeque<H264Output>,
    /// Access units dropped (incomplete, or while waiting for an IDR).
    pub dropped_access_units: u64,
}

impl Default for H264Depacketizer {
    fn default() -> Self {
        Self::new(ReorderConfig::VIDEO)
    }
}

impl H264Depacketizer {
    pub fn new(reorder: ReorderConfig) -> Self {
        H264Depacketizer {
            ssrc: None,
            sequences: SequenceExtender::new(),
            timestamps: TimestampExtender::new(),
            reorder: ReorderBuffer::new(reorder),
            released: Vec::new(),
            building: None,
            fragment: None,
            // A recording starts at a keyframe.
            waiting_for_idr: true,
            keyframe_requested: false,
            sps: None,
            pps: None,
            output: VecDeque::new(),
            dropped_access_units: 0,
        }
    }

    /// Takes one whole RTP packet. An error refuses the packet alone (its access unit is
    /// then dropped if the packet had a valid header).
    pub fn push(&mut self, packet: &[u8]) -> Result<(), DepacketizeError> {
        let rtp = RtpPacket::parse(packet)?;
        if self.ssrc != Some(rtp.ssrc) {
            if self.ssrc.is_some() {
                self.restart();
            }
            self.ssrc = Some(rtp.ssrc);
        }
        let sequence = self.sequences.extend(u32::from(rtp.sequence));
        let timestamp = self.timestamps.extend(rtp.timestamp);
        let owned = OwnedPacket {
            marker: rtp.marker,
            timestamp,
            payload: Bytes::copy_from_slice(rtp.payload),
        };
        let mut released = std::mem::take(&mut self.released);
        self.reorder.push(sequence, timestamp, owned, &mut released);
        let result = self.handle_released(&mut released);
        self.released = released;
        result
    }

    /// End of stream: releases what the reorder buffer holds and finishes the last access
    /// unit.
    pub fn flush(&mut self) {
        let mut released = std::mem::take(&mut self.released);
        self.reorder.flush(&mut released);
        let _ = self.handle_released(&mut released);
        self.released = released;
        self.finish_access_unit();
    }

    /// The next access unit or keyframe request.
    pub fn poll_output(&mut self) -> Option<H264Output> {
        self.output.pop_front()
    }

    /// Whether output waits for an IDR (a keyframe request is outstanding).
    pub fn waiting_for_keyframe(&self) -> bool {
        self.waiting_for_idr
    }

    /// Packets that came too late for the reorder window, or twice.
    pub fn discarded_packets(&self) -> u64 {
        self.reorder.discarded
    }

    fn restart(&mut self) {
        self.finish_access_unit();
        self.sequences = SequenceExtender::new();
        self.timestamps = TimestampExtender::new();
        self.reorder.reset();
        self.fragment = None;
        self.enter_waiting_for_idr();
    }

    fn handle_released(
        &mut self,
        released: &mut Vec<Reordered<OwnedPacket>>,
    ) -> Result<(), DepacketizeError> {
        let mut first_error = Ok(());
        for item in released.drain(..) {
            match item {
                Reordered::Lost(_) => self.lose(),
                Reordered::Packet(packet) => {
                    let result = self.handle_packet(packet);
                    if first_error.is_ok() {
                        first_error = result;
                    }
                }
            }
        }
        first_error
    }

    fn lose(&mut self) {
        if let Some(building) = &mut self.building {
            building.broken = true;
        }
        self.fragment = None;
        self.enter_waiting_for_idr();
    }

    fn enter_waiting_for_idr(&mut self) {
        self.waiting_for_idr = true;
    }

    fn handle_packet(&mut self, packet: OwnedPacket) -> Result<(), DepacketizeError> {
        if self.building.as_ref().is_some_and(|b| b.timestamp != packet.timestamp) {
            self.finish_access_unit();
        }
        if self.building.is_none() {
            self.building = Some(Building {
                timestamp: packet.timestamp,
                avcc: BytesMut::new(),
                nal_units: 0,
                keyframe: false,
                first_slice_seen: false,
                slices: 0,
                broken: false,
            });
        }
        let result = if packet.payload.is_empty() {
            Ok(()) // padding only
        } else {
            self.depacketize(&packet.payload)
        };
        if result.is_err() {
            self.lose();
        }
        if packet.marker {
            self.finish_access_unit();
        }
        result
    }

    fn depacketize(&mut self, payload: &[u8]) -> Result<(), DepacketizeError> {
        let nal_type = payload[0] & 0x1f;
        match nal_type {
            1..=23 => {
                self.expect_no_fragment()?;
                self.add_nal_unit(payload)
            }
            STAP_A => {
                self.expect_no_fragment()?;
                let mut rest = &payload[1..];
                if rest.is_empty() {
                    return Err(DepacketizeError::TruncatedStapA);
                }
                while !rest.is_empty() {
                    if rest.len() < 2 {
                        return Err(DepacketizeError::TruncatedStapA);
                    }
                    let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    if size == 0 || rest.len() < 2 + size {
                        return Err(DepacketizeError::TruncatedStapA);
                    }
                    self.add_nal_unit(&rest[2..2 + size])?;
                    rest = &rest[2 + size..];
                }
                Ok(())
            }
            FU_A => {
                if payload.len() < 3 {
                    return Err(DepacketizeError::TruncatedFuA);
                }
                let (indicator, header) = (payload[0], payload[1]);
                let (start, end) = (header & 0x80 != 0, header & 0x40 != 0);
                if start {
                    self.expect_no_fragment()?;
                    let mut nal = BytesMut::with_capacity(payload.len() * 8);
                    nal.put_u8((indicator & 0xe0) | (header & 0x1f));
                    self.fragment = Some(nal);
                }
                let Some(nal) = &mut self.fragment else {
                    // After a loss, the rest of a cut NAL unit is expected, not an error.
                    if self.building.as_ref().is_some_and(|b| b.broken) {
                        return Ok(());
                    }
                    return Err(DepacketizeError::FuAWithoutStart);
                };
                if nal.len() + payload.len() > MAX_ACCESS_UNIT_BYTES {
                    self.fragment = None;
                    return Err(DepacketizeError::AccessUnitTooLarge {
                        limit: MAX_ACCESS_UNIT_BYTES,
                    });
                }
                nal.extend_from_slice(&payload[2..]);
                if end {
                    let nal = self.fragment.take().unwrap_or_default().freeze();
                    self.add_nal_unit(&nal)?;
                }
                Ok(())
            }
            other => Err(DepacketizeError::UnsupportedNalType(other)),
        }
    }

    fn expect_no_fragment(&mut self) -> Result<(), DepacketizeError> {
        if self.fragment.take().is_some() {
            return Err(DepacketizeError::FuAWithoutEnd);
        }
        Ok(())
    }

    fn add_nal_unit(&mut self, nal: &[u8]) -> Result<(), DepacketizeError> {
        let Some(&first) = nal.first() else { return Ok(()) };
        let nal_type = first & 0x1f;
        match nal_type {
            0 | 24..=31 => return Err(DepacketizeError::UnsupportedNalType(nal_type)),
            NAL_AUD => return Ok(()),
            NAL_SPS => self.sps = Some(Bytes::copy_from_slice(nal)),
            NAL_PPS => self.pps = Some(Bytes::copy_from_slice(nal)),
            _ => {}
        }
        let Some(building) = &mut self.building else { return Ok(()) };
        if building.avcc.len() + 4 + nal.len() > MAX_ACCESS_UNIT_BYTES {
            return Err(DepacketizeError::AccessUnitTooLarge { limit: MAX_ACCESS_UNIT_BYTES });
        }
        if building.nal_units >= MAX_NAL_UNITS {
            return Err(DepacketizeError::TooManyNalUnits { limit: MAX_NAL_UNITS });
        }
        building.avcc.put_u32(nal.len() as u32);
        building.avcc.extend_from_slice(nal);
        building.nal_units += 1;
        if (1..=5).contains(&nal_type) {
            let first_in_picture = nal.get(1).is_some_and(|b| b & 0x80 != 0);
            if building.slices == 0 {
                building.first_slice_seen = first_in_picture;
            }
            building.slices += 1;
        }
        building.keyframe |= nal_type == NAL_IDR;
        Ok(())
    }

    fn finish_access_unit(&mut self) {
        let Some(building) = self.building.take() else { return };
        let broken =
            building.broken || self.fragment.take().is_some() || !building.first_slice_seen;
        if building.slices == 0 {
            // Parameter sets or SEI alone: remembered (SPS/PPS), nothing to output.
            return;
        }
        if broken || (self.waiting_for_idr && !building.keyframe) {
            self.dropped_access_units += 1;
            if self.waiting_for_idr && !self.keyframe_requested {
                self.keyframe_requested = true;
                self.output.push_back(H264Output::KeyframeRequest);
            }
            return;
        }
        if building.keyframe {
            self.waiting_for_idr = false;
            self.keyframe_requested = false;
        }
        self.output.push_back(H264Output::AccessUnit(AccessUnit {
            rtp_timestamp_ext: building.timestamp,
            keyframe: building.keyframe,
            avcc: building.avcc.freeze(),
            sps: building.keyframe.then(|| self.sps.clone()).flatten(),
            pps: building.keyframe.then(|| self.pps.clone()).flatten(),
        }));
    }
}

//! A movie fragment: `moof` (mfhd, one traf per track: tfhd, tfdt, trun) + one `mdat` holding
//! each track's samples in turn. Offsets are relative to the moof (default-base-is-moof), as
//! CMAF requires, so a fragment means the same wherever it is stored.

use bytes::{Bytes, BytesMut};

use super::box_writer::BoxWriter;

#[derive(Debug, Clone, PartialEq)]
pub struct FragmentSample {
    /// In the track's timescale.
    pub duration: u32,
    /// pts − dts, in the track's timescale.
    pub composition_offset: i32,
    /// A sync sample (an IDR picture; every audio sample).
    pub sync: bool,
    pub data: Bytes,
}

/// One track's samples in a fragment.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRun<'a> {
    pub track_id: u32,
    /// The first sample's decode time, in the track's timescale (tfdt).
    pub base_decode_time: u64,
    pub samples: &'a [FragmentSample],
    /// Video runs carry per-sample flags and composition offsets; audio runs need neither.
    pub video: bool,
}

const TFHD_DEFAULT_SAMPLE_FLAGS: u32 = 0x00_0020;
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
const TRUN_DATA_OFFSET: u32 = 0x000_001;
const TRUN_DURATION: u32 = 0x000_100;
const TRUN_SIZE: u32 = 0x000_200;
const TRUN_FLAGS: u32 = 0x000_400;
const TRUN_COMPOSITION_OFFSET: u32 = 0x000_800;

/// sample_depends_on = 2 (depends on no other sample).
const SYNC_SAMPLE_FLAGS: u32 = 0x0200_0000;
/// sample_depends_on = 1 and sample_is_non_sync_sample: players (hls.js among them) find
/// keyframes by this bit.
const NON_SYNC_SAMPLE_FLAGS: u32 = 0x0101_0000;

/// Writes one fragment. Runs without samples are left out.
pub fn fragment(sequence_number: u32, runs: &[TrackRun<'_>]) -> Bytes {
    let runs: Vec<&TrackRun<'_>> = runs.iter().filter(|run| !run.samples.is_empty()).collect();
    let mut w = BoxWriter::new();
    let mut data_offset_positions = Vec::with_capacity(runs.len());
    w.boxed(b"moof", |w| {
        w.full(b"mfhd", 0, 0, |w| w.u32(sequence_number));
        for run in &runs {
            w.boxed(b"traf", |w| {
                let tfhd_flags = TFHD_DEFAULT_BASE_IS_MOOF
                    | if run.video { 0 } else { TFHD_DEFAULT_SAMPLE_FLAGS };
                w.full(b"tfhd", 0, tfhd_flags, |w| {
                    w.u32(run.track_id);
                    if !run.video {
                        w.u32(SYNC_SAMPLE_FLAGS);
                    }
                });
                w.full(b"tfdt", 1, 0, |w| w.u64(run.base_decode_time));
                let mut flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE;
                if run.video {
                    flags |= TRUN_FLAGS | TRUN_COMPOSITION_OFFSET;
                }
                // Version 1 makes composition offsets signed; only needed when one is negative.
                let version = u8::from(run.samples.iter().any(|s| s.composition_offset < 0));
                w.full(b"trun", version, flags, |w| {
                    w.u32(run.samples.len() as u32);
                    data_offset_positions.push(w.buf.len());
                    w.u32(0);
                    for sample in run.samples {
                        w.u32(sample.duration);
                        w.u32(sample.data.len() as u32);
                        if run.video {
                            w.u32(if sample.sync {
                                SYNC_SAMPLE_FLAGS
                            } else {
                                NON_SYNC_SAMPLE_FLAGS
                            });
                            w.u32(sample.composition_offset as u32);
                        }
                    }
                });
            });
        }
    });
    let mut moof = w.buf;
    let mut offset = moof.len() + 8;
    for (run, position) in runs.iter().zip(data_offset_positions) {
        moof[position..position + 4].copy_from_slice(&(offset as u32).to_be_bytes());
        offset += run.samples.iter().map(|s| s.data.len()).sum::<usize>();
    }
    let mdat_size = offset - moof.len();
    let mut out = BytesMut::with_capacity(offset);
    out.extend_from_slice(&moof);
    out.extend_from_slice(&(mdat_size as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    for run in &runs {
        for sample in run.samples {
            out.extend_from_slice(&sample.data);
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmp4::{find_box, read_boxes};

    fn sample(size: usize, duration: u32, sync: bool, cts: i32) -> FragmentSample {
        FragmentSample {
            duration,
            composition_offset: cts,
            sync,
            data: Bytes::from(vec![size as u8; size]),
        }
    }

    fn be32(bytes: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn a_fragment_reads_back_with_sizes_tfdt_and_trun() {
        let video = [
            sample(100, 3000, true, 6000),
            sample(40, 3000, false, 0),
            sample(30, 3000, false, -3000),
        ];
        let audio = [sample(7, 1024, true, 0), sample(9, 1024, true, 0)];
        let bytes = fragment(
            5,
            &[
                TrackRun { track_id: 1, base_decode_time: 900_000, samples: &video, video: true },
                TrackRun { track_id: 2, base_decode_time: 441_000, samples: &audio, video: false },
                TrackRun { track_id: 3, base_decode_time: 0, samples: &[], video: false },
            ],
        );
        let top = read_boxes(&bytes).unwrap();
        assert_eq!(top.iter().map(|b| &b.kind).collect::<Vec<_>>(), [b"moof", b"mdat"]);
        assert_eq!(top[1].payload.len(), 100 + 40 + 30 + 7 + 9);
        let moof = top[0];
        let mfhd = find_box(moof.payload, &[b"mfhd"]).unwrap().unwrap();
        assert_eq!(be32(mfhd.payload, 4), 5);
        let trafs: Vec<_> =
            read_boxes(moof.payload).unwrap().into_iter().filter(|b| &b.kind == b"traf").collect();
        assert_eq!(trafs.len(), 2, "the empty run is left out");

        let tfdt = find_box(trafs[0].payload, &[b"tfdt"]).unwrap().unwrap();
        assert_eq!(tfdt.payload[0], 1);
        assert_eq!(u64::from_be_bytes(tfdt.payload[4..12].try_into().unwrap()), 900_000);
        let trun = find_box(trafs[0].payload, &[b"trun"]).unwrap().unwrap();
        assert_eq!(trun.payload[0], 1, "a negative offset needs version 1");
        assert_eq!(be32(trun.payload, 0) & 0xffffff, 0xf01);
        assert_eq!(be32(trun.payload, 4), 3);
        let data_offset = be32(trun.payload, 8) as usize;
        assert_eq!(data_offset, moof.payload.len() + 8 + 8);
        assert_eq!(bytes[data_offset], 100, "the offset points at the first video sample");
        // Samples: duration, size, flags, offset each.
        assert_eq!(be32(trun.payload, 12 + 16 + 8), NON_SYNC_SAMPLE_FLAGS);
        assert_eq!(be32(trun.payload, 12 + 8), SYNC_SAMPLE_FLAGS);
        assert_eq!(be32(trun.payload, 12 + 32 + 12) as i32, -3000);

        let audio_trun = find_box(trafs[1].payload, &[b"trun"]).unwrap().unwrap();
        assert_eq!(be32(audio_trun.payload, 4), 2);
        let audio_offset = be32(audio_trun.payload, 8) as usize;
        assert_eq!(&bytes[audio_offset..audio_offset + 7], &[7; 7]);
        assert_eq!(audio_offset + 7 + 9, bytes.len());
        let tfhd = find_box(trafs[1].payload, &[b"tfhd"]).unwrap().unwrap();
        assert_eq!(be32(tfhd.payload, 0), TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_SAMPLE_FLAGS);
        assert_eq!(be32(tfhd.payload, 4), 2);
    }
}

//! ISO BMFF / CMAF writing: the init segment ([`init_segment`]) and movie fragments
//! ([`fragment`]), plus a small box reader ([`read_boxes`]) that tests and tools use to look
//! inside what was written.

mod box_writer;
mod fragment;
mod init;
mod reader;

pub use fragment::{FragmentSample, TrackRun, fragment};
pub use init::{AUDIO_ONLY_TRACK_ID, AUDIO_TRACK_ID, VIDEO_TRACK_ID, init_segment};
pub use reader::{BoxError, Mp4Box, find_box, read_boxes};

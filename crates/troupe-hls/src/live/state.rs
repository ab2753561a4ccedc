//! What a live stream has published: immutable snapshots the packager replaces whole, so a
//! reader holds one `Arc` and never a lock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::names::Names;

#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub bytes: Bytes,
    pub duration: f64,
    pub independent: bool,
}

#[derive(Debug)]
pub(crate) struct Segment {
    pub msn: u64,
    /// The concatenation of the parts; the parts' bytes are slices of it.
    pub bytes: Bytes,
    pub duration: f64,
    pub parts: Vec<Part>,
    pub program_date_time: SystemTime,
}

#[derive(Debug)]
pub(crate) struct Snapshot {
    pub names: Names,
    pub content_type: &'static str,
    pub init: Bytes,
    pub multivariant: Option<Bytes>,
    pub media_playlist: Bytes,
    /// The completed segments in the window, oldest first.
    pub segments: VecDeque<Arc<Segment>>,
    /// Parts of the segment being built.
    pub open_parts: Vec<Part>,
    /// The media sequence number of the segment being built.
    pub open_msn: u64,
    pub ended: bool,
    /// How long a blocking request may wait.
    pub blocking_timeout: Duration,
}

impl Snapshot {
    pub(crate) fn segment(&self, msn: u64) -> Option<&Arc<Segment>> {
        let first = self.segments.front()?.msn;
        self.segments.get(usize::try_from(msn.checked_sub(first)?).ok()?)
    }

    pub(crate) fn part(&self, msn: u64, index: u32) -> Option<&Part> {
        if msn == self.open_msn {
            return self.open_parts.get(index as usize);
        }
        self.segment(msn)?.parts.get(index as usize)
    }

    /// Whether a playlist request for `msn` (and `part`) can be answered: RFC 8216bis §6.2.5.2.
    pub(crate) fn has(&self, msn: u64, part: Option<u32>) -> bool {
        if self.ended || msn < self.open_msn {
            return true;
        }
        match part {
            Some(index) => msn == self.open_msn && (index as usize) < self.open_parts.len(),
            None => false,
        }
    }
}

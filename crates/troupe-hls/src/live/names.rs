//! File names of one live stream. Each carries a token unique to the stream (its start time),
//! so that a publisher reconnecting to the same channel never reuses a name a viewer or a cache
//! holds as immutable.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Names {
    token: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FileName {
    Init,
    Segment(u64),
    Part(u64, u32),
}

impl Names {
    pub(crate) fn new(started_at: SystemTime) -> Names {
        let millis = started_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        Names { token: format!("{millis:x}") }
    }

    pub(crate) fn init(&self) -> String {
        format!("{}-init.mp4", self.token)
    }

    pub(crate) fn segment(&self, msn: u64) -> String {
        format!("{}-{msn}.m4s", self.token)
    }

    pub(crate) fn part(&self, msn: u64, index: u32) -> String {
        format!("{}-{msn}.{index}.m4s", self.token)
    }

    pub(crate) fn parse(&self, name: &str) -> Option<FileName> {
        let rest = name.strip_prefix(&self.token)?.strip_prefix('-')?;
        if rest == "init.mp4" {
            return Some(FileName::Init);
        }
        let stem = rest.strip_suffix(".m4s")?;
        match stem.split_once('.') {
            None => digits(stem)?.parse().ok().map(FileName::Segment),
            Some((msn, index)) => {
                Some(FileName::Part(digits(msn)?.parse().ok()?, digits(index)?.parse().ok()?))
            }
        }
    }
}

/// Only plain decimal digits: `str::parse` would also take a leading '+'.
fn digits(text: &str) -> Option<&str> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_parse_back_and_strangers_do_not() {
        let names = Names::new(UNIX_EPOCH + Duration::from_millis(255));
        assert_eq!(names.init(), "ff-init.mp4");
        assert_eq!(names.parse(&names.init()), Some(FileName::Init));
        assert_eq!(names.parse(&names.segment(12)), Some(FileName::Segment(12)));
        assert_eq!(names.parse(&names.part(12, 3)), Some(FileName::Part(12, 3)));
        for stranger in [
            "fe-1.m4s",
            "ff-.m4s",
            "ff-+1.m4s",
            "ff-1.2.3.m4s",
            "ff-1.m4",
            "ff-99999999999999999999.m4s",
        ] {
            assert_eq!(names.parse(stranger), None, "{stranger}");
        }
    }
}

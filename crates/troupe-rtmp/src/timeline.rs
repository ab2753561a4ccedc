//! Extends RTMP's 32-bit millisecond timestamps (which wrap after 49.7 days) to u64.

/// One timeline for a connection's audio and video together, so that both extend the same
/// way across a wrap even when their first timestamps fall on either side of it.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    last: Option<(u32, i64)>,
}

impl Timeline {
    /// The extended value of `timestamp`. A step of less than 2^31 ms backwards is taken as a
    /// step back (audio and video interleave slightly out of order), anything else as forward;
    /// the result never goes below zero.
    pub fn extend(&mut self, timestamp: u32) -> u64 {
        let extended = match self.last {
            None => i64::from(timestamp),
            Some((last, extended)) => extended + i64::from(timestamp.wrapping_sub(last) as i32),
        }
        .max(0);
        self.last = Some((timestamp, extended));
        extended as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosses_the_wrap_forwards() {
        let mut t = Timeline::default();
        assert_eq!(t.extend(u32::MAX - 10), u64::from(u32::MAX) - 10);
        assert_eq!(t.extend(u32::MAX), u64::from(u32::MAX));
        assert_eq!(t.extend(5), u64::from(u32::MAX) + 6);
        assert_eq!(t.extend(3), u64::from(u32::MAX) + 4, "a small step back after the wrap");
        assert_eq!(t.extend(u32::MAX - 1), u64::from(u32::MAX) - 1, "and back before it");
        assert_eq!(t.extend(1 << 30), u64::from(u32::MAX) + 1 + (1 << 30), "a long step forward");
    }

    #[test]
    fn steps_back_and_never_below_zero() {
        let mut t = Timeline::default();
        assert_eq!(t.extend(100), 100);
        assert_eq!(t.extend(80), 80);
        assert_eq!(t.extend(u32::MAX - 5), 0, "a step back past zero stops at zero");
        assert_eq!(t.extend(10), 16);
    }
}

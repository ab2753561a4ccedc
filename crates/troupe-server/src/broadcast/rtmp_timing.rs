//! RTMP carries millisecond timestamps; fMP4 wants each track in its own clock. Video converts
//! exactly (90 kHz is a multiple of 1 kHz). AAC frames are 1024 samples each, which at 44.1 or
//! 48 kHz is not a whole number of milliseconds: converting each frame's rounded millisecond
//! would make the frame durations jitter by a sample or two, so audio time counts frames
//! instead, and follows the millisecond clock again only when the two drift apart (a gap in
//! the audio).

/// Samples in one AAC frame (AAC-LC, what RTMP encoders send).
const AAC_FRAME: u64 = 1024;
/// Beyond this the frame count is resynchronised to the timestamps.
const MAX_DRIFT_MS: u64 = 100;

pub fn video_time(ms: u64) -> u64 {
    ms * 90
}

pub fn composition_offset(cts_ms: i32) -> i32 {
    cts_ms.saturating_mul(90)
}

/// Audio time of an AAC stream, in its sample rate.
pub struct AacClock {
    rate: u64,
    next: Option<u64>,
}

impl AacClock {
    pub fn new(sample_rate: u32) -> AacClock {
        AacClock { rate: u64::from(sample_rate.max(1)), next: None }
    }

    /// The time of the frame stamped `ms`.
    pub fn frame_time(&mut self, ms: u64) -> u64 {
        let stamped = ms * self.rate / 1000;
        let time = match self.next {
            Some(next) if stamped.abs_diff(next) * 1000 / self.rate <= MAX_DRIFT_MS => next,
            _ => stamped,
        };
        self.next = Some(time + AAC_FRAME);
        time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_frames_are_1024_samples_apart_despite_rounded_stamps() {
        let mut clock = AacClock::new(48_000);
        // 1024 samples at 48 kHz are 21.33 ms: encoders stamp 0, 21, 43, 64, 85…
        let times: Vec<u64> = [0, 21, 43, 64, 85].iter().map(|ms| clock.frame_time(*ms)).collect();
        assert_eq!(times, vec![0, 1024, 2048, 3072, 4096]);
    }

    #[test]
    fn a_gap_resynchronises() {
        let mut clock = AacClock::new(44_100);
        assert_eq!(clock.frame_time(1000), 44_100);
        assert_eq!(clock.frame_time(1023), 44_100 + 1024);
        // Half a second without audio, then frames again.
        assert_eq!(clock.frame_time(1546), 1546 * 44_100 / 1000);
    }

    #[test]
    fn video_is_exact() {
        assert_eq!(video_time(1000), 90_000);
        assert_eq!(composition_offset(-33), -2970);
    }
}

//! How long and how often a failed upload is tried again.

use std::time::Duration;

/// Capped exponential backoff with jitter, until `give_up_after` has passed since the upload
/// was queued. The default keeps trying for an hour: a storage outage of minutes loses
/// nothing (the contract is at least ten minutes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first_delay: Duration,
    /// The longest wait between two tries.
    pub max_delay: Duration,
    /// After this long in the queue, a failing upload is given up and counted in
    /// `UploadStats::failures`.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            give_up_after: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `failures` (1 = the first failure), before jitter.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first_delay.saturating_mul(1u32 << doublings).min(self.max_delay)
    }

    /// `delay` with up to 25% taken off at random, so that the lanes stalled by one outage
    /// do not all retry in the same instant when it ends.
    pub(crate) fn jittered_delay(&self, failures: u32) -> Duration {
        let delay = self.delay(failures);
        delay.mul_f64(1.0 - rand::random::<f64>() * 0.25)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_then_caps() {
        let p = RetryPolicy {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            give_up_after: Duration::from_secs(60),
        };
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(4), Duration::from_millis(800));
        assert_eq!(p.delay(5), Duration::from_secs(1));
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(1));
        let j = p.jittered_delay(3);
        assert!(j <= Duration::from_millis(400) && j >= Duration::from_millis(300), "{j:?}");
    }
}

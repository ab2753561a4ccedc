//! How many watch a channel: the distinct players (address and user agent) that fetched its
//! media playlist in the last [`WINDOW`]. HLS has no sessions, and players reload the playlist
//! every part (about half a second with low latency), so "fetched recently" is what a viewer
//! is — the count IVS reports is of the same kind.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, Hasher, RandomState},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// A player that fetched nothing for this long has left.
pub const WINDOW: Duration = Duration::from_secs(15);
/// At most this many players are remembered per channel (memory stays bounded however many
/// addresses a flood of requests comes from; past it, the count is a floor).
const MAX_TRACKED: usize = 200_000;

#[derive(Default)]
pub struct Viewers {
    hasher: RandomState,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    last: HashMap<u64, Instant>,
    pruned: Option<Instant>,
}

impl Viewers {
    /// Notes a playlist request.
    pub fn saw(&self, address: IpAddr, user_agent: &str, now: Instant) {
        let mut h = self.hasher.build_hasher();
        address.hash(&mut h);
        user_agent.hash(&mut h);
        let key = h.finish();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.last.len() >= MAX_TRACKED && !seen.last.contains_key(&key) {
            seen.prune(now);
            if seen.last.len() >= MAX_TRACKED {
                return;
            }
        }
        seen.last.insert(key, now);
        if seen.pruned.is_none_or(|at| now.duration_since(at) > WINDOW) {
            seen.prune(now);
        }
    }

    /// Players seen within the window.
    pub fn count(&self, now: Instant) -> u64 {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.last.values().filter(|at| now.duration_since(**at) <= WINDOW).count() as u64
    }
}

impl Seen {
    fn prune(&mut self, now: Instant) {
        self.last.retain(|_, at| now.duration_since(*at) <= WINDOW);
        self.pruned = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn counts_distinct_players_within_the_window() {
        let v = Viewers::default();
        let t0 = Instant::now();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        v.saw(a, "hls.js", t0);
        v.saw(a, "hls.js", t0 + Duration::from_secs(1));
        v.saw(a, "Safari", t0 + Duration::from_secs(1));
        v.saw(b, "hls.js", t0 + Duration::from_secs(2));
        assert_eq!(v.count(t0 + Duration::from_secs(2)), 3);
        // 16.5 s: both players on `a` were last seen 15.5 s before, `b` 14.5 s before.
        assert_eq!(v.count(t0 + Duration::from_secs(16) + Duration::from_millis(500)), 1);
        assert_eq!(v.count(t0 + Duration::from_secs(30)), 0);
    }
}

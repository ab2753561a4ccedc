//! Puts packets back in sequence order within a small window. A missing packet is waited for
//! until `depth` packets are held or the newest holds a timestamp `max_delay_ticks` past the
//! oldest held; then it is declared lost and the caller hears of the gap.

use std::collections::BTreeMap;

/// How long a gap is waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReorderConfig {
    /// Packets held at most while waiting for a missing one.
    pub depth: usize,
    /// RTP clock ticks waited at most for a missing one (4500 = 50 ms at 90 kHz).
    pub max_delay_ticks: u64,
}

impl ReorderConfig {
    /// 50 ms at 90 kHz, up to 64 packets (a keyframe's worth at 1200-byte packets).
    pub const VIDEO: ReorderConfig = ReorderConfig { depth: 64, max_delay_ticks: 4_500 };
    /// 50 ms at 48 kHz.
    pub const AUDIO: ReorderConfig = ReorderConfig { depth: 8, max_delay_ticks: 2_400 };
}

/// What comes out of the buffer, in sequence order.
#[derive(Debug, PartialEq, Eq)]
pub enum Reordered<T> {
    Packet(T),
    /// This many packets before the next one will never come.
    Lost(u64),
}

pub struct ReorderBuffer<T> {
    config: ReorderConfig,
    next: Option<u64>,
    held: BTreeMap<u64, (u64, T)>,
    newest_timestamp: u64,
    /// Packets that came too late (after their gap was given up) or twice.
    pub discarded: u64,
}

impl<T> ReorderBuffer<T> {
    pub fn new(config: ReorderConfig) -> Self {
        ReorderBuffer {
            config: ReorderConfig { depth: config.depth.max(1), ..config },
            next: None,
            held: BTreeMap::new(),
            newest_timestamp: 0,
            discarded: 0,
        }
    }

    /// Takes a packet by extended sequence number and timestamp; what can be released is
    /// appended to `out`.
    pub fn push(&mut self, sequence: u64, timestamp: u64, packet: T, out: &mut Vec<Reordered<T>>) {
        if self.next.is_some_and(|next| sequence < next) || self.held.contains_key(&sequence) {
            self.discarded += 1;
            return;
        }
        self.newest_timestamp = self.newest_timestamp.max(timestamp);
        self.held.insert(sequence, (timestamp, packet));
        self.release(out, false);
    }

    /// Releases everything held, declaring the gaps lost (end of stream).
    pub fn flush(&mut self, out: &mut Vec<Reordered<T>>) {
        self.release(out, true);
    }

    /// Forgets all state (a new SSRC).
    pub fn reset(&mut self) {
        self.next = None;
        self.held.clear();
        self.newest_timestamp = 0;
    }

    fn release(&mut self, out: &mut Vec<Reordered<T>>, everything: bool) {
        while let Some((&sequence, &(oldest_timestamp, _))) = self.held.first_key_value() {
            // Before the first release the start is unknown: the first packet seen may not be
            // the first sent, so the stream's start waits like a gap does.
            if self.next != Some(sequence) {
                let waited_long = self.newest_timestamp.saturating_sub(oldest_timestamp)
                    > self.config.max_delay_ticks;
                if !(everything || waited_long || self.held.len() > self.config.depth) {
                    return;
                }
                if let Some(next) = self.next {
                    out.push(Reordered::Lost(sequence - next));
                }
            }
            if let Some((_, (_, packet))) = self.held.pop_first() {
                out.push(Reordered::Packet(packet));
            }
            self.next = Some(sequence + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_all(b: &mut ReorderBuffer<u64>, seqs: &[u64]) -> Vec<Reordered<u64>> {
        let mut out = Vec::new();
        for &s in seqs {
            b.push(s, s * 10, s, &mut out);
        }
        out
    }

    #[test]
    fn reorders_within_the_window() {
        let mut b = ReorderBuffer::new(ReorderConfig { depth: 4, max_delay_ticks: 1000 });
        let out = push_all(&mut b, &[10, 12, 11, 14, 13, 15]);
        let expected: Vec<_> = (10..=15).map(Reordered::Packet).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_gap_is_given_up_after_depth_packets_and_late_ones_are_discarded() {
        let mut b = ReorderBuffer::new(ReorderConfig { depth: 3, max_delay_ticks: 1000 });
        let out = push_all(&mut b, &[1, 3, 4, 5]);
        assert_eq!(out, vec![Reordered::Packet(1)]);
        let out = push_all(&mut b, &[6]);
        assert_eq!(
            out,
            vec![
                Reordered::Lost(1),
                Reordered::Packet(3),
                Reordered::Packet(4),
                Reordered::Packet(5),
                Reordered::Packet(6)
            ]
        );
        assert!(push_all(&mut b, &[2, 6]).is_empty());
        assert_eq!(b.discarded, 2);
    }

    #[test]
    fn a_gap_is_given_up_after_max_delay() {
        let mut b = ReorderBuffer::new(ReorderConfig { depth: 100, max_delay_ticks: 15 });
        let mut out = push_all(&mut b, &[1, 3]);
        assert_eq!(out, vec![Reordered::Packet(1)]);
        out = push_all(&mut b, &[4, 5]); // timestamps 40, 50: 50 - 30 > 15
        assert_eq!(out[0], Reordered::Lost(1));
        assert_eq!(out.len(), 4);
    }
}

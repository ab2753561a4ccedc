//! Widening RTP's wrapping counters (16-bit sequence numbers, 32-bit timestamps) to 64 bits,
//! so that order and distance survive the wrap. A value is placed at the shortest distance
//! from the highest seen, as RFC 3550 A.1 does for sequence numbers.

/// Extends a wrapping counter of `BITS` bits (16 or 32).
#[derive(Clone, Debug, Default)]
pub struct Extender<const BITS: u32> {
    highest: Option<i64>,
}

/// Sequence numbers start one cycle up, so that a packet reordered before the first one
/// seen still has a non-negative extended number.
const SEQUENCE_BASE: i64 = 1 << 16;

pub type SequenceExtender = Extender<16>;
pub type TimestampExtender = Extender<32>;

impl<const BITS: u32> Extender<BITS> {
    pub fn new() -> Self {
        Extender { highest: None }
    }

    /// The extended value of `value` (the low `BITS` bits are used). Sequence numbers are
    /// offset by one cycle (see `SEQUENCE_BASE`); timestamps start at their own value and
    /// saturate at 0 before it.
    pub fn extend(&mut self, value: u32) -> u64 {
        let modulus = 1i64 << BITS;
        let value = i64::from(value) & (modulus - 1);
        let extended = match self.highest {
            None => value + if BITS == 16 { SEQUENCE_BASE } else { 0 },
            Some(highest) => {
                let mut delta = (value - highest).rem_euclid(modulus);
                if delta >= modulus / 2 {
                    delta -= modulus;
                }
                highest + delta
            }
        };
        if self.highest.is_none_or(|h| extended > h) {
            self.highest = Some(extended);
        }
        extended.max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_forward_and_reorder_back() {
        let mut e = SequenceExtender::new();
        let base = e.extend(65534);
        assert_eq!(e.extend(65535), base + 1);
        assert_eq!(e.extend(1), base + 3);
        assert_eq!(e.extend(0), base + 2); // late, across the wrap
        assert_eq!(e.extend(65533), base - 1); // before the first one seen
    }

    #[test]
    fn timestamps_wrap() {
        let mut e = TimestampExtender::new();
        assert_eq!(e.extend(u32::MAX - 10), u64::from(u32::MAX - 10));
        assert_eq!(e.extend(20), (1u64 << 32) + 20);
        assert_eq!(e.extend(u32::MAX), u64::from(u32::MAX));
    }
}

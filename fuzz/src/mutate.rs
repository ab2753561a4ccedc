//! A tiny deterministic PRNG and byte-level mutator.
//!
//! libFuzzer brings its own mutations; this is what the `fuzz_smoke` tests use instead, so
//! that ordinary `cargo test` (stable, no sanitizers) pushes a few thousand hostile inputs
//! through the same harnesses the fuzz targets call. Everything is seeded: a failure names
//! the input that caused it and reproduces.
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

/// SplitMix64: small, fast, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be zero.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True once in `n` times on average.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that tend to matter to text parsers: delimiters, quotes, escapes, whitespace,
/// control characters and the start of invalid UTF-8.
const INTERESTING: &[u8] = b"\0\t\n\r \"%&'()+,-./0123456789:;=?@AZ[\\]_az{}~\x7f\x80\xc3\xff";

/// Applies a few random edits to `input` (usually one or two, up to eight), drawing
/// inserted text from `dictionary` (may be empty) and never growing the result beyond
/// `max_len` bytes.
pub fn mutate(rng: &mut Rng, input: &[u8], dictionary: &[&[u8]], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    let edits = if rng.one_in(4) { 8 } else { 2 };
    for _ in 0..1 + rng.below(edits) {
        let at = rng.below(out.len() + 1);
        match rng.below(10) {
            // Overwrite one byte with a random or an interesting byte.
            0 if at < out.len() => out[at] = rng.next_u64() as u8,
            1 if at < out.len() => out[at] = *rng.pick(INTERESTING),
            // Insert a byte.
            2 => out.insert(at, *rng.pick(INTERESTING)),
            // Delete a short range.
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            // Insert or overwrite with a dictionary word.
            4 | 5 if !dictionary.is_empty() => {
                let word = *rng.pick(dictionary);
                if rng.one_in(2) {
                    let end = (at + word.len()).min(out.len());
                    out.splice(at..end, word.iter().copied());
                } else {
                    out.splice(at..at, word.iter().copied());
                }
            }
            // Duplicate a range (repetition finds length and nesting bugs).
            6 if at < out.len() => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                let copy = out[at..end].to_vec();
                let most = if rng.one_in(8) { 64 } else { 3 };
                let times = 1 + rng.below(most);
                for _ in 0..times {
                    out.splice(at..at, copy.iter().copied());
                }
            }
            // Truncate (rarely: it throws away everything after `at`).
            7 if rng.one_in(4) => out.truncate(at),
            // Flip one bit.
            8 if at < out.len() => out[at] ^= 1 << rng.below(8),
            // Swap two bytes.
            _ if out.len() >= 2 => {
                let other = rng.below(out.len());
                let at = at.min(out.len() - 1);
                out.swap(at, other);
            }
            _ => out.push(rng.next_u64() as u8),
        }
        out.truncate(max_len);
    }
    out
}

/// `count` inputs for a smoke test: every seed unchanged first, then a mix of mutated seeds
/// (most), seeds spliced together, and random bytes drawn from the dictionary and
/// [`INTERESTING`]. Deterministic for a given `seed`.
pub fn inputs(
    seed: u64,
    seeds: &[Vec<u8>],
    dictionary: &[&[u8]],
    count: usize,
    max_len: usize,
) -> Vec<Vec<u8>> {
    assert!(!seeds.is_empty(), "a smoke test needs at least one seed");
    let mut rng = Rng::new(seed);
    let mut out: Vec<Vec<u8>> = seeds.iter().take(count).cloned().collect();
    while out.len() < count {
        let input = match rng.below(10) {
            0 => {
                let len = rng.below(max_len.min(256) + 1);
                let mut bytes = Vec::with_capacity(len);
                while bytes.len() < len {
                    if !dictionary.is_empty() && rng.one_in(3) {
                        let word = *rng.pick(dictionary);
                        bytes.extend_from_slice(word);
                    } else if rng.one_in(2) {
                        bytes.push(*rng.pick(INTERESTING));
                    } else {
                        bytes.push(rng.next_u64() as u8);
                    }
                }
                bytes.truncate(max_len);
                bytes
            }
            1 => {
                let (a, b) = (rng.pick(seeds), rng.pick(seeds));
                let mut spliced = a[..rng.below(a.len() + 1)].to_vec();
                spliced.extend_from_slice(&b[rng.below(b.len() + 1)..]);
                spliced.truncate(max_len);
                mutate(&mut rng, &spliced, dictionary, max_len)
            }
            _ => {
                let mut bytes = rng.pick(seeds).clone();
                // Mostly one round of edits, sometimes several stacked.
                for _ in 0..1 + usize::from(rng.one_in(4)) * rng.below(4) {
                    bytes = mutate(&mut rng, &bytes, dictionary, max_len);
                }
                bytes
            }
        };
        out.push(input);
    }
    out
}

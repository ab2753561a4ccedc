//! Malformed and mutated SDP offers (from a real client's offer) never panic the answerer:
//! each is answered or refused with an error. The coverage-guided version is the `sdp_offer`
//! fuzz target (fuzz/README.md).

use std::{net::SocketAddr, time::Instant};

use str0m::media::{Direction, MediaKind};
use troupe_media::{client::Client, session::answer_offer};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_offers_are_answered_or_refused() {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let seeds: Vec<String> = [
        (MediaKind::Audio, Direction::SendOnly),
        (MediaKind::Video, Direction::SendOnly),
        (MediaKind::Video, Direction::RecvOnly),
    ]
    .into_iter()
    .map(|(kind, dir)| Client::offer(loopback, kind, dir).unwrap().1)
    .collect();
    let candidate = SocketAddr::from(([127, 0, 0, 1], 7801));
    let words =
        ["0", "-1", "99999999999", "", "a=", "m=video 9 UDP/TLS/RTP/SAVPF 96", "\r\n", "=", ":"];
    let mut rng = Rng(0x0005_d90f_fe12);
    let (mut answered, mut refused) = (0, 0);
    for i in 0..1500 {
        let seed = &seeds[i % seeds.len()];
        let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(lines.len());
            match rng.below(5) {
                0 => {
                    lines.remove(at);
                }
                1 => lines.insert(at, words[rng.below(words.len())].to_string()),
                2 => {
                    let line = &mut lines[at];
                    let cut = rng.below(line.len() + 1);
                    while !line.is_char_boundary(cut.min(line.len())) {
                        line.pop();
                    }
                    line.truncate(cut.min(line.len()));
                }
                3 => {
                    let other = lines[rng.below(lines.len())].clone();
                    lines.insert(at, other);
                }
                _ => {
                    let line = &mut lines[at];
                    let word = words[rng.below(words.len())];
                    *line = line.replacen(' ', &format!(" {word} "), 1);
                }
            }
            if lines.is_empty() {
                lines.push("v=0".into());
            }
        }
        match answer_offer(&lines.join("\r\n"), candidate, Instant::now()) {
            Ok(_) => answered += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(answered > 0 && refused > 0, "answered {answered}, refused {refused}");
}

//! Malformed and mutated SDP offers (from a real client's offer) never panic the answerer:
//! each is answered or refused with an error; likewise WHIP PATCH fragments and STUN
//! usernames. The coverage-guided versions are the `sdp_offer` and `whip_patch` fuzz targets
//! (fuzz/README.md).

use std::{net::SocketAddr, time::Instant};

use str0m::media::{Direction, MediaKind};
use troupe_media::{client::Client, router::Role, sdpfrag, session::answer_offer, stun};

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
        match answer_offer(&lines.join("\r\n"), &candidate.into(), &Role::Publish, Instant::now()) {
            Ok(_) => answered += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(answered > 0 && refused > 0, "answered {answered}, refused {refused}");
}

const FRAGMENT: &str = "a=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\na=end-of-candidates\r\n";

#[test]
fn a_fragment_is_read() {
    let fragment = sdpfrag::parse(FRAGMENT).unwrap();
    assert_eq!(fragment.ufrag.as_deref(), Some("EsAw"));
    assert_eq!(fragment.pwd.as_deref(), Some("bP+XJMM09aR8AiX1jdukzR6Y"));
    assert_eq!(fragment.candidates.len(), 1);
    assert!(fragment.end_of_candidates);
    assert_eq!(
        sdpfrag::parse("a=ice-ufrag:x\r\n").err(),
        Some(sdpfrag::FragmentError::HalfCredentials)
    );
    let two = "a=ice-ufrag:x\r\na=ice-ufrag:y\r\na=ice-pwd:p\r\n";
    assert_eq!(sdpfrag::parse(two).err(), Some(sdpfrag::FragmentError::ConflictingCredentials));
}

#[test]
fn a_stun_username_names_the_receiver() {
    // A binding request: header, then USERNAME "srv:cli" (7 bytes, padded to 8).
    let mut m = vec![0x00, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xA4, 0x42];
    m.extend([7u8; 12]);
    m.extend([0x00, 0x06, 0x00, 0x07]);
    m.extend(b"srv:cli\0");
    assert_eq!(stun::local_ufrag(&m), Some("srv"));
    m[2] = 0xff; // A length past the end.
    assert_eq!(stun::local_ufrag(&m), None);
}

#[test]
fn mutated_fragments_and_datagrams_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seed = FRAGMENT.as_bytes();
    for _ in 0..20_000 {
        let mut bytes = seed.to_vec();
        for _ in 0..(rng.next() % 8 + 1) {
            let at = (rng.next() as usize) % bytes.len().max(1);
            match rng.next() % 3 {
                0 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, rng.next() as u8),
                _ => {
                    if let Some(b) = bytes.get_mut(at) {
                        *b = rng.next() as u8;
                    }
                }
            }
        }
        let _ = stun::local_ufrag(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes)
            && let Ok(fragment) = sdpfrag::parse(text)
        {
            assert!(fragment.candidates.len() <= sdpfrag::MAX_CANDIDATES);
        }
    }
}

//! Property-style test: `decode` (and whatever follows a successful decode)
//! never panics on random or mutated input. Seeded, so failures reproduce.

mod common;

use common::{b64, sample_claims};
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use troupe_tokens::{NodeKey, check_times, decode};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0";

/// Runs everything a verifier would run on `input`; only panics matter.
/// Signature checks are slow in debug builds, so only some inputs get one.
/// Returns whether `input` decoded.
fn exercise(input: &str, key: &NodeKey, check_signature: bool) -> bool {
    let decoded = decode(input);
    if let Ok(token) = &decoded {
        if check_signature {
            let _ = token.verify_signature(key.verifying_key());
        }
        let _ = check_times(token.claims(), 1_800_000_000, 30, 1_209_600);
        let _ = token.kid();
    }
    decoded.is_ok()
}

#[test]
fn random_strings() {
    let key = NodeKey::generate();
    let mut rng = StdRng::seed_from_u64(0x7e0c_0de5);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..200);
        let input: String = if rng.gen_bool(0.5) {
            (0..len).map(|_| *ALPHABET.choose(&mut rng).unwrap() as char).collect()
        } else {
            let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let _ = exercise(&input, &key, true);
    }
}

#[test]
fn mutated_valid_tokens() {
    let key = NodeKey::generate();
    let token = key.sign(&sample_claims(1_800_000_000));
    let mut rng = StdRng::seed_from_u64(0x5eed_70c3);
    for i in 0..20_000 {
        let mut bytes = token.clone().into_bytes();
        for _ in 0..rng.gen_range(1..6) {
            let at = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..4) {
                0 => bytes[at] = *ALPHABET.choose(&mut rng).unwrap(),
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, *ALPHABET.choose(&mut rng).unwrap()),
                _ => bytes.truncate(at),
            }
            if bytes.is_empty() {
                break;
            }
        }
        let _ = exercise(&String::from_utf8_lossy(&bytes), &key, i % 50 == 0);
    }
}

#[test]
fn mutated_json_inside_valid_base64() {
    let key = NodeKey::generate();
    let header = br#"{"alg":"ES384","typ":"JWT","kid":"k"}"#.to_vec();
    let claims = serde_json::to_vec(&sample_claims(1_800_000_000)).unwrap();
    let json_bytes = b"{}[]\",:0123456789.eE-+truefalsnul \\u";
    let mut rng = StdRng::seed_from_u64(0x15_0b);
    let mut decoded = 0;
    for i in 0..20_000 {
        let mut parts = [header.clone(), claims.clone()];
        let target = rng.gen_range(0..2);
        let part = &mut parts[target];
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..part.len());
            match rng.gen_range(0..3) {
                0 => part[at] = *json_bytes.choose(&mut rng).unwrap(),
                1 => {
                    part.remove(at);
                }
                _ => part.insert(at, *json_bytes.choose(&mut rng).unwrap()),
            }
        }
        let signature: Vec<u8> = (0..96).map(|_| rng.r#gen()).collect();
        let input = format!("{}.{}.{}", b64(&parts[0]), b64(&parts[1]), b64(&signature));
        decoded += usize::from(exercise(&input, &key, i % 100 == 0));
    }
    // The mutations must reach the claim checks, not just fail JSON parsing.
    assert!(decoded > 100, "only {decoded} inputs decoded");
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let key = NodeKey::generate();
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let claims = format!(r#"{{"attributes":{deep}}}"#);
    let input = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"ES384","kid":"k"}"#),
        b64(claims.as_bytes()),
        b64(&[1; 96])
    );
    assert!(decode(&input).is_err());
    assert!(!exercise(&input, &key, true));
}

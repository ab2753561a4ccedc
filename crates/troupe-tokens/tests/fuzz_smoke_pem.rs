//! Deterministic "fuzz smoke" test for `parse_public_key_pem`: a few thousand seeded,
//! mutated PEMs through the harness the `public_key_pem` fuzz target runs (see
//! `fuzz/README.md`). The harness asserts that nothing panics and that an accepted key
//! re-encodes and parses back to itself.

#[allow(dead_code)]
#[path = "../../../fuzz/src/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "../../../fuzz/src/pem.rs"]
mod pem;

#[test]
fn public_key_pem() {
    let seeds = pem::seeds();
    let mut accepted = 0;
    for input in mutate::inputs(0x9e3_0001, &seeds, pem::DICTIONARY, 20_000, 1024) {
        accepted += usize::from(pem::run(&input));
    }
    // Mutations that keep the key valid (whitespace, line endings, re-wrapping) exist,
    // and must be found: otherwise only the PEM framing is being exercised.
    assert!(accepted > 10, "only {accepted} mutated PEMs accepted");
}

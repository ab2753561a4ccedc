//! Deterministic "fuzz smoke" test for the RTMP session: seeded, mutated connections through
//! the harness the `rtmp_session` fuzz target runs (see `fuzz/README.md`). The harness asserts
//! that nothing panics, a rejected key yields no media and an error is final.

#[allow(dead_code)]
#[path = "../../../fuzz/src/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "../../../fuzz/src/rtmp.rs"]
mod rtmp;

#[test]
fn seeds_reach_media() {
    for seed in rtmp::seeds() {
        // Every seed that accepts gets its media through; the rejecting ones none.
        let media = rtmp::run(&seed);
        assert_eq!(media > 0, seed[0] & 1 == 1, "mode {:#010b}: {media} media events", seed[0]);
    }
}

#[test]
fn mutated_sessions_never_panic() {
    let seeds = rtmp::seeds();
    let mut with_media = 0;
    for input in mutate::inputs(0x47_4d50, &seeds, rtmp::DICTIONARY, 20_000, 8192) {
        with_media += usize::from(rtmp::run(&input) > 0);
    }
    assert!(with_media > 1000, "only {with_media} mutated sessions got to media");
}

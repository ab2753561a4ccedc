//! The `rtp_depacketize` fuzz harness on stable: its seeds, then thousands of seeded
//! mutations of them, must keep every invariant the harness checks (see
//! fuzz/src/rtp_depacketize.rs).

#[allow(dead_code)]
#[path = "../../../fuzz/src/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "../../../fuzz/src/rtp_depacketize.rs"]
mod rtp_depacketize;

#[test]
fn seeds_produce_media() {
    let seeds = rtp_depacketize::seeds();
    assert_eq!(rtp_depacketize::run(&seeds[0]), 2, "the IDR and the P picture");
    rtp_depacketize::run(&seeds[1]);
}

#[test]
fn mutated_packets_never_break_an_invariant() {
    let seeds = rtp_depacketize::seeds();
    let inputs = mutate::inputs(0x5eed, &seeds, rtp_depacketize::DICTIONARY, 20_000, 4096);
    for (n, input) in inputs.iter().enumerate() {
        let result = std::panic::catch_unwind(|| rtp_depacketize::run(input));
        assert!(result.is_ok(), "input {n}: {input:02x?}");
    }
}

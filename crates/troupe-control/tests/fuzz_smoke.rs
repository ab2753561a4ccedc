//! Deterministic "fuzz smoke" tests: a few thousand seeded, mutated inputs through the same
//! harnesses the fuzz targets in `fuzz/` run (see `fuzz/README.md`), so that stable
//! `cargo test` catches the shallow crashes a nightly fuzzing run would.
//!
//! The harnesses live in `fuzz/src/` and are included here by path; each asserts its own
//! oracles (no panic, no internal error, round trips). Inputs are bounded in length, so the
//! tests are bounded in time.
//!
//! `TROUPE_FUZZ_SEEDS=<dir> cargo test -p troupe-control --test fuzz_smoke seeds` also
//! writes the seeds as the fuzzers' starting corpus, one directory per target.

#[allow(dead_code)]
#[path = "../../../fuzz/src/arn.rs"]
mod arn;
#[allow(dead_code)]
#[path = "../../../fuzz/src/control.rs"]
mod control;
#[allow(dead_code)]
#[path = "../../../fuzz/src/mutate.rs"]
mod mutate;
#[allow(dead_code)]
#[path = "../../../fuzz/src/pem.rs"]
mod pem;
#[allow(dead_code)]
#[path = "../../../fuzz/src/sigv4.rs"]
mod sigv4;
#[allow(dead_code)]
#[path = "../../../fuzz/src/token.rs"]
mod token;

use troupe_control::sigv4::SigV4Error;

#[test]
fn sigv4_verify() {
    let seeds = sigv4::seeds();
    let mut verified = 0;
    let mut mismatched = 0;
    for input in mutate::inputs(0x5157_0a11, &seeds, sigv4::DICTIONARY, 20_000, 2048) {
        match sigv4::run(&input) {
            Ok(_) => verified += 1,
            Err(SigV4Error::SignatureMismatch) => mismatched += 1,
            Err(_) => {}
        }
    }
    // The mutations must reach the signature comparison, not only the header parser.
    assert!(verified >= seeds.len() - 1, "only {verified} verified");
    assert!(mismatched > 1000, "only {mismatched} reached the signature check");
}

#[test]
fn control_call() {
    let seeds = control::seeds();
    let mut harness = control::Harness::new();
    let mut ok = 0;
    for (i, input) in
        mutate::inputs(0xC047_0401, &seeds, control::DICTIONARY, 5000, 1024).into_iter().enumerate()
    {
        // A fresh plane now and then, as the fuzz target's harness does on its own.
        if i % 1000 == 999 {
            harness.reset();
        }
        if let Some(Ok(_)) = harness.run(&input) {
            ok += 1;
        }
    }
    assert!(ok > 400, "only {ok} calls succeeded");
}

#[test]
fn arn_and_next_token() {
    let seeds = arn::seeds();
    let (mut arns, mut pages) = (0, 0);
    for input in mutate::inputs(0xa4_2e, &seeds, arn::DICTIONARY, 20_000, 512) {
        let (arn_ok, page_ok) = arn::run(&input);
        arns += usize::from(arn_ok);
        pages += usize::from(page_ok);
    }
    assert!(arns > 1000 && pages > 1000, "{arns} ARNs, {pages} pages accepted");
}

/// Every seed is what it claims to be, so the mutations above start from valid inputs;
/// with `TROUPE_FUZZ_SEEDS` set, also writes them out for `cargo fuzz`.
#[test]
fn seeds() {
    for seed in token::seeds() {
        assert!(token::run(&seed), "token seed does not verify");
    }
    let pems = pem::seeds();
    assert_eq!(pems.iter().filter(|p| pem::run(p)).count(), 4);
    let sigv4_seeds = sigv4::seeds();
    for (i, seed) in sigv4_seeds.iter().enumerate() {
        let result = sigv4::run(seed);
        if i + 1 < sigv4_seeds.len() {
            assert!(result.is_ok(), "sigv4 seed {i}: {result:?}");
        } else {
            assert_eq!(result, Err(SigV4Error::MissingAuthenticationToken));
        }
    }
    for seed in control::SEEDS {
        let result = control::Harness::new().run(&seed.encode()).unwrap();
        assert_eq!(result.is_ok(), seed.succeeds, "{}: {result:?}", seed.operation.name());
    }
    for seed in arn::seeds() {
        assert_eq!(arn::run(&seed), (true, true), "{}", String::from_utf8_lossy(&seed));
    }

    let Some(dir) = std::env::var_os("TROUPE_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (target, seeds) in [
        ("token_decode", token::seeds()),
        ("public_key_pem", pems),
        ("sigv4_verify", sigv4_seeds),
        ("control_call", control::seeds()),
        ("arn_and_next_token", arn::seeds()),
    ] {
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(target_dir.join(format!("seed-{i:02}")), seed).unwrap();
        }
    }
}

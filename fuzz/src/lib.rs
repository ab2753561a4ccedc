//! Harnesses shared by the fuzz targets (`fuzz_targets/`) and the deterministic
//! `fuzz_smoke` tests in the main workspace, which include these files with `#[path]`.
//!
//! Each module owns one parser entry point: how raw fuzzer bytes become a call
//! (`run`), valid inputs to start from (`seeds`), and words worth splicing in
//! (`DICTIONARY`). Modules do not refer to each other or to `crate`, so that any one
//! of them can be included on its own.

pub mod arn;
pub mod control;
pub mod mutate;
pub mod pem;
pub mod rtmp;
pub mod rtp_depacketize;
pub mod sigv4;
pub mod token;

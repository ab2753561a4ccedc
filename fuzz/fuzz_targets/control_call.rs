#![no_main]

use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use troupe_fuzz::control::Harness;

/// One plane per process, rebuilt every few thousand calls by the harness itself.
static HARNESS: LazyLock<Mutex<Harness>> = LazyLock::new(|| Mutex::new(Harness::new()));

fuzz_target!(|data: &[u8]| {
    let _ = HARNESS.lock().unwrap().run(data);
});

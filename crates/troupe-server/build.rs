//! The binary embeds the Web SDK (`sdk/dist/troupe.js`, `troupe.mjs`) and the watch page's
//! player (`sdk/dist/hls.min.js`, copied from npm's hls.js by the same build), built by `npm run
//! build:sdk` (scripts/start and scripts/test run it first). Missing files stop the build with
//! the command to run, rather than a binary that serves nothing at /sdk/.

use std::path::Path;

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/dist");
    for file in ["troupe.js", "troupe.mjs", "hls.min.js"] {
        let path = dist.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        if !path.is_file() {
            panic!(
                "the Web SDK is not built ({} is missing): run `npm ci && npm run build:sdk` in \
                 the repository root (scripts/start and scripts/test do it for you)",
                path.display()
            );
        }
    }
}

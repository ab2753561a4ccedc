//! The demo app's files, embedded at build time from `web/` (plain HTML, CSS and JavaScript
//! modules: no build step, so that they read as the example they are).

use crate::static_asset::Asset;

macro_rules! web {
    ($($name:literal),* $(,)?) => {
        &[$(($name, Asset::of($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/", $name))))),*]
    };
}

const FILES: &[(&str, Asset)] = web![
    "index.html",
    "stage.html",
    "app.css",
    "js/api.js",
    "js/devices.js",
    "js/grid.js",
    "js/landing.js",
    "js/messages.js",
    "js/speaking.js",
    "js/stage-page.js",
    "js/tile.js",
];

/// The embedded file at `path` (relative to `web/`).
pub fn find(path: &str) -> Option<Asset> {
    FILES.iter().find(|(name, _)| *name == path).map(|(_, asset)| *asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under web/ is embedded (a new module must be listed above, or the page that
    /// imports it breaks only in the browser).
    #[test]
    fn every_web_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    on_disk.push(path.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }
}

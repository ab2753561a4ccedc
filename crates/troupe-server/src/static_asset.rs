//! Files embedded in the binary (the Web SDK, the demo app), served with a content ETag:
//! browsers revalidate (`no-cache`) and get a 304 until the binary changes, so an upgraded
//! server never leaves a stale file in a cache.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

/// One embedded file.
#[derive(Clone, Copy)]
pub struct Asset {
    pub body: &'static str,
    pub content_type: &'static str,
}

impl Asset {
    /// The content type for a file name's extension.
    pub const fn of(name: &str, body: &'static str) -> Asset {
        let bytes = name.as_bytes();
        let content_type = if ends_with(bytes, b".js") || ends_with(bytes, b".mjs") {
            "text/javascript; charset=utf-8"
        } else if ends_with(bytes, b".css") {
            "text/css; charset=utf-8"
        } else if ends_with(bytes, b".html") {
            "text/html; charset=utf-8"
        } else {
            "application/octet-stream"
        };
        Asset { body, content_type }
    }

    /// The file's ETag: a digest of its content, computed on the first request only (the
    /// bodies are in the binary, so a body's address and length name it for the life of the process).
    fn etag(&self) -> String {
        static ETAGS: LazyLock<Mutex<HashMap<(usize, usize), String>>> =
            LazyLock::new(Default::default);
        let mut etags = ETAGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        etags
            .entry((self.body.as_ptr() as usize, self.body.len()))
            .or_insert_with(|| {
                let digest = Sha256::digest(self.body.as_bytes());
                format!("\"{}\"", hex::encode(&digest[..12]))
            })
            .clone()
    }

    /// The response to a GET of this file, given the request's headers.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let etag = self.etag();
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        let mut response = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            self.body.into_response()
        };
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        response
    }
}

const fn ends_with(text: &[u8], suffix: &[u8]) -> bool {
    if text.len() < suffix.len() {
        return false;
    }
    let start = text.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if text[start + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_revalidation() {
        assert_eq!(Asset::of("a.mjs", "").content_type, "text/javascript; charset=utf-8");
        assert_eq!(Asset::of("app.css", "").content_type, "text/css; charset=utf-8");
        assert_eq!(Asset::of("x", "").content_type, "application/octet-stream");
        let asset = Asset::of("a.js", "let a = 1;");
        let first = asset.respond(&HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(asset.respond(&again).status(), StatusCode::NOT_MODIFIED);
    }
}

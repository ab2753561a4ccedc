//! Unpadded base64url, the only encoding a compact JWS uses.
//!
//! Decoding is strict: padding, characters outside the URL-safe alphabet and
//! non-zero trailing bits are all rejected, so each token has exactly one
//! encoding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; `None` on any deviation.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

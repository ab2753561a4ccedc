//! The error types of this crate.
//!
//! * [`TokenError`]: everything that can be wrong with a received token.
//!   [`TokenError::sdk_code`] maps each variant to the code the IVS client
//!   SDKs understand (`TOKEN_MALFORMED` or `TOKEN_EXPIRED`).
//! * [`KeyError`]: an imported public key PEM that cannot be used.
//! * [`KeyFileError`]: the node key file cannot be read, written or trusted.

use std::path::PathBuf;

/// Why a token was rejected. Every message names the problem; none contains
/// key material. Attacker-controlled strings (`alg`, `kid`) are shown
/// debug-escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is longer than [`crate::MAX_TOKEN_LEN`]; nothing else was looked at.
    #[error("token is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the token received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not three `.`-separated parts.
    #[error("token is not a compact JWS: expected 3 dot-separated parts, found {found}")]
    WrongPartCount {
        /// How many parts there were.
        found: usize,
    },
    /// A part is not unpadded base64url.
    #[error("token {part} is not valid unpadded base64url")]
    BadBase64 {
        /// `"header"`, `"claims"` or `"signature"`.
        part: &'static str,
    },
    /// The header is not a JSON object of the expected shape.
    #[error("token header is malformed: {0}")]
    MalformedHeader(String),
    /// The header's `alg` is anything but `ES384` (including `none`).
    #[error("token algorithm {alg:?} is not supported; only \"ES384\" is accepted")]
    UnsupportedAlgorithm {
        /// The `alg` found, as received.
        alg: String,
    },
    /// The header has no usable `kid`.
    #[error("token header has no \"kid\" (key id)")]
    MissingKeyId,
    /// A required claim is absent.
    #[error("token is missing the required claim \"{0}\"")]
    MissingClaim(&'static str),
    /// The claims are not a JSON object, or a claim has the wrong type.
    #[error("token claims are malformed: {0}")]
    MalformedClaims(String),
    /// The signature part is not a raw 96-byte `r || s` ES384 signature.
    #[error("token signature is not a 96-byte ES384 signature (found {len} bytes)")]
    MalformedSignature {
        /// Decoded length of the signature part.
        len: usize,
    },
    /// The signature does not verify under the key it names.
    #[error("token signature does not verify")]
    BadSignature,
    /// The `kid` names no key the verifier knows. Never produced by this
    /// crate; for callers looking keys up.
    #[error("token is signed by an unknown key {kid:?}")]
    UnknownKey {
        /// The `kid` from the header.
        kid: String,
    },
    /// `exp` has passed (after leeway).
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The time checked against.
        now: i64,
    },
    /// `iat` or `nbf` is in the future (after leeway).
    #[error("token is not valid until {not_before} (now {now})")]
    NotYetValid {
        /// The offending `iat` or `nbf`.
        not_before: i64,
        /// The time checked against.
        now: i64,
    },
    /// `exp - iat` is longer than the verifier allows.
    #[error("token lifetime of {lifetime} s exceeds the maximum of {max} s")]
    LifetimeTooLong {
        /// `exp - iat` (saturating).
        lifetime: i64,
        /// The limit.
        max: i64,
    },
    /// `exp <= iat`.
    #[error("token expires ({exp}) no later than it was issued ({iat})")]
    ExpiresBeforeIssued {
        /// The `iat` claim.
        iat: i64,
        /// The `exp` claim.
        exp: i64,
    },
}

impl TokenError {
    /// The error code the IVS client SDKs expect for this rejection:
    /// `TOKEN_EXPIRED` for tokens that are outside their validity window,
    /// `TOKEN_MALFORMED` for everything else (including bad signatures and
    /// unknown keys).
    pub fn sdk_code(&self) -> &'static str {
        if self.is_time_window() { "TOKEN_EXPIRED" } else { "TOKEN_MALFORMED" }
    }

    /// True for [`TokenError::Expired`] and [`TokenError::NotYetValid`].
    pub fn is_time_window(&self) -> bool {
        matches!(self, Self::Expired { .. } | Self::NotYetValid { .. })
    }
}

/// Why an imported public key PEM was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not PEM at all (or corrupt base64 inside the armour).
    #[error("not a PEM-encoded public key: {0}")]
    NotPem(String),
    /// PEM, but not a `PUBLIC KEY` block (for example a private key or a certificate).
    #[error("expected a \"PUBLIC KEY\" PEM block, found {label:?}")]
    WrongPemLabel {
        /// The PEM label found.
        label: String,
    },
    /// A `PUBLIC KEY` block whose contents are not a SubjectPublicKeyInfo.
    #[error("not a valid SubjectPublicKeyInfo public key: {0}")]
    MalformedSpki(String),
    /// A well-formed public key of another type or curve.
    #[error("not a P-384 public key (found {found})")]
    NotP384 {
        /// What it is instead, e.g. `"EC P-256"` or `"RSA"`.
        found: String,
    },
    /// Claims to be P-384 but the point is not a valid curve point.
    #[error("not a valid P-384 public key: the point is not on the curve")]
    InvalidPoint,
}

/// Why the node key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file exists but could not be read.
    #[error("cannot read node key file {path}: {source}")]
    Read {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A new key file could not be written.
    #[error("cannot write node key file {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file is readable or writable by group or others.
    #[error(
        "node key file {path} has mode {mode:04o}, which lets group or others access it; \
         the key may have been exposed. Run `chmod 600` on it if it is safe, \
         or delete it to generate a new key"
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not a PKCS#8 PEM P-384 private key.
    #[error("node key file {path} is not a PKCS#8 PEM P-384 private key: {reason}")]
    InvalidKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

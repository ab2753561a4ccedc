//! The node's own token signing key and its key file.
//!
//! The key lives in `<data_dir>/node-key.pem` as an unencrypted PKCS#8 PEM
//! P-384 private key. It is generated at first start and written
//! atomically: into a temporary file in the same directory, created with
//! mode 0600 from the start (never world-readable, not even briefly),
//! flushed to disk, then renamed over the final name.
//!
//! # Permissions of an existing key file
//!
//! An existing key file that group or others can read or write is
//! **rejected**, not silently tightened (the same policy OpenSSH applies to
//! private keys). If the mode was ever loose the key may already have been
//! copied, and quietly fixing the mode would hide that; the operator should
//! decide between `chmod 600` and deleting the file to get a fresh key
//! (which only invalidates tokens issued by this node, all short-lived).
//! Note that Kubernetes secret volumes default to mode 0644: mount the key
//! with `defaultMode: 0400` or `0600`.
//!
//! # Concurrent first starts
//!
//! Two processes creating the key in the same empty directory at the same
//! moment each rename their own file into place; the last rename wins and
//! the other process signs with a key that is not on disk until it
//! restarts. Sharing a data directory between live nodes is unsupported
//! anyway.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::Path;

use p384::ecdsa::{SigningKey, VerifyingKey};
use p384::elliptic_curve::zeroize::Zeroizing;
use p384::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rand::Rng as _;

use crate::claims::Claims;
use crate::error::KeyFileError;
use crate::public_key::{encode_public_key_pem, fingerprint};

/// Name of the key file inside the data directory.
pub const KEY_FILE_NAME: &str = "node-key.pem";

/// Larger files cannot be a PEM P-384 key; refuse before reading them whole.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// The node's P-384 signing key, with its derived key id and public PEM.
pub struct NodeKey {
    signing_key: SigningKey,
    kid: String,
    public_pem: String,
}

impl NodeKey {
    /// Loads `<data_dir>/node-key.pem`, or generates and stores a new key if
    /// the file does not exist. Creates `data_dir` (mode 0700) if missing.
    pub fn load_or_create(data_dir: &Path) -> Result<NodeKey, KeyFileError> {
        create_data_dir(data_dir)?;
        let path = data_dir.join(KEY_FILE_NAME);
        match File::open(&path) {
            Ok(file) => load(&path, file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(data_dir, &path),
            Err(source) => Err(KeyFileError::Read { path, source }),
        }
    }

    /// A fresh random key, held only in memory.
    pub fn generate() -> NodeKey {
        NodeKey::from_signing_key(SigningKey::random(&mut rand::rngs::OsRng))
    }

    /// Wraps an existing signing key.
    pub fn from_signing_key(signing_key: SigningKey) -> NodeKey {
        let verifying_key = signing_key.verifying_key();
        NodeKey {
            kid: kid_for(verifying_key),
            public_pem: encode_public_key_pem(verifying_key),
            signing_key,
        }
    }

    /// The key id put in the `kid` header of every token this node signs:
    /// `node-` followed by the first 16 hex digits of the SHA-256 of the
    /// public key's DER SubjectPublicKeyInfo. Stable across restarts.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as SPKI PEM.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The public key, for verifying this node's tokens.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The full fingerprint of the public key (see [`crate::fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(self.verifying_key())
    }

    /// Signs `claims` as an ES384 token with this node's `kid`.
    pub fn sign(&self, claims: &Claims) -> String {
        crate::sign::sign(claims, &self.signing_key, &self.kid)
    }
}

impl fmt::Debug for NodeKey {
    /// Shows the key id only, never the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// `node-` + the first 16 hex digits of the SPKI SHA-256.
fn kid_for(key: &VerifyingKey) -> String {
    let mut kid = fingerprint(key);
    kid.truncate(16);
    format!("node-{kid}")
}

fn create_data_dir(data_dir: &Path) -> Result<(), KeyFileError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(data_dir)
        .map_err(|source| KeyFileError::CreateDir { path: data_dir.to_owned(), source })
}

/// Reads and parses an existing key file, checking its permissions on the
/// open handle (no window between the check and the read).
fn load(path: &Path, file: File) -> Result<NodeKey, KeyFileError> {
    let read_err = |source| KeyFileError::Read { path: path.to_owned(), source };
    let metadata = file.metadata().map_err(read_err)?;
    if !metadata.is_file() {
        return Err(KeyFileError::InvalidKey {
            path: path.to_owned(),
            reason: "not a regular file".into(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::InsecurePermissions { path: path.to_owned(), mode });
        }
    }
    let mut pem = Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_LEN + 1).read_to_string(&mut pem).map_err(read_err)?;
    if pem.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(KeyFileError::InvalidKey {
            path: path.to_owned(),
            reason: format!("larger than {MAX_KEY_FILE_LEN} bytes"),
        });
    }
    let signing_key = SigningKey::from_pkcs8_pem(pem.trim())
        .map_err(|e| KeyFileError::InvalidKey { path: path.to_owned(), reason: e.to_string() })?;
    Ok(NodeKey::from_signing_key(signing_key))
}

/// Generates a key and stores it at `path` via a 0600 temporary file + rename.
fn create(data_dir: &Path, path: &Path) -> Result<NodeKey, KeyFileError> {
    let signing_key = SigningKey::random(&mut rand::rngs::OsRng);
    let pem = signing_key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyFileError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;

    let temp_path = data_dir.join(format!(
        ".{KEY_FILE_NAME}.tmp-{}-{:016x}",
        std::process::id(),
        rand::thread_rng().r#gen::<u64>()
    ));
    let result = write_new_private_file(&temp_path, pem.as_bytes())
        .and_then(|()| fs::rename(&temp_path, path));
    if let Err(source) = result {
        let _ = fs::remove_file(&temp_path);
        return Err(KeyFileError::Write { path: path.to_owned(), source });
    }
    sync_dir(data_dir);
    Ok(NodeKey::from_signing_key(signing_key))
}

/// Creates `path` (which must not exist) readable and writable by the owner
/// only, writes `contents` and flushes them to disk.
fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Best effort: makes the rename itself durable.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

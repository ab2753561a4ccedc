//! The node key file: creation mode, reload, permission policy, bad files.

#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use common::{TempDir, now, sample_claims};
use troupe_tokens::{KEY_FILE_NAME, KeyFileError, NodeKey, decode, parse_public_key_pem};

fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn created_with_mode_0600_and_reloaded_with_same_kid() {
    let dir = TempDir::new("create");
    let nested = dir.0.join("data");
    let first = NodeKey::load_or_create(&nested).expect("creates");

    let key_path = nested.join(KEY_FILE_NAME);
    assert_eq!(mode_of(&key_path), 0o600);
    assert_eq!(mode_of(&nested) & 0o077, 0, "new data dir is private");
    let pem = fs::read_to_string(&key_path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    // No temporary files left behind.
    let entries: Vec<_> = fs::read_dir(&nested).unwrap().collect();
    assert_eq!(entries.len(), 1);

    let second = NodeKey::load_or_create(&nested).expect("reloads");
    assert_eq!(first.kid(), second.kid());
    assert_eq!(first.public_pem(), second.public_pem());
    assert_eq!(fs::read_to_string(&key_path).unwrap(), pem, "not rewritten");

    // Tokens from either verify under the other's public key.
    let token = first.sign(&sample_claims(now()));
    decode(&token).unwrap().verify_signature(second.verifying_key()).unwrap();
}

#[test]
fn kid_format_and_public_pem() {
    let key = NodeKey::generate();
    let kid = key.kid();
    assert_eq!(kid.len(), "node-".len() + 16);
    assert!(kid.starts_with("node-"));
    assert!(kid[5..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert!(key.fingerprint().starts_with(&kid[5..]));
    assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    let parsed = parse_public_key_pem(key.public_pem()).unwrap();
    assert_eq!(&parsed, key.verifying_key());
    let debug = format!("{key:?}");
    assert!(debug.contains(kid) && !debug.contains("PRIVATE"), "{debug}");
}

#[test]
fn existing_data_dir_is_used() {
    let dir = TempDir::new("existing");
    fs::create_dir_all(&dir.0).unwrap();
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o750)).unwrap();
    NodeKey::load_or_create(&dir.0).unwrap();
    assert_eq!(mode_of(&dir.0), 0o750, "existing dir left alone");
}

#[test]
fn group_or_world_accessible_key_file_is_rejected() {
    let dir = TempDir::new("perms");
    let original = NodeKey::load_or_create(&dir.0).unwrap();
    let key_path = dir.0.join(KEY_FILE_NAME);
    for mode in [0o644, 0o640, 0o604, 0o620, 0o660] {
        fs::set_permissions(&key_path, fs::Permissions::from_mode(mode)).unwrap();
        match NodeKey::load_or_create(&dir.0) {
            Err(KeyFileError::InsecurePermissions { path, mode: found }) => {
                assert_eq!(path, key_path);
                assert_eq!(found, mode);
            }
            other => panic!("mode {mode:o}: {other:?}"),
        }
        assert_eq!(mode_of(&key_path), mode, "file not modified");
    }
    let message = {
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o644)).unwrap();
        NodeKey::load_or_create(&dir.0).unwrap_err().to_string()
    };
    assert!(message.contains("0644") && message.contains("chmod 600"), "{message}");

    // Owner-only modes are fine.
    for mode in [0o600, 0o400] {
        fs::set_permissions(&key_path, fs::Permissions::from_mode(mode)).unwrap();
        assert_eq!(NodeKey::load_or_create(&dir.0).unwrap().kid(), original.kid());
    }
}

#[test]
fn invalid_key_files_are_rejected() {
    let dir = TempDir::new("invalid");
    fs::create_dir_all(&dir.0).unwrap();
    let key_path = dir.0.join(KEY_FILE_NAME);
    let p256_pkcs8 = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk7yBKAfwEuAqO4Yk
05Pi8FX06RURedeHv5tf+umSbdahRANCAAR0W5V5cs1mEzGM4DWVaAK+aAu7JwTK
j02k65O3s+EA6pK2PNfpvW4d+OhXd46g/8mFzHrTL/JaRiIULSeXZCt5
-----END PRIVATE KEY-----
";
    let public_only = NodeKey::generate().public_pem().to_owned();
    let huge = "x".repeat(100_000);
    for contents in ["", "garbage", p256_pkcs8, &public_only, &huge] {
        fs::write(&key_path, contents).unwrap();
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
        match NodeKey::load_or_create(&dir.0) {
            Err(KeyFileError::InvalidKey { path, .. }) => assert_eq!(path, key_path),
            other => panic!("{:?}: {other:?}", &contents[..contents.len().min(20)]),
        }
        // Never silently replaced.
        assert_eq!(fs::read_to_string(&key_path).unwrap(), contents);
    }

    fs::remove_file(&key_path).unwrap();
    fs::create_dir(&key_path).unwrap();
    assert!(NodeKey::load_or_create(&dir.0).is_err(), "a directory is not a key");
}

#[test]
fn unusable_data_dir_is_an_error() {
    let dir = TempDir::new("notadir");
    fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("plain-file");
    fs::write(&file, "x").unwrap();
    assert!(matches!(NodeKey::load_or_create(&file), Err(KeyFileError::CreateDir { .. })));
}

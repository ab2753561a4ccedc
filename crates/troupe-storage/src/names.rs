//! Bucket names and object keys, checked before they reach a path or a URL: for the directory
//! backend they become file system paths, so `..` or a `/` in a bucket name must never pass.

use crate::StorageError;

/// Checks a bucket name against S3's general-purpose bucket rules (3–63 characters of
/// lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit, no
/// `..`).
pub fn check_bucket_name(name: &str) -> Result<(), StorageError> {
    let fail = |reason| {
        Err(StorageError::InvalidBucketName { name: name.chars().take(80).collect(), reason })
    };
    if name.len() < 3 || name.len() > 63 {
        return fail("must be 3 to 63 characters long");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return fail("may contain only lowercase letters, digits, '.' and '-'");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return fail("must start and end with a letter or digit");
    }
    if name.contains("..") {
        return fail("must not contain two adjacent periods");
    }
    Ok(())
}

/// The longest key S3 accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks an object key: `/`-separated segments, none empty, `.` or `..`, no control
/// characters, at most 1024 bytes. Stricter than S3, so that every key maps to a file.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let fail =
        |reason| Err(StorageError::InvalidKey { key: key.chars().take(200).collect(), reason });
    if key.is_empty() {
        return fail("must not be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return fail("must be at most 1024 bytes");
    }
    if key.chars().any(|c| c.is_control() || c == '\\') {
        return fail("must not contain control characters or '\\'");
    }
    for segment in key.split('/') {
        match segment {
            "" => return fail("must not have an empty segment (leading, trailing or double '/')"),
            "." | ".." => return fail("must not have a '.' or '..' segment"),
            // object_store's local file system keeps `#` for its staging files.
            s if s.contains('#') => return fail("must not contain '#'"),
            _ => {}
        }
    }
    Ok(())
}

/// The ordering lane of a key: its directory (everything before the last `/`).
pub fn directory_of(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(dir, _)| dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.v2", "a1b", &"a".repeat(63)] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Abc", "a_b", "-ab", "ab-", "a..b", "a/b", "..", &"a".repeat(64), "ab\0c"]
        {
            assert!(check_bucket_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_cannot_escape_or_be_empty() {
        assert!(check_key("a/b/c.mp4").is_ok());
        for bad in
            ["", "/a", "a/", "a//b", "a/../b", "./a", "a\\b", "a\nb", "a#1", &"k".repeat(1025)]
        {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lane_is_the_directory() {
        assert_eq!(directory_of("p/media/hls/high/1.mp4"), "p/media/hls/high");
        assert_eq!(directory_of("top.json"), "");
    }
}

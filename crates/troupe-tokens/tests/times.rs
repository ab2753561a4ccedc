//! `check_times`: expiry, not-yet-valid, lifetime cap.

mod common;

use common::sample_claims;
use troupe_tokens::{TokenError, check_times};

const NOW: i64 = 1_800_000_000;
const LEEWAY: i64 = 30;
const MAX_LIFETIME: i64 = 14 * 24 * 3600;

fn claims(iat: i64, exp: i64, nbf: Option<i64>) -> troupe_tokens::Claims {
    let mut claims = sample_claims(iat);
    claims.exp = exp;
    claims.nbf = nbf;
    claims
}

fn check(iat: i64, exp: i64, nbf: Option<i64>) -> Result<(), TokenError> {
    check_times(&claims(iat, exp, nbf), NOW, LEEWAY, MAX_LIFETIME)
}

#[test]
fn valid_window_passes() {
    check(NOW - 10, NOW + 3600, None).unwrap();
    check(NOW, NOW + MAX_LIFETIME, Some(NOW)).unwrap();
    // Within leeway on both ends.
    check(NOW + LEEWAY, NOW + 3600, None).unwrap();
    check(NOW - 3600, NOW - LEEWAY + 1, None).unwrap();
}

#[test]
fn expired() {
    assert_eq!(
        check(NOW - 7200, NOW - 3600, None),
        Err(TokenError::Expired { exp: NOW - 3600, now: NOW })
    );
    // exp <= now - leeway is expired: the boundary itself.
    assert_eq!(
        check(NOW - 3600, NOW - LEEWAY, None),
        Err(TokenError::Expired { exp: NOW - LEEWAY, now: NOW })
    );
    assert!(check(NOW - 3600, NOW - LEEWAY, None).unwrap_err().is_time_window());
}

#[test]
fn not_yet_valid() {
    assert_eq!(
        check(NOW + LEEWAY + 1, NOW + 3600, None),
        Err(TokenError::NotYetValid { not_before: NOW + LEEWAY + 1, now: NOW })
    );
    assert_eq!(
        check(NOW, NOW + 3600, Some(NOW + 600)),
        Err(TokenError::NotYetValid { not_before: NOW + 600, now: NOW })
    );
    check(NOW, NOW + 3600, Some(NOW + LEEWAY)).unwrap();
}

#[test]
fn lifetime_too_long() {
    assert_eq!(
        check(NOW, NOW + MAX_LIFETIME + 1, None),
        Err(TokenError::LifetimeTooLong { lifetime: MAX_LIFETIME + 1, max: MAX_LIFETIME })
    );
}

#[test]
fn exp_not_after_iat() {
    assert_eq!(check(NOW, NOW, None), Err(TokenError::ExpiresBeforeIssued { iat: NOW, exp: NOW }));
    assert_eq!(
        check(NOW, NOW - 1, None),
        Err(TokenError::ExpiresBeforeIssued { iat: NOW, exp: NOW - 1 })
    );
}

#[test]
fn extreme_values_do_not_overflow() {
    assert!(matches!(
        check(i64::MIN, i64::MAX, None),
        Err(TokenError::LifetimeTooLong { lifetime: i64::MAX, .. })
    ));
    assert!(check_times(&claims(i64::MAX - 1, i64::MAX, None), i64::MAX, i64::MAX, 10).is_ok());
    assert!(check_times(&claims(i64::MIN, i64::MIN + 1, None), i64::MIN, i64::MAX, 10).is_ok());
    assert!(matches!(
        check_times(&claims(i64::MIN, i64::MIN + 1, None), 0, 0, 10),
        Err(TokenError::Expired { .. })
    ));
    // Negative leeway is treated as zero.
    check_times(&claims(NOW, NOW + 1, None), NOW, -100, 10).unwrap();
}

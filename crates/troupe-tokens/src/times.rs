//! The validity window of a token: `exp`, `iat`, optional `nbf`, and a cap
//! on the lifetime `exp - iat`.

use crate::claims::Claims;
use crate::error::TokenError;

/// Checks the time claims against `now_unix`.
///
/// In order, rejects a token that:
/// 1. expires no later than it was issued (`exp <= iat`);
/// 2. lives longer than `max_lifetime_secs` (`exp - iat > max`);
/// 3. has expired (`exp <= now - leeway`);
/// 4. was issued in the future (`iat > now + leeway`);
/// 5. carries an `nbf` in the future (`nbf > now + leeway`).
///
/// A negative `leeway_secs` is treated as zero. Arithmetic saturates, so
/// extreme claim values cannot overflow.
pub fn check_times(
    claims: &Claims,
    now_unix: i64,
    leeway_secs: i64,
    max_lifetime_secs: i64,
) -> Result<(), TokenError> {
    let (exp, iat) = (claims.exp, claims.iat);
    let leeway = leeway_secs.max(0);

    if exp <= iat {
        return Err(TokenError::ExpiresBeforeIssued { iat, exp });
    }
    let lifetime = exp.saturating_sub(iat);
    if lifetime > max_lifetime_secs {
        return Err(TokenError::LifetimeTooLong { lifetime, max: max_lifetime_secs });
    }
    if exp <= now_unix.saturating_sub(leeway) {
        return Err(TokenError::Expired { exp, now: now_unix });
    }
    let latest_start = now_unix.saturating_add(leeway);
    if iat > latest_start {
        return Err(TokenError::NotYetValid { not_before: iat, now: now_unix });
    }
    if let Some(nbf) = claims.nbf
        && nbf > latest_start
    {
        return Err(TokenError::NotYetValid { not_before: nbf, now: now_unix });
    }
    Ok(())
}

//! `nextToken`: opaque to clients, a keyset position to us. The token names the listing it
//! belongs to, so a token from one listing (or one stage's sessions) is refused by another
//! instead of silently skipping rows.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use troupe_store::{Page, PageRequest};

use crate::error::{ApiError, ApiResult};

/// Turns `nextToken` and `maxResults` into a page request for the listing `scope`.
pub fn page_request(
    scope: &str,
    next_token: Option<&str>,
    max_results: Option<i64>,
    default_max: u32,
) -> ApiResult<PageRequest> {
    let limit = match max_results {
        None => default_max,
        Some(n @ 1..=100) => n as u32,
        Some(n) => {
            return Err(ApiError::validation(format!(
                "maxResults must be between 1 and 100 (got {n})"
            )));
        }
    };
    let after = match next_token {
        None | Some("") => None,
        Some(token) => Some(decode(scope, token)?),
    };
    Ok(PageRequest { after, limit })
}

/// The `nextToken` to return with a page, if another page follows.
pub fn next_token<T>(scope: &str, page: &Page<T>) -> Option<String> {
    page.next_after.map(|after| URL_SAFE_NO_PAD.encode(format!("{scope}\n{after}")))
}

fn decode(scope: &str, token: &str) -> ApiResult<i64> {
    let invalid = || ApiError::validation("nextToken is not a token returned by this listing");
    if token.len() > 1024 {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let (token_scope, after) = raw.split_once('\n').ok_or_else(invalid)?;
    if token_scope != scope {
        return Err(invalid());
    }
    after.parse().map_err(|_| invalid())
}

/// A listing's response: `{ <member>: [...], nextToken? }`.
pub fn list_response<T>(
    member: &str,
    scope: &str,
    page: &Page<T>,
    to_json: impl Fn(&T) -> serde_json::Value,
) -> serde_json::Value {
    let items: Vec<serde_json::Value> = page.items.iter().map(to_json).collect();
    let mut out = serde_json::json!({ member: items });
    if let Some(token) = next_token(scope, page) {
        out["nextToken"] = token.into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_scoping() {
        let page = Page { items: vec![1], next_after: Some(42) };
        let token = next_token("stages", &page).unwrap();
        assert_eq!(page_request("stages", Some(&token), None, 50).unwrap().after, Some(42));
        assert!(page_request("publicKeys", Some(&token), None, 50).is_err());
        assert!(page_request("stages", Some("garbage!"), None, 50).is_err());
        assert!(page_request("stages", None, Some(0), 50).is_err());
        assert!(page_request("stages", None, Some(101), 50).is_err());
        assert_eq!(page_request("stages", None, None, 50).unwrap().limit, 50);
    }
}

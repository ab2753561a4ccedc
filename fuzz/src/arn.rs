//! The `arn_and_next_token` harness: resource ARNs and pagination tokens, the two
//! identifiers callers hand back to the control plane.
//!
//! Input format, `\n`-separated: an ARN, a listing scope, `maxResults` (parsed as an `i64`
//! when it is one, else absent), and the rest is the `nextToken` (absent if there is no
//! third newline).
//!
//! Oracles beyond "no panic": an accepted ARN rebuilds to exactly the input and
//! `parse_as` agrees with its type; `maxResults` is accepted exactly in `1..=100`; a
//! decoded token position re-encodes to a token that decodes to the same position.
//!
//! Self-contained on purpose: the smoke tests include this file with `#[path]`.

use troupe_control::arn::{Arn, ArnScope, ResourceType};
use troupe_control::pagination::{next_token, page_request};
use troupe_store::Page;

const RESOURCE_TYPES: [ResourceType; ResourceType::ALL.len()] = ResourceType::ALL;

/// Checks the ARN and the pagination request `data` encodes. Returns whether the ARN and
/// the page request were accepted.
pub fn run(data: &[u8]) -> (bool, bool) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.splitn(4, '\n');
    let arn = fields.next().unwrap_or("");
    let scope = fields.next().unwrap_or("");
    let max_results: Option<i64> = fields.next().and_then(|m| m.parse().ok());
    let token = fields.next();
    (check_arn(arn), check_page(scope, max_results, token))
}

fn check_arn(text: &str) -> bool {
    let parsed = Arn::parse(text, "arn");
    for want in RESOURCE_TYPES {
        let as_type = Arn::parse_as(text, "arn", want);
        match &parsed {
            Ok(arn) => assert_eq!(as_type.is_ok(), arn.resource == want, "{text:?}"),
            Err(_) => assert!(as_type.is_err(), "{text:?}"),
        }
    }
    let Ok(arn) = parsed else {
        return false;
    };
    let scope = ArnScope { region: arn.region.clone(), account: arn.account.clone() };
    assert_eq!(scope.arn(arn.resource, &arn.id), text);
    assert!(scope.owns(&arn));
    true
}

fn check_page(scope: &str, max_results: Option<i64>, token: Option<&str>) -> bool {
    let result = page_request(scope, token, max_results, 50);
    let limit_ok = max_results.is_none_or(|n| (1..=100).contains(&n));
    if !limit_ok {
        assert!(result.is_err(), "maxResults {max_results:?} accepted");
    }
    let Ok(request) = result else {
        assert!(
            !limit_ok || token.is_some_and(|t| !t.is_empty()),
            "rejected without a token: {max_results:?}"
        );
        return false;
    };
    assert_eq!(i64::from(request.limit), max_results.unwrap_or(50), "limit for {max_results:?}");
    if let Some(after) = request.after {
        let page: Page<()> = Page { items: vec![], next_after: Some(after) };
        let again = next_token(scope, &page).expect("a token for a next page");
        let reread = page_request(scope, Some(&again), None, 50).expect("our own token");
        assert_eq!(reread.after, Some(after), "{again:?}");
    }
    true
}

/// ARNs of every type (and a token for each scope the operations use).
pub fn seeds() -> Vec<Vec<u8>> {
    let token = |scope: &str, after: i64| {
        let page: Page<()> = Page { items: vec![], next_after: Some(after) };
        next_token(scope, &page).expect("a token")
    };
    let stage = "arn:aws:ivs:us-east-1:000000000000:stage/AbCdEf012345";
    [
        format!("{stage}\nstages\n10\n{}", token("stages", 42)),
        format!(
            "arn:aws:ivs:us-west-2:123456789012:public-key/k-1\npublicKeys\n\n{}",
            token("publicKeys", 1)
        ),
        format!(
            "arn:aws:ivs:eu-central-1:1:composition/c\nsessions/AbCdEf012345\n100\n{}",
            token("sessions/AbCdEf012345", i64::MAX)
        ),
        format!(
            "arn:aws:ivs:ap-south-1:42:encoder-configuration/e\nparticipants/AbCdEf012345/st-abcdefghijklm\n1\n{}",
            token("participants/AbCdEf012345/st-abcdefghijklm", -7)
        ),
        format!(
            "arn:aws:ivs:us-east-1:0:storage-configuration/s\nevents/AbCdEf012345/st-abcdefghijklm/p1\n\n{}",
            token("events/AbCdEf012345/st-abcdefghijklm/p1", 0)
        ),
        "arn:aws:ivs:us-east-1:000000000000:ingest-configuration/i\nstages\n50".to_owned(),
        format!("{stage}\nstages\n"),
        stage.to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// ARN and token vocabulary worth splicing in.
pub const DICTIONARY: &[&[u8]] = &[
    b"arn:aws:ivs:",
    b":",
    b"/",
    b"\n",
    b"stage/",
    b"public-key/",
    b"composition/",
    b"us-east-1",
    b"000000000000",
    b"-",
    b"0",
    b"101",
    b"-1",
    b"9223372036854775807",
    b"c3RhZ2VzCjQy",
    b"=",
    b"_",
    b"+",
];

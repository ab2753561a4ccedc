//! Timestamps on the wire: ISO-8601 in UTC with milliseconds, which every AWS SDK parses into
//! its date type (the JS SDK into a `Date`).

use time::{OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description};

const ISO_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

pub fn iso8601(t: OffsetDateTime) -> String {
    // Formatting a valid date with a fixed description cannot fail; fall back to RFC 3339 anyway.
    let utc = t.to_offset(UtcOffset::UTC);
    utc.format(ISO_MILLIS).unwrap_or_else(|_| utc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_in_utc() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789).unwrap();
        assert_eq!(iso8601(t), "2026-11-18T11:06:40.123Z");
    }
}

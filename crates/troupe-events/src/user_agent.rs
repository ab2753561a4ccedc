//! Browser and OS names from a User-Agent header, for the participant's record (IVS shows
//! `browserName`, `browserVersion`, `osName`, `osVersion`). Recognizes the common browsers;
//! anything else is recorded as given by its first product token, never guessed.

use troupe_store::ParticipantDetails;

use crate::hub::ClientDetails;

/// The version after `marker` in `ua` (digits and dots).
fn version_after(ua: &str, marker: &str) -> Option<String> {
    let start = ua.find(marker)? + marker.len();
    let version: String =
        ua[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    (!version.is_empty()).then_some(version)
}

fn browser(ua: &str) -> (Option<String>, Option<String>) {
    // Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
    for (marker, name) in [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ] {
        if ua.contains(marker) && (name != "Safari" || ua.contains("Safari/")) {
            return (Some(name.to_string()), version_after(ua, marker));
        }
    }
    let product = ua.split([' ', '/']).next().filter(|p| !p.is_empty());
    (product.map(str::to_string), version_after(ua, "/"))
}

fn os(ua: &str) -> (Option<String>, Option<String>) {
    let dotted = |v: Option<String>| v.map(|v| v.replace('_', "."));
    if ua.contains("Android") {
        (Some("Android".into()), version_after(ua, "Android "))
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        let v = ua.find("OS ").map(|i| {
            ua[i + 3..].chars().take_while(|c| c.is_ascii_digit() || *c == '_').collect::<String>()
        });
        (Some("iOS".into()), dotted(v.filter(|v| !v.is_empty())))
    } else if ua.contains("Windows") {
        (Some("Windows".into()), version_after(ua, "Windows NT "))
    } else if ua.contains("Mac OS X") {
        let v = ua.find("Mac OS X ").map(|i| {
            ua[i + 9..].chars().take_while(|c| c.is_ascii_digit() || *c == '_').collect::<String>()
        });
        (Some("macOS".into()), dotted(v.filter(|v| !v.is_empty())))
    } else if ua.contains("CrOS") {
        (Some("ChromeOS".into()), None)
    } else if ua.contains("Linux") {
        (Some("Linux".into()), None)
    } else {
        (None, None)
    }
}

/// What a participant's record says about its client.
pub fn client_details(user_agent: &str) -> ClientDetails {
    // Bounded: the header is the client's, and only the start matters.
    let ua: String = user_agent.chars().take(512).collect();
    let (browser_name, browser_version) = if ua.is_empty() { (None, None) } else { browser(&ua) };
    let (os_name, os_version) = os(&ua);
    ClientDetails {
        details: ParticipantDetails {
            browser_name,
            browser_version,
            os_name,
            os_version,
            protocol: Some("UNKNOWN".into()),
            ..Default::default()
        },
    }
}

/// What a WHIP request's participant record says about its client: its User-Agent, and
/// protocol `WHIP`.
pub fn whip_client_details(headers: &axum::http::HeaderMap) -> ClientDetails {
    let user_agent =
        headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut client = client_details(user_agent);
    client.details.protocol = Some("WHIP".into());
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.8078.73 Safari/537.36";
        let d = client_details(chrome).details;
        assert_eq!(d.browser_name.as_deref(), Some("Chrome"));
        assert_eq!(d.browser_version.as_deref(), Some("156.0.8078.73"));
        assert_eq!(d.os_name.as_deref(), Some("Linux"));
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        let d = client_details(safari).details;
        assert_eq!(d.browser_name.as_deref(), Some("Safari"));
        assert_eq!((d.os_name.as_deref(), d.os_version.as_deref()), (Some("iOS"), Some("17.4")));
        let d = client_details(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .details;
        assert_eq!(d.browser_name.as_deref(), Some("Firefox"));
        assert_eq!(d.os_name.as_deref(), Some("Windows"));
        let d = client_details("GStreamer/1.22 whipsink").details;
        assert_eq!(d.browser_name.as_deref(), Some("GStreamer"));
        assert_eq!(client_details("").details.browser_name, None);
        // Multi-byte input is cut on a character boundary, never panics.
        let _ = client_details(&"é".repeat(1000));
    }
}

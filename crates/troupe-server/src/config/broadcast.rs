//! The settings of broadcasting to an audience (DESIGN §6): the RTMP ingest port and where
//! storage buckets live (directories under the data directory, or an S3 service).

use super::{ConfigError, err};

/// The default RTMP port (what OBS and ffmpeg assume for `rtmp://host/app/…`).
pub const DEFAULT_RTMP_PORT: u16 = 1935;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastSettings {
    /// RTMP ingest (and RTMPS on the same port when TLS is on); `None` when off.
    pub rtmp_port: Option<u16>,
    /// An S3 (or S3-compatible) endpoint for storage buckets; `None` keeps buckets as
    /// directories `<data-dir>/storage/<bucket>/`. Credentials come from the usual AWS chain.
    pub s3_endpoint: Option<String>,
}

/// The text values of the broadcast keys, as the sources gave them.
pub struct BroadcastValues {
    pub rtmp_port: Option<String>,
    pub s3_endpoint: Option<String>,
}

impl BroadcastSettings {
    pub fn resolve(v: BroadcastValues) -> Result<BroadcastSettings, ConfigError> {
        let rtmp_port = match v.rtmp_port {
            None => Some(DEFAULT_RTMP_PORT),
            Some(text) => {
                let port = text.trim().parse::<u16>().map_err(|_| {
                    err(
                        "rtmp_port",
                        format!("{text:?} is not a port number (0 to 65535; 0 turns RTMP off)"),
                    )
                })?;
                (port != 0).then_some(port)
            }
        };
        let s3_endpoint = match v.s3_endpoint.map(|s| s.trim().trim_end_matches('/').to_string()) {
            None => None,
            Some(url) if url.is_empty() => None,
            Some(url) => {
                let rest = url
                    .strip_prefix("http://")
                    .or_else(|| url.strip_prefix("https://"))
                    .filter(|rest| !rest.is_empty() && !rest.contains(['?', '#', ' ']));
                if rest.is_none() {
                    return Err(err(
                        "s3_endpoint",
                        format!(
                            "{url:?} is not an endpoint URL like https://s3.us-east-1.amazonaws.com \
                             or http://127.0.0.1:9000"
                        ),
                    ));
                }
                Some(url)
            }
        };
        Ok(BroadcastSettings { rtmp_port, s3_endpoint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(rtmp: Option<&str>, s3: Option<&str>) -> BroadcastValues {
        BroadcastValues { rtmp_port: rtmp.map(String::from), s3_endpoint: s3.map(String::from) }
    }

    #[test]
    fn defaults_to_port_1935_and_directories() {
        let s = BroadcastSettings::resolve(values(None, None)).unwrap();
        assert_eq!(s.rtmp_port, Some(1935));
        assert_eq!(s.s3_endpoint, None);
    }

    #[test]
    fn zero_turns_rtmp_off() {
        assert_eq!(BroadcastSettings::resolve(values(Some("0"), None)).unwrap().rtmp_port, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = BroadcastSettings::resolve(values(Some("rtmp"), None)).unwrap_err();
        assert_eq!(e.key, "rtmp_port");
        let e = BroadcastSettings::resolve(values(None, Some("s3.amazonaws.com"))).unwrap_err();
        assert_eq!(e.key, "s3_endpoint");
        assert!(e.message.contains("endpoint URL"), "{}", e.message);
    }

    #[test]
    fn endpoint_loses_its_trailing_slash() {
        let s = BroadcastSettings::resolve(values(None, Some("http://127.0.0.1:9000/"))).unwrap();
        assert_eq!(s.s3_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    }
}

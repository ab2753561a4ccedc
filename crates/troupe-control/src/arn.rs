//! ARNs and generated ids. Troupe's ARNs look exactly like the hosted service's
//! (`arn:aws:ivs:<region>:<account>:stage/<id>`) so that code parsing them keeps working; the
//! region and account are this deployment's configured ones.

use rand::{Rng, distributions::Alphanumeric};

use crate::error::{ApiError, ApiResult};

/// The resource kinds that have ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    Stage,
    PublicKey,
    Composition,
    EncoderConfiguration,
    StorageConfiguration,
    IngestConfiguration,
    Channel,
    StreamKey,
    RecordingConfiguration,
}

impl ResourceType {
    pub const ALL: [ResourceType; 9] = [
        ResourceType::Stage,
        ResourceType::PublicKey,
        ResourceType::Composition,
        ResourceType::EncoderConfiguration,
        ResourceType::StorageConfiguration,
        ResourceType::IngestConfiguration,
        ResourceType::Channel,
        ResourceType::StreamKey,
        ResourceType::RecordingConfiguration,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            ResourceType::Stage => "stage",
            ResourceType::PublicKey => "public-key",
            ResourceType::Composition => "composition",
            ResourceType::EncoderConfiguration => "encoder-configuration",
            ResourceType::StorageConfiguration => "storage-configuration",
            ResourceType::IngestConfiguration => "ingest-configuration",
            ResourceType::Channel => "channel",
            ResourceType::StreamKey => "stream-key",
            ResourceType::RecordingConfiguration => "recording-configuration",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        ResourceType::ALL.into_iter().find(|t| t.prefix() == prefix)
    }

    /// How people call it in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceType::Stage => "stage",
            ResourceType::PublicKey => "public key",
            ResourceType::Composition => "composition",
            ResourceType::EncoderConfiguration => "encoder configuration",
            ResourceType::StorageConfiguration => "storage configuration",
            ResourceType::IngestConfiguration => "ingest configuration",
            ResourceType::Channel => "channel",
            ResourceType::StreamKey => "stream key",
            ResourceType::RecordingConfiguration => "recording configuration",
        }
    }
}

/// A parsed, well-formed IVS ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub region: String,
    pub account: String,
    pub resource: ResourceType,
    pub id: String,
}

impl Arn {
    /// Parses `arn:aws:ivs:<region>:<account>:<type>/<id>`; `field` names the request member in
    /// the error message.
    pub fn parse(s: &str, field: &str) -> ApiResult<Arn> {
        let bad = |why: &str| {
            ApiError::validation(format!("{field}: {s:?} is not a valid IVS ARN ({why})"))
        };
        if s.len() > 128 {
            return Err(bad("longer than 128 characters"));
        }
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some("aws"), Some("ivs"), Some(region), Some(account), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected arn:aws:ivs:<region>:<account>:<type>/<id>"));
        };
        if region.is_empty()
            || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("bad region"));
        }
        if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("bad account id"));
        }
        let Some((prefix, id)) = rest.split_once('/') else {
            return Err(bad("missing resource id"));
        };
        let Some(resource) = ResourceType::from_prefix(prefix) else {
            return Err(bad("unknown resource type"));
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad("bad resource id"));
        }
        Ok(Arn { region: region.into(), account: account.into(), resource, id: id.into() })
    }

    /// Parses and requires a given resource type.
    pub fn parse_as(s: &str, field: &str, want: ResourceType) -> ApiResult<Arn> {
        let arn = Arn::parse(s, field)?;
        if arn.resource != want {
            return Err(ApiError::validation(format!(
                "{field}: {s:?} is a {} ARN, expected a {} ARN",
                arn.resource.noun(),
                want.noun()
            )));
        }
        Ok(arn)
    }
}

/// This deployment's region and account: what goes into every ARN it hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnScope {
    pub region: String,
    pub account: String,
}

impl ArnScope {
    pub fn arn(&self, resource: ResourceType, id: &str) -> String {
        format!("arn:aws:ivs:{}:{}:{}/{}", self.region, self.account, resource.prefix(), id)
    }

    /// Whether an ARN names a resource of this deployment. ARNs of other regions or accounts
    /// are well-formed but name nothing here: callers answer ResourceNotFound.
    pub fn owns(&self, arn: &Arn) -> bool {
        arn.region == self.region && arn.account == self.account
    }
}

fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A resource id (stage, public key, channel, stream key, configuration): 12 alphanumerics,
/// like the hosted service's.
pub fn new_resource_id() -> String {
    random_alphanumeric(12)
}

/// A stage session id: `st-` and 13 alphanumerics.
pub fn new_session_id() -> String {
    format!("st-{}", random_alphanumeric(13))
}

/// A channel's stream id: `st-` and 23 alphanumerics (26 characters, the IVS `StreamId`).
pub fn new_stream_id() -> String {
    format!("st-{}", random_alphanumeric(23))
}

/// A stream key's secret value, shaped like IVS's (`sk_<region>_<random>`): 32 alphanumerics
/// from the thread's CSPRNG, about 190 bits, so that keys cannot be guessed.
pub fn new_stream_key_value(region: &str) -> String {
    format!("sk_{region}_{}", random_alphanumeric(32))
}

/// A participant id (the token's `jti`): 12 alphanumerics.
pub fn new_participant_id() -> String {
    random_alphanumeric(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rebuilds() {
        let scope = ArnScope { region: "us-east-1".into(), account: "123456789012".into() };
        let s = scope.arn(ResourceType::Stage, "abcDEF123456");
        let arn = Arn::parse(&s, "arn").unwrap();
        assert_eq!(arn.id, "abcDEF123456");
        assert_eq!(arn.resource, ResourceType::Stage);
        assert!(scope.owns(&arn));
        let key = scope.arn(ResourceType::PublicKey, "k1");
        assert_eq!(Arn::parse(&key, "arn").unwrap().resource, ResourceType::PublicKey);
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "arn",
            "arn:aws:ivs:us-east-1:123:stage",
            "arn:aws:ivs:us-east-1:123:stage/",
            "arn:aws:s3:us-east-1:123:stage/a",
            "arn:aws:ivs:US:123:stage/a",
            "arn:aws:ivs:us-east-1:12x:stage/a",
            "arn:aws:ivs:us-east-1:123:widget/a",
            "arn:aws:ivs:us-east-1:123:stage/a/b",
            "arn:aws:ivs:us-east-1:123:stage/a:b",
        ] {
            assert!(Arn::parse(s, "arn").is_err(), "{s}");
        }
        let err = Arn::parse_as("arn:aws:ivs:r:1:public-key/a", "stageArn", ResourceType::Stage)
            .unwrap_err();
        assert!(err.message.contains("stageArn"), "{}", err.message);
    }

    #[test]
    fn ids_have_documented_shapes() {
        let s = new_session_id();
        assert_eq!(s.len(), 16);
        assert!(s.starts_with("st-"));
        assert_eq!(new_resource_id().len(), 12);
        let stream = new_stream_id();
        assert_eq!(stream.len(), 26);
        assert!(stream.starts_with("st-"));
        let key = new_stream_key_value("us-east-1");
        assert!(key.starts_with("sk_us-east-1_") && key.len() == 13 + 32, "{key}");
        assert_ne!(key, new_stream_key_value("us-east-1"));
    }

    #[test]
    fn broadcast_arns() {
        for (prefix, want) in [
            ("channel", ResourceType::Channel),
            ("stream-key", ResourceType::StreamKey),
            ("recording-configuration", ResourceType::RecordingConfiguration),
            ("storage-configuration", ResourceType::StorageConfiguration),
        ] {
            let arn =
                Arn::parse(&format!("arn:aws:ivs:us-west-2:1:{prefix}/AbC12"), "arn").unwrap();
            assert_eq!(arn.resource, want);
        }
    }
}

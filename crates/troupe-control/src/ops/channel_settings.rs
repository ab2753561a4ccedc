//! The members of CreateChannel and UpdateChannel that configure a channel, checked against
//! the `ivs` model (enums, patterns, which combinations IVS allows) and applied over a
//! channel's current settings, with IVS's defaults for what a create leaves out.

use serde::Deserialize;
use serde_json::json;
use troupe_store::ChannelSettings;

use crate::{
    error::{ApiError, ApiResult},
    request::check_name,
};

const LATENCY_MODES: &[&str] = &["NORMAL", "LOW"];
const CHANNEL_TYPES: &[&str] = &["BASIC", "STANDARD", "ADVANCED_SD", "ADVANCED_HD"];
const PRESETS: &[&str] = &["HIGHER_BANDWIDTH_DELIVERY", "CONSTRAINED_BANDWIDTH_DELIVERY"];
const CONTAINER_FORMATS: &[&str] = &["TS", "FRAGMENTED_MP4"];
const MULTITRACK_POLICIES: &[&str] = &["ALLOW", "REQUIRE"];
const MULTITRACK_RESOLUTIONS: &[&str] = &["SD", "HD", "FULL_HD"];

/// `multitrackInputConfiguration` as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MultitrackRequest {
    enabled: Option<bool>,
    policy: Option<String>,
    maximum_resolution: Option<String>,
}

/// The configuring members, shared by CreateChannel and UpdateChannel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChannelMembers {
    pub name: Option<String>,
    pub latency_mode: Option<String>,
    #[serde(rename = "type")]
    pub channel_type: Option<String>,
    pub authorized: Option<bool>,
    pub insecure_ingest: Option<bool>,
    pub preset: Option<String>,
    pub recording_configuration_arn: Option<String>,
    pub playback_restriction_policy_arn: Option<String>,
    pub multitrack_input_configuration: Option<MultitrackRequest>,
    pub container_format: Option<String>,
    pub ad_configuration_arn: Option<String>,
    pub failover_slate_configuration_arn: Option<String>,
}

fn one_of(value: &str, allowed: &[&str], field: &str) -> ApiResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(ApiError::validation(format!("{field}: {value:?} is not one of {}", allowed.join(", "))))
}

fn is_advanced(channel_type: &str) -> bool {
    channel_type.starts_with("ADVANCED_")
}

/// What a channel is when CreateChannel sets nothing: IVS's documented defaults.
pub(crate) fn default_settings() -> ChannelSettings {
    ChannelSettings {
        latency_mode: "LOW".into(),
        channel_type: "STANDARD".into(),
        authorized: false,
        insecure_ingest: false,
        preset: String::new(),
        container_format: "TS".into(),
        playback_restriction_policy_arn: String::new(),
        multitrack_input_configuration: Some(json!({
            "enabled": false,
            "policy": "ALLOW",
            "maximumResolution": "FULL_HD",
        })),
    }
}

impl ChannelMembers {
    /// Checks the name, when given.
    pub fn checked_name(&self) -> ApiResult<Option<String>> {
        if let Some(name) = &self.name {
            check_name(name, "name")?;
        }
        Ok(self.name.clone())
    }

    /// Applies the given members over `current` and checks the result as a whole (a preset
    /// needs an ADVANCED type, multitrack needs fMP4, ...). ARN members that name resources
    /// Troupe does not have are refused here; `recordingConfigurationArn` is resolved by the
    /// caller.
    pub fn apply(&self, current: &ChannelSettings) -> ApiResult<ChannelSettings> {
        let mut s = current.clone();
        if let Some(mode) = &self.latency_mode {
            one_of(mode, LATENCY_MODES, "latencyMode")?;
            s.latency_mode = mode.clone();
        }
        if let Some(channel_type) = &self.channel_type {
            one_of(channel_type, CHANNEL_TYPES, "type")?;
            if *channel_type != s.channel_type && self.preset.is_none() {
                // A new type brings its own default preset.
                s.preset = if is_advanced(channel_type) {
                    "HIGHER_BANDWIDTH_DELIVERY".into()
                } else {
                    String::new()
                };
            }
            s.channel_type = channel_type.clone();
        } else if is_advanced(&s.channel_type) && s.preset.is_empty() {
            s.preset = "HIGHER_BANDWIDTH_DELIVERY".into();
        }
        if let Some(preset) = &self.preset {
            if !preset.is_empty() {
                one_of(preset, PRESETS, "preset")?;
                if !is_advanced(&s.channel_type) {
                    return Err(ApiError::validation(format!(
                        "preset: a transcode preset applies only to ADVANCED_SD and ADVANCED_HD \
                         channels (this one is {})",
                        s.channel_type
                    )));
                }
            } else if is_advanced(&s.channel_type) {
                s.preset = "HIGHER_BANDWIDTH_DELIVERY".into();
            }
            if !preset.is_empty() {
                s.preset = preset.clone();
            }
        }
        if let Some(authorized) = self.authorized {
            if authorized {
                // Saying yes would let people believe their playback is private.
                return Err(ApiError::validation(
                    "authorized: Troupe does not support playback authorization; \
                     channels are public (set authorized to false)",
                ));
            }
            s.authorized = false;
        }
        if let Some(insecure) = self.insecure_ingest {
            s.insecure_ingest = insecure;
        }
        if let Some(format) = &self.container_format {
            one_of(format, CONTAINER_FORMATS, "containerFormat")?;
            s.container_format = format.clone();
        }
        if let Some(multitrack) = &self.multitrack_input_configuration {
            let policy = multitrack.policy.clone().unwrap_or_else(|| "ALLOW".into());
            one_of(&policy, MULTITRACK_POLICIES, "multitrackInputConfiguration.policy")?;
            let resolution =
                multitrack.maximum_resolution.clone().unwrap_or_else(|| "FULL_HD".into());
            one_of(
                &resolution,
                MULTITRACK_RESOLUTIONS,
                "multitrackInputConfiguration.maximumResolution",
            )?;
            if multitrack.enabled == Some(true) {
                return Err(ApiError::validation(
                    "multitrackInputConfiguration.enabled: Troupe does not support multitrack \
                     input; send one video track",
                ));
            }
            s.multitrack_input_configuration = Some(json!({
                "enabled": false,
                "policy": policy,
                "maximumResolution": resolution,
            }));
        }
        for (field, value, what) in [
            (
                "playbackRestrictionPolicyArn",
                &self.playback_restriction_policy_arn,
                "playback restriction policies",
            ),
            ("adConfigurationArn", &self.ad_configuration_arn, "ad configurations"),
            (
                "failoverSlateConfigurationArn",
                &self.failover_slate_configuration_arn,
                "failover slate configurations",
            ),
        ] {
            if let Some(arn) = value.as_deref().filter(|a| !a.is_empty()) {
                if !arn.starts_with("arn:aws:ivs:") || arn.len() > 128 {
                    return Err(ApiError::validation(format!(
                        "{field}: {arn:?} is not an IVS ARN"
                    )));
                }
                return Err(ApiError::not_found(format!(
                    "{field}: {arn} not found (Troupe has no {what})"
                )));
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(json: serde_json::Value) -> ChannelMembers {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn defaults_follow_ivs() {
        let s = members(json!({})).apply(&default_settings()).unwrap();
        assert_eq!((s.latency_mode.as_str(), s.channel_type.as_str()), ("LOW", "STANDARD"));
        assert_eq!((s.preset.as_str(), s.container_format.as_str()), ("", "TS"));
        assert!(!s.authorized && !s.insecure_ingest);
    }

    #[test]
    fn advanced_types_get_a_preset_and_others_refuse_one() {
        let s = members(json!({"type": "ADVANCED_HD"})).apply(&default_settings()).unwrap();
        assert_eq!(s.preset, "HIGHER_BANDWIDTH_DELIVERY");
        let s = members(json!({"type": "BASIC"})).apply(&s).unwrap();
        assert_eq!(s.preset, "", "back to a type without presets");
        let err = members(json!({"preset": "CONSTRAINED_BANDWIDTH_DELIVERY"}))
            .apply(&default_settings())
            .unwrap_err();
        assert!(err.message.starts_with("preset:"), "{}", err.message);
        let s = members(json!({"type": "ADVANCED_SD", "preset": "CONSTRAINED_BANDWIDTH_DELIVERY"}))
            .apply(&default_settings())
            .unwrap();
        assert_eq!(s.preset, "CONSTRAINED_BANDWIDTH_DELIVERY");
    }

    #[test]
    fn bad_values_name_their_member() {
        for (body, field) in [
            (json!({"latencyMode": "FAST"}), "latencyMode"),
            (json!({"type": "PREMIUM"}), "type"),
            (json!({"containerFormat": "MKV"}), "containerFormat"),
            (json!({"authorized": true}), "authorized"),
            (
                json!({"multitrackInputConfiguration": {"enabled": true}}),
                "multitrackInputConfiguration",
            ),
            (
                json!({"multitrackInputConfiguration": {"policy": "MAYBE"}}),
                "multitrackInputConfiguration.policy",
            ),
            (json!({"playbackRestrictionPolicyArn": "nope"}), "playbackRestrictionPolicyArn"),
        ] {
            let err = members(body.clone()).apply(&default_settings()).unwrap_err();
            assert!(err.message.starts_with(field), "{body}: {}", err.message);
        }
        let err = members(json!({
            "adConfigurationArn": "arn:aws:ivs:us-east-1:1:ad-configuration/x"
        }))
        .apply(&default_settings())
        .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorType::ResourceNotFound);
        assert!(members(json!({"name": "has space"})).checked_name().is_err());
    }
}

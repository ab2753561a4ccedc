//! `troupe token`: mint a participant token against the node's own store and key.

use troupe_control::{TokenRequest, arn::Arn};

use crate::{cli::TokenArgs, node, node::Failure};

/// Parses `720m`, `12h`, `14d` or a bare number of minutes.
fn parse_duration(value: &str) -> Result<i64, String> {
    let v = value.trim();
    let (number, unit) = match v.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&v[..i], c.to_ascii_lowercase()),
        _ => (v, 'm'),
    };
    let n: i64 = number.parse().map_err(|_| {
        format!("--duration {value:?}: expected minutes, or a number with m, h or d")
    })?;
    let minutes = match unit {
        'm' => n,
        'h' => n.saturating_mul(60),
        'd' => n.saturating_mul(60 * 24),
        other => {
            return Err(format!("--duration {value:?}: unknown unit {other:?} (use m, h or d)"));
        }
    };
    Ok(minutes)
}

fn parse_attributes(list: &[String]) -> Result<std::collections::BTreeMap<String, String>, String> {
    list.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--attr {kv:?}: expected KEY=VALUE"))
        })
        .collect()
}

pub async fn run(args: TokenArgs) -> Result<(), Failure> {
    let settings = node::load_settings(&args.config)?;
    let duration = parse_duration(&args.duration).map_err(Failure::other)?;
    let attributes = parse_attributes(&args.attributes).map_err(Failure::other)?;
    let node = node::open(settings).await?;
    let plane = &node.plane;

    let stage_arn = if args.stage.starts_with("arn:") {
        Arn::parse(&args.stage, "--stage").map_err(|e| Failure::other(e.message))?;
        args.stage.clone()
    } else {
        let stage = plane
            .stage_by_name(&args.stage, args.create)
            .await
            .map_err(|e| Failure::other(e.message))?;
        plane.stage_arn(&stage.id)
    };

    let mut capabilities = Vec::new();
    if args.publish {
        capabilities.push("PUBLISH".to_string());
    }
    if args.subscribe {
        capabilities.push("SUBSCRIBE".to_string());
    }
    let request = TokenRequest {
        duration: Some(duration),
        user_id: args.user.clone(),
        attributes: Some(attributes),
        capabilities: (!capabilities.is_empty()).then_some(capabilities),
    };
    let minted =
        plane.issue_token(&stage_arn, &request).await.map_err(|e| Failure::other(e.message))?;
    if args.json {
        let body = serde_json::json!({ "stageArn": stage_arn, "participantToken": minted.json() });
        println!("{}", serde_json::to_string_pretty(&body).unwrap_or_default());
    } else {
        println!("{}", minted.token);
    }
    plane.store().close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("720m"), Ok(720));
        assert_eq!(parse_duration("12h"), Ok(720));
        assert_eq!(parse_duration("14d"), Ok(20160));
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("5s").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn attributes() {
        let a = parse_attributes(&["a=1".into(), "b=x=y".into()]).unwrap();
        assert_eq!(a["b"], "x=y");
        assert!(parse_attributes(&["novalue".into()]).is_err());
        assert!(parse_attributes(&["=v".into()]).is_err());
    }
}

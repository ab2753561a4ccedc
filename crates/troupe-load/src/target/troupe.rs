//! Signaling with Troupe: the IVS control plane (SigV4) creates stages and participant tokens,
//! WHIP carries the offers (`POST /whip` to publish, `POST /whip/subscribe/{participant}` for
//! one subscription) and ends the sessions (`DELETE` on their `Location`).

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::sigv4::{self, Credentials};
use crate::http::{self, Client};

pub struct TroupeApi {
    client: Client,
    host: String,
    base: String,
    creds: std::sync::Arc<Credentials>,
}

/// What a WHIP POST brought back.
pub struct Answered {
    pub answer: String,
    pub location: String,
    pub ice_servers: Vec<crate::turn_link::IceServer>,
}

/// A participant token and the participant it names.
#[derive(Debug, Clone)]
pub struct Participant {
    pub token: String,
    pub id: String,
}

impl TroupeApi {
    pub fn new(url: &str, creds: std::sync::Arc<Credentials>) -> Result<Self> {
        let (addr, host, base) = http::parse_url(url)?;
        Ok(TroupeApi { client: Client::new(addr, &host), host, base, creds })
    }

    /// Calls an IVS operation; a refusal comes back as an error with the server's message.
    pub fn call(&mut self, operation: &str, body: &Value) -> Result<Value> {
        let path = format!("{}/{operation}", self.base);
        let body = serde_json::to_vec(body)?;
        let (date, authorization) =
            sigv4::sign(&self.creds, &self.host, &path, &body, time::OffsetDateTime::now_utc());
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Amz-Date", date.as_str()),
            ("Authorization", authorization.as_str()),
        ];
        let response = self.client.request("POST", &path, &headers, &body)?;
        if response.status != 200 {
            bail!(
                "{operation} answered {}: {} (is --url a Troupe server, and are the credentials right?)",
                response.status,
                http::truncate(&response.text(), 300)
            );
        }
        response.json()
    }

    pub fn create_stage(&mut self, name: &str) -> Result<String> {
        let created = self.call("CreateStage", &json!({ "name": name }))?;
        created["stage"]["arn"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| anyhow!("CreateStage gave no ARN"))
    }

    pub fn create_token(
        &mut self,
        stage_arn: &str,
        user: &str,
        publish: bool,
    ) -> Result<Participant> {
        let capabilities =
            if publish { json!(["PUBLISH", "SUBSCRIBE"]) } else { json!(["SUBSCRIBE"]) };
        let body = json!({ "stageArn": stage_arn, "userId": user, "capabilities": capabilities, "duration": 720 });
        let created = self.call("CreateParticipantToken", &body)?;
        let token = &created["participantToken"];
        Ok(Participant {
            token: token["token"]
                .as_str()
                .context("no token in CreateParticipantToken's answer")?
                .into(),
            id: token["participantId"].as_str().context("no participantId")?.into(),
        })
    }

    /// A WHIP POST: the answer, the session's `Location`, and the ICE servers of its `Link`
    /// headers.
    pub fn whip(&mut self, path: &str, token: &str, offer: &str) -> Result<Answered> {
        let path = format!("{}{path}", self.base);
        let bearer = format!("Bearer {token}");
        let headers = [("Content-Type", "application/sdp"), ("Authorization", bearer.as_str())];
        let response = self.client.request("POST", &path, &headers, offer.as_bytes())?;
        if response.status != 201 {
            bail!(
                "POST {path} answered {}: {}",
                response.status,
                http::truncate(&response.text(), 300)
            );
        }
        let location = response.header("location").unwrap_or_default().to_string();
        let links = response
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
            .map(|(_, v)| v.as_str());
        let ice_servers = crate::turn_link::parse_links(links);
        Ok(Answered { answer: response.text(), location, ice_servers })
    }

    /// Ends a WHIP session (best effort: the run is over either way).
    pub fn end(&mut self, location: &str, token: &str) {
        if location.is_empty() {
            return;
        }
        let bearer = format!("Bearer {token}");
        let _ = self.client.request(
            "DELETE",
            &format!("{}{location}", self.base),
            &[("Authorization", bearer.as_str())],
            b"",
        );
    }
}

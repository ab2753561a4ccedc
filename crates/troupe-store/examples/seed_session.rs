//! Writes a stage session with participants and events through the `Store` API, the way the
//! media plane will, so that tests of the read operations (ListStageSessions, GetParticipant,
//! ListParticipants, ListParticipantEvents) run over rows written by the real store code.
//!
//! Usage: seed_session <store-url> <stage-id> <participants> [--ended]
//! Prints `{"sessionId": ..., "participants": [{participantId, userId, published, state}]}`.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};
use troupe_store::{
    EventDetails, EventRecord, ParticipantDetails, ParticipantRecord, ParticipantState,
};

fn random_suffix(n: usize) -> String {
    // Time-derived, unique enough for a fixture; avoids a rand dependency in this crate.
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() as u128;
    let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let mut x = nanos ^ (std::process::id() as u128) << 64;
    (0..n)
        .map(|_| {
            let c = alphabet[(x % alphabet.len() as u128) as usize];
            x /= alphabet.len() as u128;
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            c
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: seed_session <store-url> <stage-id> <participants> [--ended]".into());
    }
    let (url, stage_id) = (&args[1], &args[2]);
    let count: usize = args[3].parse()?;
    let ended = args.iter().any(|a| a == "--ended");
    let store = troupe_store::open(url).await?;

    let start = OffsetDateTime::now_utc() - Duration::minutes(10);
    let session_id = format!("st-{}", random_suffix(13));
    let session = store.start_session(stage_id, &session_id, start).await?;
    let mut out = Vec::new();
    for i in 0..count {
        let participant_id = format!("p{i}{}", random_suffix(8));
        let published = i % 2 == 0;
        let state =
            if i % 3 == 2 { ParticipantState::Disconnected } else { ParticipantState::Connected };
        let joined = start + Duration::seconds(i as i64);
        let mut attributes = BTreeMap::new();
        attributes.insert("seat".to_string(), i.to_string());
        let record = ParticipantRecord {
            seq: 0,
            stage_id: stage_id.clone(),
            session_id: session.session_id.clone(),
            participant_id: participant_id.clone(),
            user_id: Some(format!("user-{}", i % 4)),
            state,
            first_join_time: joined,
            attributes,
            published,
            recording_state: "DISABLED".into(),
            details: ParticipantDetails {
                protocol: Some("WHIP".into()),
                browser_name: Some("Chromium".into()),
                sdk_version: Some("troupe-fixture".into()),
                ..Default::default()
            },
        };
        store.upsert_participant(&record).await?;
        let mut names = vec!["JOINED"];
        if published {
            names.push("PUBLISH_STARTED");
        }
        names.push("SUBSCRIBE_STARTED");
        if state == ParticipantState::Disconnected {
            names.push("LEFT");
        }
        for (k, name) in names.iter().enumerate() {
            let details = EventDetails {
                remote_participant_id: (*name == "SUBSCRIBE_STARTED")
                    .then(|| "p0remote".to_string()),
                ..Default::default()
            };
            store
                .append_event(&EventRecord {
                    seq: 0,
                    stage_id: stage_id.clone(),
                    session_id: session.session_id.clone(),
                    participant_id: participant_id.clone(),
                    name: name.to_string(),
                    event_time: joined + Duration::milliseconds(k as i64 * 100),
                    details,
                })
                .await?;
        }
        out.push(serde_json::json!({
            "participantId": participant_id,
            "userId": format!("user-{}", i % 4),
            "published": published,
            "state": state.as_str(),
            "events": names,
        }));
    }
    if ended {
        store.end_session(stage_id, &session.session_id, OffsetDateTime::now_utc()).await?;
    }
    store.close().await;
    println!("{}", serde_json::json!({ "sessionId": session.session_id, "participants": out }));
    Ok(())
}

//! Signaling with Janus (the VideoRoom plugin over its HTTP API), so that the same peers load
//! both servers: one Janus session for the run, whose events a thread long-polls
//! (`GET /janus/{session}?maxev=…`, which also keeps the session alive) and hands to the
//! request that waits for them by transaction. A room per stage; a publisher is a handle that
//! `joinandconfigure`s with its offer; a subscription is a handle that `join`s as a subscriber
//! to one feed, answers Janus's offer and `start`s — one PeerConnection per subscription, as
//! with Troupe.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::http::{self, Client};

/// How long an asynchronous answer (an SDP, a join) may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

pub struct JanusSession {
    addr: SocketAddr,
    host: String,
    base: String,
    session: u64,
    next_transaction: AtomicU64,
    events: Mutex<HashMap<String, Value>>,
    arrived: Condvar,
    stopped: AtomicBool,
}

/// A connection of one signaling thread to the session.
pub struct JanusClient {
    session: Arc<JanusSession>,
    client: Client,
}

impl JanusSession {
    /// Creates the session and starts polling its events.
    pub fn start(url: &str) -> Result<Arc<JanusSession>> {
        let (addr, host, base) = http::parse_url(url)?;
        let base = if base.is_empty() { "/janus".to_string() } else { base };
        let mut client = Client::new(addr, &host);
        let created = post(
            &mut client,
            &base,
            &json!({ "janus": "create", "transaction": "create" }),
        )
        .context(
            "creating a Janus session (is --url a Janus HTTP API, e.g. http://127.0.0.1:8088?)",
        )?;
        let session = created["data"]["id"]
            .as_u64()
            .ok_or_else(|| anyhow!("Janus gave no session id: {created}"))?;
        let janus = Arc::new(JanusSession {
            addr,
            host,
            base,
            session,
            next_transaction: AtomicU64::new(1),
            events: Mutex::new(HashMap::new()),
            arrived: Condvar::new(),
            stopped: AtomicBool::new(false),
        });
        let poller = janus.clone();
        std::thread::Builder::new()
            .name("janus-events".into())
            .spawn(move || poller.poll_events())?;
        Ok(janus)
    }

    pub fn client(self: &Arc<Self>) -> JanusClient {
        JanusClient { session: self.clone(), client: Client::new(self.addr, &self.host) }
    }

    /// Ends the session (and with it every handle and PeerConnection).
    pub fn destroy(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        let mut client = Client::new(self.addr, &self.host);
        let path = format!("{}/{}", self.base, self.session);
        let _ = post(&mut client, &path, &json!({ "janus": "destroy", "transaction": "destroy" }));
    }

    fn poll_events(&self) {
        let mut client = Client::new(self.addr, &self.host);
        let path = format!("{}/{}?maxev=50", self.base, self.session);
        while !self.stopped.load(Ordering::Relaxed) {
            let events = match client.request("GET", &path, &[], b"").and_then(|r| r.json()) {
                Ok(Value::Array(events)) => events,
                Ok(event) => vec![event],
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
            let mut waiting = self.events.lock().unwrap_or_else(|p| p.into_inner());
            for event in events {
                if let Some(transaction) = event["transaction"].as_str() {
                    waiting.insert(transaction.to_string(), event);
                }
            }
            self.arrived.notify_all();
        }
    }

    fn wait_for(&self, transaction: &str) -> Result<Value> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(event) = events.remove(transaction) {
                return Ok(event);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("Janus did not answer within {} s", ANSWER_TIMEOUT.as_secs());
            }
            events = self
                .arrived
                .wait_timeout(events, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

fn post(client: &mut Client, path: &str, body: &Value) -> Result<Value> {
    let response = client.request(
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )?;
    if response.status != 200 {
        bail!("Janus answered {}: {}", response.status, http::truncate(&response.text(), 300));
    }
    let value = response.json()?;
    if value["janus"] == "error" {
        bail!("Janus refused: {}", value["error"]["reason"].as_str().unwrap_or("(no reason)"));
    }
    Ok(value)
}

impl JanusClient {
    /// Attaches a new VideoRoom handle.
    pub fn attach(&mut self) -> Result<u64> {
        let path = format!("{}/{}", self.session.base, self.session.session);
        let body = json!({ "janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": self.transaction() });
        let attached = post(&mut self.client, &path, &body)?;
        attached["data"]["id"]
            .as_u64()
            .ok_or_else(|| anyhow!("Janus gave no handle id: {attached}"))
    }

    /// Creates a room for a stage: up to 12 publishers, Opus and H.264 constrained baseline.
    pub fn create_room(&mut self, room: u64) -> Result<()> {
        let handle = self.attach()?;
        let body = json!({
            "request": "create", "room": room, "publishers": 12,
            "audiocodec": "opus", "videocodec": "h264", "h264_profile": "42e01f",
            "bitrate": 0, "fir_freq": 0, "notify_joining": false,
        });
        let data = self.message(handle, body, None)?.0;
        if data["videoroom"] != "created" {
            bail!("creating room {room}: {data}");
        }
        Ok(())
    }

    /// Publishes into a room: Janus's answer and the feed id subscribers name.
    pub fn publish(&mut self, room: u64, display: &str, offer: &str) -> Result<(String, u64)> {
        let handle = self.attach()?;
        let body = json!({ "request": "joinandconfigure", "ptype": "publisher", "room": room, "display": display });
        let jsep = json!({ "type": "offer", "sdp": offer });
        let (data, jsep) = self.message(handle, body, Some(jsep))?;
        let feed = data["id"].as_u64().ok_or_else(|| anyhow!("joining room {room}: {data}"))?;
        let answer = jsep.and_then(|j| j["sdp"].as_str().map(String::from));
        Ok((answer.ok_or_else(|| anyhow!("Janus sent no answer to the publisher's offer"))?, feed))
    }

    /// Subscribes to a feed: the handle and Janus's offer (answer it with [`Self::start`]).
    pub fn subscribe(&mut self, room: u64, feed: u64) -> Result<(u64, String)> {
        let handle = self.attach()?;
        let body = json!({ "request": "join", "ptype": "subscriber", "room": room, "streams": [{ "feed": feed }] });
        let (data, jsep) = self.message(handle, body, None)?;
        let offer = jsep.and_then(|j| j["sdp"].as_str().map(String::from));
        offer
            .map(|o| (handle, o))
            .ok_or_else(|| anyhow!("subscribing to feed {feed}: no offer ({data})"))
    }

    pub fn start(&mut self, handle: u64, answer: &str) -> Result<()> {
        let jsep = json!({ "type": "answer", "sdp": answer });
        self.message(handle, json!({ "request": "start" }), Some(jsep)).map(|_| ())
    }

    /// Sends a plugin message and returns the plugin's answer (synchronous, or the event
    /// that carries it) and the JSEP that came with it.
    fn message(
        &mut self,
        handle: u64,
        body: Value,
        jsep: Option<Value>,
    ) -> Result<(Value, Option<Value>)> {
        let transaction = self.transaction();
        let mut request = json!({ "janus": "message", "transaction": transaction, "body": body });
        if let Some(jsep) = jsep {
            request["jsep"] = jsep;
        }
        let path = format!("{}/{}/{handle}", self.session.base, self.session.session);
        let first = post(&mut self.client, &path, &request)?;
        let answer =
            if first["janus"] == "ack" { self.session.wait_for(&transaction)? } else { first };
        let data = answer["plugindata"]["data"].clone();
        if let Some(error) = data["error"].as_str() {
            bail!("the VideoRoom refused: {error}");
        }
        let jsep = answer.get("jsep").cloned();
        Ok((data, jsep))
    }

    fn transaction(&self) -> String {
        format!("t{}", self.session.next_transaction.fetch_add(1, Ordering::Relaxed))
    }
}

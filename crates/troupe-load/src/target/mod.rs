//! The servers the tool loads, behind one interface: the same peers (str0m) join a stage
//! either way; only signaling differs — Troupe's IVS API and WHIP ([`troupe`]), or Janus's
//! VideoRoom ([`janus`]).

pub mod janus;
pub mod sigv4;
pub mod troupe;

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::Result;

use crate::{
    cli,
    peer::{Media, Peer, Role},
};

/// A server for the run: what every signaling thread connects to.
#[derive(Clone)]
pub enum Target {
    Troupe { url: String, creds: Arc<sigv4::Credentials> },
    Janus { session: Arc<janus::JanusSession> },
}

/// A stage as the server knows it.
#[derive(Debug, Clone)]
pub enum StageRef {
    Troupe { arn: String },
    Janus { room: u64 },
}

/// A publishing host, as subscriptions name it; for Troupe also the host's token (a host
/// subscribes to the others with its own).
#[derive(Debug, Clone)]
pub enum PublisherRef {
    Troupe { participant: troupe::Participant },
    Janus { room: u64, feed: u64 },
}

/// Who subscribes: a host (with its token) or a subscribe-only viewer.
#[derive(Debug, Clone)]
pub enum Viewer {
    Troupe { participant: troupe::Participant },
    Janus,
}

/// Sessions to end when the run is over (Troupe: WHIP DELETE; Janus: the session goes).
#[derive(Default)]
pub struct Sessions {
    whip: Mutex<Vec<(String, String)>>,
}

pub enum Signaler {
    Troupe(troupe::TroupeApi),
    Janus(janus::JanusClient),
}

impl Target {
    pub fn connect(args: &cli::Args) -> Result<Target> {
        Ok(match args.target {
            cli::Target::Troupe => {
                let creds = Arc::new(sigv4::Credentials {
                    access_key_id: args.access_key_id.clone(),
                    secret_access_key: args.secret_access_key.clone(),
                    region: args.region.clone(),
                });
                let target = Target::Troupe { url: args.url.clone(), creds };
                // Fail early, with a clear message, if the server is not there or refuses.
                if let Signaler::Troupe(api) = &mut target.signaler()? {
                    api.call("ListStages", &serde_json::json!({ "maxResults": 1 }))?;
                }
                target
            }
            cli::Target::Janus => Target::Janus { session: janus::JanusSession::start(&args.url)? },
        })
    }

    pub fn signaler(&self) -> Result<Signaler> {
        Ok(match self {
            Target::Troupe { url, creds } => {
                Signaler::Troupe(troupe::TroupeApi::new(url, creds.clone())?)
            }
            Target::Janus { session } => Signaler::Janus(session.client()),
        })
    }

    /// Ends what the run started on the server.
    pub fn finish(&self, sessions: &Sessions) -> Result<()> {
        match self {
            Target::Troupe { .. } => {
                let whip =
                    std::mem::take(&mut *sessions.whip.lock().unwrap_or_else(|p| p.into_inner()));
                if let Signaler::Troupe(api) = &mut self.signaler()? {
                    for (location, token) in whip {
                        api.end(&location, &token);
                    }
                }
            }
            Target::Janus { session } => session.destroy(),
        }
        Ok(())
    }
}

impl Signaler {
    /// Creates stage number `index` of the run.
    pub fn create_stage(&mut self, run: &str, index: usize) -> Result<StageRef> {
        Ok(match self {
            Signaler::Troupe(api) => {
                StageRef::Troupe { arn: api.create_stage(&format!("{run}-{index}"))? }
            }
            Signaler::Janus(client) => {
                // Rooms numbered from the process id so that runs against one Janus differ.
                let room = u64::from(std::process::id()) * 1000 + index as u64;
                client.create_room(room)?;
                StageRef::Janus { room }
            }
        })
    }

    /// A host who publishes (and, for Troupe, may subscribe with the same token).
    pub fn publish(
        &mut self,
        stage: &StageRef,
        name: &str,
        video: bool,
        media: &Arc<Media>,
        group: usize,
        sessions: &Sessions,
    ) -> Result<(Peer, PublisherRef)> {
        let (mut peer, offer) = Peer::offer(Role::Publish { video }, media, group)?;
        match (self, stage) {
            (Signaler::Troupe(api), StageRef::Troupe { arn }) => {
                let participant = api.create_token(arn, name, true)?;
                peer.started = Instant::now();
                let answered = api.whip("/whip", &participant.token, &offer)?;
                peer.accept(&answered.answer, &answered.ice_servers)?;
                remember(sessions, answered.location, &participant.token);
                Ok((peer, PublisherRef::Troupe { participant }))
            }
            (Signaler::Janus(client), StageRef::Janus { room }) => {
                peer.started = Instant::now();
                let (answer, feed) = client.publish(*room, name, &offer)?;
                peer.accept(&answer, &[])?;
                Ok((peer, PublisherRef::Janus { room: *room, feed }))
            }
            _ => anyhow::bail!("a stage of another target"),
        }
    }

    /// A subscribe-only viewer of a stage.
    pub fn viewer(&mut self, stage: &StageRef, name: &str) -> Result<Viewer> {
        Ok(match (self, stage) {
            (Signaler::Troupe(api), StageRef::Troupe { arn }) => {
                Viewer::Troupe { participant: api.create_token(arn, name, false)? }
            }
            _ => Viewer::Janus,
        })
    }

    /// One subscription of `viewer` to `publisher`.
    pub fn subscribe(
        &mut self,
        viewer: &Viewer,
        publisher: &PublisherRef,
        video: bool,
        media: &Arc<Media>,
        group: usize,
        sessions: &Sessions,
    ) -> Result<Peer> {
        let role = Role::Subscribe { video };
        match (self, publisher) {
            (Signaler::Troupe(api), PublisherRef::Troupe { participant: host }) => {
                let Viewer::Troupe { participant: me } = viewer else {
                    anyhow::bail!("a Janus viewer on Troupe");
                };
                let (mut peer, offer) = Peer::offer(role, media, group)?;
                peer.started = Instant::now();
                let answered =
                    api.whip(&format!("/whip/subscribe/{}", host.id), &me.token, &offer)?;
                peer.accept(&answered.answer, &answered.ice_servers)?;
                remember(sessions, answered.location, &me.token);
                Ok(peer)
            }
            (Signaler::Janus(client), PublisherRef::Janus { room, feed }) => {
                let started = Instant::now();
                let (handle, offer) = client.subscribe(*room, *feed)?;
                let (mut peer, answer) = Peer::answer(role, media, group, &offer)?;
                peer.started = started;
                client.start(handle, &answer)?;
                Ok(peer)
            }
            _ => anyhow::bail!("a publisher of another target"),
        }
    }
}

impl PublisherRef {
    /// The host as a viewer of the others (Troupe: its own token; Janus: anyone).
    pub fn as_viewer(&self) -> Viewer {
        match self {
            PublisherRef::Troupe { participant } => {
                Viewer::Troupe { participant: participant.clone() }
            }
            PublisherRef::Janus { .. } => Viewer::Janus,
        }
    }
}

fn remember(sessions: &Sessions, location: String, token: &str) {
    sessions.whip.lock().unwrap_or_else(|p| p.into_inner()).push((location, token.to_string()));
}

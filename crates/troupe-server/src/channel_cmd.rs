//! `troupe channel create`: make a channel (with its stream key) against the node's own store,
//! and print where to stream to and where to watch, for people setting up OBS or ffmpeg.

use serde_json::json;
use troupe_control::ChannelMembersInput;

use crate::{
    cli::{ChannelAction, ChannelArgs},
    node,
    node::Failure,
};

pub async fn run(args: ChannelArgs) -> Result<(), Failure> {
    match args.action {
        ChannelAction::Create { name, json, config } => {
            let settings = node::load_settings(&config)?;
            let node = node::open(settings).await?;
            let result = create(&node.plane, name.unwrap_or_default(), json).await;
            node.plane.store().close().await;
            result
        }
    }
}

async fn create(
    plane: &troupe_control::ControlPlane,
    name: String,
    as_json: bool,
) -> Result<(), Failure> {
    let defaults =
        ChannelMembersInput::from_json(&json!({})).map_err(|e| Failure::other(e.message))?;
    let (channel, key) = plane
        .create_channel_record(name, &defaults, Default::default())
        .await
        .map_err(|e| Failure::other(e.message))?;
    let urls = plane.ingest_urls(&channel.id, &key.value);
    let arn = plane.config().scope.arn(troupe_control::arn::ResourceType::Channel, &channel.id);
    if as_json {
        let body = json!({
            "channelArn": arn,
            "channelId": channel.id,
            "name": channel.name,
            "streamKey": key.value,
            "rtmpServer": urls.rtmp_server,
            "rtmpUrl": urls.rtmp_url,
            "whipUrl": urls.whip_url,
            "playbackUrl": urls.playback_url,
            "watchUrl": urls.watch_url,
        });
        println!("{}", serde_json::to_string_pretty(&body).unwrap_or_default());
        return Ok(());
    }
    let title =
        if channel.name.is_empty() { String::new() } else { format!(" {:?}", channel.name) };
    println!("Channel{title} created: {arn}\n");
    match (&urls.rtmp_server, &urls.rtmp_url) {
        (Some(server), Some(full)) => {
            println!("  RTMP server (OBS: Settings > Stream > Custom)  {server}");
            println!("  Stream key (keep it secret)                    {}", key.value);
            println!("  Full URL (ffmpeg -f flv …)                     {full}");
        }
        _ => {
            println!("  Stream key (keep it secret)                    {}", key.value);
            println!("  RTMP ingest is off on this node (--rtmp-port 0): stream over WHIP.");
        }
    }
    println!("  WHIP ingest (Authorization: Bearer <key>)      {}", urls.whip_url);
    println!("  Playback (HLS)                                 {}", urls.playback_url);
    println!("  Watch page                                     {}", urls.watch_url);
    Ok(())
}

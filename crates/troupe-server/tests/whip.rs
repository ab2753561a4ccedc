//! WHIP against a real `troupe serve`: str0m clients publish and subscribe over HTTP and UDP on
//! loopback, and every refusal of DESIGN §2 comes back with its status and code.

use std::{net::SocketAddr, time::Duration};

use str0m::media::{Direction, MediaKind};
use troupe_media::client::{Client, VideoChoice, run_together};

mod support;

use support::{HttpResponse, Server, http, http_with, token};

fn start(extra: &[&str]) -> Server {
    Server::start("whip", extra)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Offers, POSTs the offer, applies the answer.
fn whip(
    server: &Server,
    path: &str,
    token: &str,
    kind: MediaKind,
    dir: Direction,
) -> (Client, HttpResponse) {
    let (mut client, offer) = Client::offer(loopback(), kind, dir).unwrap();
    let response = http(server.addr, "POST", path, Some(token), &offer);
    if response.status == 201 {
        client.accept(&response.body).unwrap();
    }
    (client, response)
}

#[test]
fn publish_and_subscribe_over_whip() {
    let server = start(&[]);
    let (alice_token, alice_id) = token(&server, "show", "alice", &[]);
    let (bob_token, _) = token(&server, "show", "bob", &["--subscribe"]);

    let (mut alice, response) =
        whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/sdp"));
    let location = response.header("location").unwrap().to_string();
    assert!(location.starts_with("/whip/session/"), "{location}");
    assert!(response.body.contains("a=candidate:"), "the answer carries the server's candidate");
    run_together(&mut [&mut alice], Duration::from_secs(10), |c| c[0].connected).unwrap();

    let path = format!("/whip/subscribe/{alice_id}");
    let (mut bob, response) =
        whip(&server, &path, &bob_token, MediaKind::Audio, Direction::RecvOnly);
    assert_eq!(response.status, 201, "{}", response.body);
    run_together(&mut [&mut alice, &mut bob], Duration::from_secs(15), |c| {
        c[1].received.len() >= 20
    })
    .unwrap();
    assert!(bob.received.len() >= 20, "bob got {} frames", bob.received.len());

    // The metrics show the media that went through the worker.
    let metrics = http(server.addr, "GET", "/metrics", None, "").body;
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains("worker="))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert!(value("troupe_media_rtp_packets_in_total") >= 20, "{metrics}");
    assert!(value("troupe_media_rtp_packets_out_total") >= 20, "{metrics}");
    assert_eq!(value("troupe_media_publishers"), 1);
    assert_eq!(value("troupe_media_connected_sessions"), 2);

    // DELETE ends alice's publish: new subscriptions to her are refused.
    let response = http(server.addr, "DELETE", &location, Some(&alice_token), "");
    assert_eq!(response.status, 200, "{}", response.body);
    let mut refused = None;
    for _ in 0..50 {
        let (_, r) = whip(&server, &path, &bob_token, MediaKind::Audio, Direction::RecvOnly);
        if r.status == 404 {
            refused = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(refused.expect("alice stopped publishing").code(), "PUBLISHER_NOT_FOUND");
}

#[test]
fn whip_refusals() {
    let server = start(&["--max-publishers", "1"]);
    let (alice_token, _) = token(&server, "refusals", "alice", &[]);
    let (viewer_token, _) = token(&server, "refusals", "viewer", &["--subscribe"]);
    let (carol_token, _) = token(&server, "refusals", "carol", &[]);
    let (_, offer) = Client::offer(loopback(), MediaKind::Audio, Direction::SendOnly).unwrap();

    let r = http(server.addr, "POST", "/whip", None, &offer);
    assert_eq!((r.status, r.code().as_str()), (401, "TOKEN_MALFORMED"));
    let r = http(server.addr, "POST", "/whip", Some("not.a.token"), &offer);
    assert_eq!((r.status, r.code().as_str()), (401, "TOKEN_MALFORMED"));
    let r = http(server.addr, "POST", "/whip", Some(&viewer_token), &offer);
    assert_eq!((r.status, r.code().as_str()), (403, "TOKEN_NOT_ALLOWED"), "subscribe-only");
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), "v=0 this is not SDP");
    assert_eq!((r.status, r.code().as_str()), (400, "INVALID_INPUT"));
    let huge = "a".repeat(70 * 1024);
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), &huge);
    assert_eq!(r.status, 413);
    // Only a codec Troupe does not forward: 406 CODEC_MISMATCH.
    let alien = offer.replace("opus/48000/2", "x-alien/48000/2");
    assert_ne!(alien, offer);
    let r = http(server.addr, "POST", "/whip", Some(&alice_token), &alien);
    assert_eq!((r.status, r.code().as_str()), (406, "CODEC_MISMATCH"), "{}", r.body);
    let r = http(server.addr, "POST", "/whip/subscribe/nobody", Some(&viewer_token), &offer);
    assert_eq!((r.status, r.code().as_str()), (404, "PUBLISHER_NOT_FOUND"));

    // One publisher allowed: alice takes the seat, carol is refused, alice may republish.
    let (_alice, r) = whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(r.status, 201, "{}", r.body);
    let (_carol, r) = whip(&server, "/whip", &carol_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!((r.status, r.code().as_str()), (403, "STAGE_AT_CAPACITY"));
    let (_again, r) = whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(r.status, 201, "a second publish with the same token replaces the first");

    // Another participant cannot end alice's session.
    let location = r.header("location").unwrap().to_string();
    let r = http(server.addr, "DELETE", &location, Some(&carol_token), "");
    assert_eq!(r.status, 404);
    let r = http(server.addr, "PATCH", &location, Some(&carol_token), "");
    assert_eq!(r.status, 404);
}

/// RFC 9725 §4.3 on a live session: trickled candidates are taken (204); new ICE credentials
/// restart ICE (200, the server's new credentials and candidate, a new ETag); a stale If-Match,
/// a wrong content type or a malformed fragment are refused.
#[test]
fn patch_trickles_and_restarts_ice() {
    let server = start(&[]);
    let (alice_token, _) = token(&server, "patch", "alice", &[]);
    let (mut alice, r) =
        whip(&server, "/whip", &alice_token, MediaKind::Audio, Direction::SendOnly);
    assert_eq!(r.status, 201, "{}", r.body);
    let location = r.header("location").unwrap().to_string();
    let first_etag = r.header("etag").expect("the answer has an ETag").to_string();
    let answer_ufrag = sdp_value(&r.body, "a=ice-ufrag:").unwrap();
    run_together(&mut [&mut alice], Duration::from_secs(10), |c| c[0].connected).unwrap();
    let frag = "Content-Type: application/trickle-ice-sdpfrag\r\n";
    let patch = |headers: &str, body: &str| {
        http_with(server.addr, "PATCH", &location, Some(&alice_token), headers, body)
    };

    let (ufrag, pwd) = alice.ice_credentials();
    let trickle = format!(
        "a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n\
         a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\na=end-of-candidates\r\n"
    );
    let r = patch(&format!("{frag}If-Match: {first_etag}\r\n"), &trickle);
    assert_eq!(r.status, 204, "{}", r.body);

    let restart = "a=ice-ufrag:newufrag\r\na=ice-pwd:newpasswordnewpassword12\r\n";
    let r = patch(&format!("{frag}If-Match: *\r\n"), restart);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/trickle-ice-sdpfrag"));
    let new_ufrag = sdp_value(&r.body, "a=ice-ufrag:").expect("new credentials");
    assert_ne!(new_ufrag, answer_ufrag);
    assert!(sdp_value(&r.body, "a=ice-pwd:").is_some());
    assert!(r.body.contains("a=candidate:"), "{}", r.body);
    assert_ne!(r.header("etag"), Some(first_etag.as_str()));

    let r = patch(&format!("{frag}If-Match: {first_etag}\r\n"), &trickle);
    assert_eq!((r.status, r.code().as_str()), (412, "INVALID_INPUT"), "a stale ETag");
    let r = patch("Content-Type: application/sdp\r\n", &trickle);
    assert_eq!(r.status, 415);
    let r = patch(frag, "this is not a fragment");
    assert_eq!((r.status, r.code().as_str()), (400, "INVALID_INPUT"));
    let r = patch(frag, "a=candidate:garbage\r\n");
    assert_eq!((r.status, r.code().as_str()), (400, "INVALID_INPUT"));
    let r = http_with(server.addr, "PATCH", "/whip/session/999999", Some(&alice_token), frag, "");
    assert_eq!(r.status, 404);
}

fn sdp_value(sdp: &str, prefix: &str) -> Option<String> {
    sdp.lines().find_map(|l| l.trim().strip_prefix(prefix)).map(str::to_string)
}

/// POSTs an offer of several tracks; applies the answer when accepted.
fn whip_tracks(
    server: &Server,
    path: &str,
    token: &str,
    tracks: &[(MediaKind, Direction)],
    video: VideoChoice,
) -> (Client, HttpResponse) {
    let (mut client, offer) = Client::offer_tracks(loopback(), tracks, video).unwrap();
    let response = http(server.addr, "POST", path, Some(token), &offer);
    if response.status == 201 {
        client.accept(&response.body).unwrap();
    }
    (client, response)
}

/// The subscription's offer decides what it gets, and it must be able to decode it.
#[test]
fn subscriptions_get_what_they_offered_and_can_decode() {
    use Direction::{RecvOnly, SendOnly};
    use MediaKind::{Audio, Video};
    let server = start(&[]);
    let (alice_token, alice_id) = token(&server, "codecs", "alice", &[]);
    let (bob_token, _) = token(&server, "codecs", "bob", &["--subscribe"]);
    // Another participant: a second subscription of bob's to alice would replace his first.
    let (carol_token, _) = token(&server, "codecs", "carol", &["--subscribe"]);
    let both = [(Audio, SendOnly), (Video, SendOnly)];
    let (mut alice, r) = whip_tracks(&server, "/whip", &alice_token, &both, VideoChoice::Default);
    assert_eq!(r.status, 201, "{}", r.body);
    // Every m-section carries the server's candidate (some clients look for it per section).
    let sections: Vec<&str> = r.body.split("\r\nm=").skip(1).collect();
    assert_eq!(sections.len(), 2, "{}", r.body);
    for section in sections {
        assert!(section.contains("\r\na=candidate:"), "no candidate in m={section}");
        assert!(section.contains("\r\na=end-of-candidates"), "m={section}");
    }
    run_together(&mut [&mut alice], Duration::from_secs(10), |c| c[0].frames_sent >= 20).unwrap();
    let path = format!("/whip/subscribe/{alice_id}");

    // Alice sends VP8; a subscription that can only decode H.264 video is refused.
    let h264_only = [(Video, RecvOnly)];
    let (_, r) = whip_tracks(&server, &path, &bob_token, &h264_only, VideoChoice::H264Only);
    assert_eq!((r.status, r.code().as_str()), (406, "CODEC_MISMATCH"), "{}", r.body);
    assert!(r.body.contains("VP8") || r.body.contains("vp8"), "{}", r.body);

    // An audio-only subscription gets audio and no video; audio and video get both.
    let audio = [(Audio, RecvOnly)];
    let (mut bob, r) = whip_tracks(&server, &path, &bob_token, &audio, VideoChoice::Default);
    assert_eq!(r.status, 201, "{}", r.body);
    let all = [(Audio, RecvOnly), (Video, RecvOnly)];
    let (mut carol, r) = whip_tracks(&server, &path, &carol_token, &all, VideoChoice::Default);
    assert_eq!(r.status, 201, "{}", r.body);
    run_together(&mut [&mut alice, &mut bob, &mut carol], Duration::from_secs(20), |c| {
        c[1].audio_frames >= 25 && c[2].audio_frames >= 25 && c[2].video_frames >= 15
    })
    .unwrap();
    assert!(bob.audio_frames >= 25, "bob heard {} audio frames", bob.audio_frames);
    assert_eq!(bob.video_frames, 0, "an audio-only subscription gets no video");
    assert!(carol.video_frames >= 15 && carol.audio_frames >= 25);
}

//! What the server's answers negotiate, from a real client's offers: transport-wide congestion
//! control feedback for publishers (their browser adapts its bitrate to it) and none for
//! subscriptions (Troupe runs no sender-side bandwidth estimate to feed).

use std::{net::SocketAddr, time::Instant};

use str0m::media::{Direction, MediaKind};
use troupe_media::{client::Client, router::Role, session::answer_offer};

const TWCC: &str = "transport-wide-cc-extensions-01";

fn negotiate(kind: MediaKind, direction: Direction) -> (String, String) {
    let (_, offer) = Client::offer(SocketAddr::from(([127, 0, 0, 1], 0)), kind, direction).unwrap();
    let candidate = SocketAddr::from(([127, 0, 0, 1], 7801));
    let role = match direction {
        Direction::SendOnly => Role::Publish,
        _ => Role::Subscribe { publisher: "p1".into() },
    };
    let answered = answer_offer(&offer, &candidate.into(), &role, Instant::now()).unwrap();
    (offer, answered.answer)
}

#[test]
fn publishers_negotiate_transport_wide_cc_and_subscriptions_do_not() {
    for kind in [MediaKind::Audio, MediaKind::Video] {
        let (offer, answer) = negotiate(kind, Direction::SendOnly);
        assert!(offer.contains(TWCC), "the client offers it:\n{offer}");
        assert!(answer.contains(TWCC), "a publish keeps it ({kind:?}):\n{answer}");
        let (offer, answer) = negotiate(kind, Direction::RecvOnly);
        assert!(offer.contains(TWCC), "the client offers it:\n{offer}");
        assert!(!answer.contains(TWCC), "a subscription does not ({kind:?}):\n{answer}");
        assert!(answer.contains("urn:ietf:params:rtp-hdrext:sdes:mid"), "other extensions stay");
    }
}

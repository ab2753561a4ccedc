//! Keyframe request throttling.

use std::time::{Duration, Instant};

use troupe_media::keyframe::KeyframeRequests;

const INTERVAL: Duration = Duration::from_millis(500);

#[test]
fn a_burst_of_requests_costs_two_keyframes_at_most() {
    let mut k = KeyframeRequests::new(INTERVAL);
    let t0 = Instant::now();
    assert!(k.request(t0), "the first goes out at once");
    let sent_now = (1..100).filter(|i| k.request(t0 + Duration::from_millis(*i))).count();
    assert_eq!(sent_now, 0);
    assert_eq!(k.poll_timeout(), Some(t0 + INTERVAL));
    assert!(!k.handle_timeout(t0 + INTERVAL - Duration::from_millis(1)));
    assert!(k.handle_timeout(t0 + INTERVAL), "the remembered request goes out once");
    assert_eq!(k.poll_timeout(), None);
}

#[test]
fn a_keyframe_in_between_satisfies_the_waiting_requests() {
    let mut k = KeyframeRequests::new(INTERVAL);
    let t0 = Instant::now();
    assert!(k.request(t0));
    assert!(!k.request(t0 + Duration::from_millis(10)));
    k.keyframe_received();
    assert_eq!(k.poll_timeout(), None);
    assert!(!k.handle_timeout(t0 + INTERVAL));
    assert!(k.request(t0 + INTERVAL), "a new request after the interval goes out");
}

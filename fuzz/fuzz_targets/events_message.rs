#![no_main]

//! Events socket messages: any text either parses, is ignored (unknown type) or is refused
//! with a close code in 4000–4999 whose reason fits a WebSocket close frame; an accepted
//! message re-serializes to one that parses to the same value.

use libfuzzer_sys::fuzz_target;
use troupe_events::messages::{MAX_MESSAGE_BYTES, parse_client_message};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_client_message(text, MAX_MESSAGE_BYTES) {
        Ok(Some(message)) => {
            let again = parse_client_message(&message.to_json(), MAX_MESSAGE_BYTES);
            assert_eq!(again.ok().flatten(), Some(message));
        }
        Ok(None) => {}
        Err(e) => {
            assert!((4000..5000).contains(&e.close_code()));
            assert!(e.code_name().len() <= 123);
        }
    }
});

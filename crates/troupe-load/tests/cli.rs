//! The binary's command line: help that teaches, bad flags refused (exit 2), a server that is
//! not there named in a clear error (exit 1).

use std::process::Command;

fn load(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_troupe-load")).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn help_names_the_scenarios_and_what_is_measured() {
    let (code, stdout, _) = load(&["--help"]);
    assert_eq!(code, 0);
    for word in [
        "meeting",
        "broadcast",
        "audio-room",
        "control",
        "--ramp",
        "--server-pid",
        "--json",
        "delay",
        "join",
    ] {
        assert!(stdout.contains(word), "--help mentions {word}:\n{stdout}");
    }
}

#[test]
fn bad_flags_are_refused_with_status_2() {
    let (code, _, stderr) = load(&["party", "--url", "http://127.0.0.1:1"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = load(&["meeting", "--url", "http://127.0.0.1:1", "--duration", "soon"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a duration"), "{stderr}");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, _, stderr) = load(&["control", "--url", &url, "--duration", "1s"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot connect") && stderr.contains("is the server running"),
        "{stderr}"
    );
    let (code, _, stderr) = load(&["meeting", "--url", "https://example.invalid"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("http://"), "{stderr}");
}

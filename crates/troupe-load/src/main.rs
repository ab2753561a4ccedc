//! `troupe-load`: see `troupe-load --help`.

fn main() {
    // TROUPE_LOAD_LOG=str0m=debug shows what the WebRTC stack does (ICE, DTLS), to stderr.
    if let Ok(filter) = std::env::var("TROUPE_LOAD_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    std::process::exit(troupe_load::main_with_args(std::env::args_os()));
}

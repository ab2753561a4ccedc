//! The `troupe` binary: `troupe serve` runs a node (control plane now; media, events and the
//! demo as they land), `troupe token` mints participant tokens from the command line.
//! Exit codes: 0 clean shutdown, 2 bad configuration, 1 any other failure.

mod broadcast;
mod channel_cmd;
mod cli;
mod config;
mod demo;
mod http_routes;
mod https;
mod ice_tcp;
mod logging;
mod media_metrics;
mod media_plane;
mod node;
mod node_keys_cmd;
mod sdk_routes;
mod serve;
mod static_asset;
mod store_metrics;
mod tls;
mod token_cmd;
mod turn;
mod turn_metrics;
mod whip;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("troupe: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Serve(args) => serve::run(args).await,
            cli::Command::Token(args) => token_cmd::run(args).await,
            cli::Command::NodeKeys(args) => node_keys_cmd::run(args).await,
            cli::Command::Channel(args) => channel_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("troupe: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

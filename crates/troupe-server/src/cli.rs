//! Command-line shape and help text.

use clap::{Args, Parser, Subcommand};

use crate::config::ConfigArgs;

#[derive(Parser, Debug)]
#[command(
    name = "troupe",
    version,
    about = "Self-hosted real-time video stages, compatible with Amazon IVS Real-Time",
    long_about = "Troupe runs multi-host video stages on your own machine. It speaks the Amazon IVS \
Real-Time API (point an AWS SDK's endpoint at it) and serves the Web SDK, WHIP and the \
stage events socket on one port.",
    after_help = "Try it:\n  troupe serve --dev                 start with the demo on http://127.0.0.1:7800\n  \
troupe token --dev --stage show --create --user alice --publish --subscribe\n\n\
Every flag is also an environment variable (--bind → TROUPE_BIND) and a key in the file\n\
given with --config (bind = \"0.0.0.0:7800\"). See `troupe serve --help`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a Troupe node: the IVS API, WHIP, the events socket, the demo.
    #[command(
        long_about = "Run a Troupe node.\n\nOne TCP port serves the IVS control-plane API (SigV4), \
WHIP, the stage events WebSocket, the Web SDK, /healthz, /readyz and /metrics; media uses the UDP \
port range, with ICE over TCP and an embedded TURN server for networks that block UDP (see \
\"Real networks\" below). Settings come from flags, then TROUPE_* environment variables, then the \
--config file, then defaults. SIGINT or SIGTERM shut down cleanly; SIGHUP reloads the TLS \
certificate.",
        after_help = "Examples:\n  troupe serve --dev\n      loopback only, credentials devkey/devsecret, data in ./troupe-data\n  \
troupe serve --dev --tls self-signed --bind 0.0.0.0:7800 --access-key-id AK --secret-access-key SK\n      \
the demo for your LAN over HTTPS (browsers give the camera to secure pages only)\n  \
troupe serve --tls-cert fullchain.pem --tls-key privkey.pem --bind 203.0.113.10:443 \\\n      \
--turn-ip 203.0.113.11 --turn-tls-port 443\n      \
HTTPS and TURN over TLS both on 443, for networks that let nothing else out\n  \
TROUPE_ACCESS_KEY_ID=AK TROUPE_SECRET_ACCESS_KEY=SK troupe serve --public-url https://live.example.com\n  \
troupe serve --config /etc/troupe.toml --store postgres://troupe@db/troupe\n\n\
Then, with the AWS CLI or any AWS SDK:\n  aws ivs-realtime create-stage --name show --endpoint-url http://127.0.0.1:7800\n\n\
troupe.toml takes the same keys as the flags (data_dir = \"/var/lib/troupe\"), plus\n  \
[[credentials]] access_key_id = \"...\" secret_access_key = \"...\" read_only = false"
    )]
    Serve(ServeArgs),
    /// Mint a participant token for a stage (by name or ARN) without running a server.
    #[command(
        after_help = "Examples:\n  troupe token --dev --stage show --create --user alice\n      \
a token that may publish and subscribe, creating stage \"show\" if needed\n  \
troupe token --stage arn:aws:ivs:us-east-1:000000000000:stage/AbCdEfGhIjKl --user bob --subscribe --duration 2h\n\n\
Uses the same data directory and store as `troupe serve` (same flags, variables and config file),\n\
so run it on a node with the same configuration. Prints the token; --json prints the\n\
ParticipantToken as CreateParticipantToken would return it."
    )]
    Token(TokenArgs),
    /// List or retire the keys nodes sign participant tokens with.
    #[command(
        name = "node-keys",
        after_help = "Every node signs tokens with its own key (node-key.pem in its data directory) and \
registers the public half in the store, so that all nodes sharing the store accept each other's \
tokens.\n\nTo rotate a node's key (for example if node-key.pem may have leaked): stop the node, \
delete its node-key.pem, start it again (it generates a new key), then retire the old one:\n  \
troupe node-keys list\n  troupe node-keys retire node-0123456789abcdef\n\
Tokens signed by a retired key are refused, and the key can never be registered again."
    )]
    NodeKeys(NodeKeysArgs),
    /// Create a channel to broadcast to an audience (RTMP or WHIP in, HLS out).
    #[command(after_help = "Examples:\n  troupe channel create --dev --name show\n      \
a channel with its stream key; prints the RTMP URL for OBS or ffmpeg, the WHIP URL, the HLS\n      \
playback URL and the watch page\n  troupe channel create --name show --json\n\n\
Uses the same data directory and store as `troupe serve` (same flags, variables and config\n\
file). The IVS API (CreateChannel, CreateStreamKey, …) does the same over HTTP.")]
    Channel(ChannelArgs),
}

#[derive(Args, Debug)]
pub struct ChannelArgs {
    #[command(subcommand)]
    pub action: ChannelAction,
}

#[derive(Subcommand, Debug)]
pub enum ChannelAction {
    /// Create a channel and its stream key, and print where to stream to and watch.
    Create {
        /// The channel's name (letters, digits, '-' and '_').
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Print the channel, key and URLs as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Args, Debug)]
pub struct NodeKeysArgs {
    #[command(subcommand)]
    pub action: NodeKeysAction,
}

#[derive(Subcommand, Debug)]
pub enum NodeKeysAction {
    /// Show every registered node key, which one is this data directory's, and which are retired.
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Stop trusting a node key (see above). Not the key of this data directory.
    Retire {
        /// The key id, as `list` shows it.
        kid: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// The stage: its name or its ARN.
    #[arg(long, value_name = "NAME|ARN")]
    pub stage: String,
    /// Create the stage (by name) if no stage has that name.
    #[arg(long)]
    pub create: bool,
    /// The participant's user id (shown to other participants).
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// Allow publishing. With neither --publish nor --subscribe, both are allowed.
    #[arg(long)]
    pub publish: bool,
    /// Allow subscribing.
    #[arg(long)]
    pub subscribe: bool,
    /// Lifetime: minutes, or a number with m, h or d (720m, 12h, 14d).
    #[arg(long, default_value = "720m", value_name = "DURATION")]
    pub duration: String,
    /// An attribute carried by the token (repeatable).
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    pub attributes: Vec<String>,
    /// Print the whole ParticipantToken as JSON instead of only the token.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

//! Configuration: every setting is a flag (`--bind`), an environment variable (`TROUPE_BIND`)
//! and a key in `troupe.toml` (`bind`), in that order of precedence, then the `--dev` or
//! production default. All values are read as text and checked in one place, so a bad value is
//! reported the same way wherever it came from: naming the key and the problem (exit 2).

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
};

use troupe_control::{Credential, Limits, arn::ArnScope};

mod broadcast;
mod network;

pub use broadcast::BroadcastSettings;
pub use network::{NetworkSettings, TlsMode, TurnMode};

/// A configuration problem: which key, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", describe_key(key))]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_string(), message: message.into() }
}

/// `bind (--bind, TROUPE_BIND)`: how a user finds the setting whatever way they set it.
pub fn describe_key(key: &str) -> String {
    if key.contains('.') || key.starts_with('[') {
        return key.to_string();
    }
    format!("{key} (--{}, TROUPE_{})", key.replace('_', "-"), key.to_ascii_uppercase())
}

/// The flags shared by `troupe serve` and `troupe token`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Read settings from this TOML file (keys as the flags, with `_`: `data_dir = "..."`).
    #[arg(long, env = "TROUPE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Development mode: loopback only, debug logs, the demo, dev credentials
    /// (devkey / devsecret) and data in ./troupe-data.
    #[arg(long, env = "TROUPE_DEV", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub dev: Option<String>,
    /// HTTP address (API, WHIP, events, demo) [default: 127.0.0.1:7800 with --dev, else 0.0.0.0:7800].
    #[arg(long, env = "TROUPE_BIND", value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// UDP ports for media, one media worker per port [default: 7801 to 7800+cores].
    #[arg(long, env = "TROUPE_UDP_PORTS", value_name = "START-END")]
    pub udp_ports: Option<String>,
    /// The address put in ICE candidates [default: first non-loopback IPv4, else 127.0.0.1].
    #[arg(long, env = "TROUPE_NODE_IP", value_name = "IP")]
    pub node_ip: Option<String>,
    /// Base URL clients use to reach this server (behind a proxy); stage endpoints and tokens
    /// carry <URL>/whip and ws(s)://…/events [default: http(s)://<bind address>].
    #[arg(long, env = "TROUPE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Where the node key and the SQLite database live [default: ./troupe-data].
    #[arg(long, env = "TROUPE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<String>,
    /// sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB
    /// [default: sqlite://<data-dir>/troupe.db].
    #[arg(long, env = "TROUPE_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Access key id accepted in SigV4 signatures (with --secret-access-key) [dev: devkey].
    #[arg(long, env = "TROUPE_ACCESS_KEY_ID", value_name = "ID")]
    pub access_key_id: Option<String>,
    /// Secret for --access-key-id [dev: devsecret]. More keys: [[credentials]] in troupe.toml.
    /// Prefer the variable or the file: command lines are visible to every user in `ps`.
    #[arg(long, env = "TROUPE_SECRET_ACCESS_KEY", value_name = "SECRET", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// Region put in ARNs [default: us-east-1]. Requests may be signed for any region.
    #[arg(long, env = "TROUPE_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Account id put in ARNs, 12 digits [default: 000000000000].
    #[arg(long, env = "TROUPE_ACCOUNT_ID", value_name = "ID")]
    pub account_id: Option<String>,
    /// Log format: text (for people) or json (for collectors) [default: text].
    #[arg(long, env = "TROUPE_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or troupe_control=debug [default: debug with --dev, else info].
    #[arg(long, env = "TROUPE_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Serve the demo app at / [default: on with --dev, else off].
    #[arg(long, env = "TROUPE_DEMO", value_name = "BOOL")]
    pub demo: Option<String>,
    /// Origins allowed to call WHIP and events from a browser, comma-separated [default: *].
    #[arg(long, env = "TROUPE_CORS_ORIGINS", value_name = "ORIGINS")]
    pub cors_origins: Option<String>,
    /// Most stages that may exist at once [default: 10000].
    #[arg(long, env = "TROUPE_MAX_STAGES", value_name = "N")]
    pub max_stages: Option<String>,
    /// Most public keys that may be imported [default: 100].
    #[arg(long, env = "TROUPE_MAX_PUBLIC_KEYS", value_name = "N")]
    pub max_public_keys: Option<String>,
    /// Publishers per stage; one more gets STAGE_AT_CAPACITY [default: 12].
    #[arg(long, env = "TROUPE_MAX_PUBLISHERS", value_name = "N")]
    pub max_publishers: Option<String>,
    /// Subscribers per stage (participants whose token allows subscribing); one more gets
    /// STAGE_AT_CAPACITY [default: 10000].
    #[arg(long, env = "TROUPE_MAX_SUBSCRIBERS", value_name = "N")]
    pub max_subscribers: Option<String>,
    /// Seconds a participant without connections stays on the stage, so that a reconnect keeps
    /// it [default: 10].
    #[arg(long, env = "TROUPE_PRESENCE_GRACE", value_name = "SECONDS")]
    pub presence_grace: Option<String>,
    /// Seconds after which a media session (a publish or a subscription) ends; clients
    /// reconnect to go on [default: 86400, 24 h].
    #[arg(long, env = "TROUPE_MAX_SESSION_SECONDS", value_name = "SECONDS")]
    pub max_session_seconds: Option<String>,
    /// Longest participant token lifetime, in minutes [default: 20160, 14 days].
    #[arg(long, env = "TROUPE_MAX_TOKEN_MINUTES", value_name = "N")]
    pub max_token_minutes: Option<String>,
    /// HTTPS on the HTTP port with a certificate of its own, made once and kept in the data
    /// directory, naming this machine's addresses and hostname (for trials on a LAN: browsers
    /// warn once). `off` serves plain HTTP [default: off, or on with --tls-cert].
    #[arg(
        long,
        env = "TROUPE_TLS",
        value_name = "self-signed|off",
        help_heading = "Real networks"
    )]
    pub tls: Option<String>,
    /// HTTPS with this certificate chain (PEM; with --tls-key). Reloaded on SIGHUP: sessions
    /// stay up, new connections get the new certificate. Also used by TURN over TLS.
    #[arg(long, env = "TROUPE_TLS_CERT", value_name = "FILE", help_heading = "Real networks")]
    pub tls_cert: Option<String>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TROUPE_TLS_KEY", value_name = "FILE", help_heading = "Real networks")]
    pub tls_key: Option<String>,
    /// TCP port for ICE over TCP (RFC 6544 passive candidates), for clients whose network
    /// blocks UDP; 0 turns it off [default: the first --udp-ports port].
    #[arg(long, env = "TROUPE_ICE_TCP_PORT", value_name = "PORT", help_heading = "Real networks")]
    pub ice_tcp_port: Option<String>,
    /// The embedded TURN server's port, UDP and TCP, on the --bind address; 0 turns it off.
    /// Clients get short-lived credentials with each WHIP answer [default: 3478].
    #[arg(long, env = "TROUPE_TURN_PORT", value_name = "PORT", help_heading = "Real networks")]
    pub turn_port: Option<String>,
    /// TURN over TLS on this TCP port (needs TLS): 443 passes the strictest firewalls
    /// [default: 5349 with TLS; 0 turns it off].
    #[arg(long, env = "TROUPE_TURN_TLS_PORT", value_name = "PORT", help_heading = "Real networks")]
    pub turn_tls_port: Option<String>,
    /// The address the embedded TURN server listens on, relays from and names in its URLs: a
    /// second address lets TURN over TLS have port 443 while HTTPS has 443 on the first
    /// [default: the node IP].
    #[arg(long, env = "TROUPE_TURN_IP", value_name = "IP", help_heading = "Real networks")]
    pub turn_ip: Option<String>,
    /// Use this external TURN service (coturn with use-auth-secret) instead of the embedded
    /// one: its URLs, comma-separated (turn:host:3478?transport=udp,turns:host:443?transport=tcp),
    /// with --turn-secret, its static-auth-secret.
    #[arg(
        long,
        env = "TROUPE_TURN_EXTERNAL",
        value_name = "URL,...",
        help_heading = "Real networks"
    )]
    pub turn_external: Option<String>,
    /// The secret TURN credentials are signed with (HMAC-SHA1, coturn's static-auth-secret)
    /// [default: made once, kept in the data directory; required with --turn-external].
    #[arg(
        long,
        env = "TROUPE_TURN_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        help_heading = "Real networks"
    )]
    pub turn_secret: Option<String>,
    /// RTMP ingest for channels (OBS, ffmpeg: rtmp://<host>:<port>/app/<streamKey>); with TLS
    /// on, the same port also takes RTMPS. 0 turns it off [default: 1935].
    #[arg(long, env = "TROUPE_RTMP_PORT", value_name = "PORT", help_heading = "Broadcast")]
    pub rtmp_port: Option<String>,
    /// Keep storage buckets (recordings) in this S3 or S3-compatible service instead of
    /// directories <data-dir>/storage/<bucket>/; credentials come from the usual AWS chain
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, …).
    #[arg(long, env = "TROUPE_S3_ENDPOINT", value_name = "URL", help_heading = "Broadcast")]
    pub s3_endpoint: Option<String>,
}

impl ConfigArgs {
    /// The settings given as flags or environment variables, by key.
    fn given(&self) -> Vec<(&'static str, Option<&String>)> {
        vec![
            ("dev", self.dev.as_ref()),
            ("bind", self.bind.as_ref()),
            ("udp_ports", self.udp_ports.as_ref()),
            ("node_ip", self.node_ip.as_ref()),
            ("public_url", self.public_url.as_ref()),
            ("data_dir", self.data_dir.as_ref()),
            ("store", self.store.as_ref()),
            ("access_key_id", self.access_key_id.as_ref()),
            ("secret_access_key", self.secret_access_key.as_ref()),
            ("region", self.region.as_ref()),
            ("account_id", self.account_id.as_ref()),
            ("log_format", self.log_format.as_ref()),
            ("log_level", self.log_level.as_ref()),
            ("demo", self.demo.as_ref()),
            ("cors_origins", self.cors_origins.as_ref()),
            ("max_stages", self.max_stages.as_ref()),
            ("max_public_keys", self.max_public_keys.as_ref()),
            ("max_publishers", self.max_publishers.as_ref()),
            ("max_subscribers", self.max_subscribers.as_ref()),
            ("max_token_minutes", self.max_token_minutes.as_ref()),
            ("presence_grace", self.presence_grace.as_ref()),
            ("max_session_seconds", self.max_session_seconds.as_ref()),
            ("tls", self.tls.as_ref()),
            ("tls_cert", self.tls_cert.as_ref()),
            ("tls_key", self.tls_key.as_ref()),
            ("ice_tcp_port", self.ice_tcp_port.as_ref()),
            ("turn_port", self.turn_port.as_ref()),
            ("turn_tls_port", self.turn_tls_port.as_ref()),
            ("turn_ip", self.turn_ip.as_ref()),
            ("turn_external", self.turn_external.as_ref()),
            ("turn_secret", self.turn_secret.as_ref()),
            ("rtmp_port", self.rtmp_port.as_ref()),
            ("s3_endpoint", self.s3_endpoint.as_ref()),
        ]
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Limits of the media and events planes (used from the media issue on; configured now so
/// that troupe.toml files stay valid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLimits {
    pub max_publishers: u32,
    pub max_subscribers: u32,
    /// How long a participant without connections stays joined.
    pub presence_grace: std::time::Duration,
    /// How long a media session may last.
    pub max_session: std::time::Duration,
}

/// The resolved configuration of a node.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dev: bool,
    pub bind: SocketAddr,
    pub udp_ports: (u16, u16),
    pub node_ip: IpAddr,
    pub public_url: String,
    /// Whether `public_url` was configured (else it was derived from `bind`).
    pub public_url_given: bool,
    pub data_dir: PathBuf,
    pub store_url: String,
    pub credentials: Vec<Credential>,
    pub scope: ArnScope,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub demo: bool,
    pub cors_origins: Vec<String>,
    pub limits: Limits,
    pub media_limits: MediaLimits,
    /// TLS, ICE over TCP, TURN.
    pub network: NetworkSettings,
    /// RTMP ingest, storage.
    pub broadcast: BroadcastSettings,
}

/// Where the values come from, highest precedence first.
struct Sources<'a> {
    args: BTreeMap<&'static str, &'a String>,
    file: BTreeMap<String, String>,
    file_credentials: Vec<Credential>,
}

impl Sources<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.args.get(key).map(|v| (*v).clone()).or_else(|| self.file.get(key).cloned())
    }
}

const FILE_KEYS: &[&str] = &[
    "dev",
    "bind",
    "udp_ports",
    "node_ip",
    "public_url",
    "data_dir",
    "store",
    "access_key_id",
    "secret_access_key",
    "region",
    "account_id",
    "log_format",
    "log_level",
    "demo",
    "cors_origins",
    "max_stages",
    "max_public_keys",
    "max_publishers",
    "max_subscribers",
    "max_token_minutes",
    "presence_grace",
    "max_session_seconds",
    "tls",
    "tls_cert",
    "tls_key",
    "ice_tcp_port",
    "turn_port",
    "turn_tls_port",
    "turn_ip",
    "turn_external",
    "turn_secret",
    "rtmp_port",
    "s3_endpoint",
];

/// Reads troupe.toml into flat text values (and `[[credentials]]`), refusing unknown keys.
fn read_file(path: &Path) -> Result<(BTreeMap<String, String>, Vec<Credential>), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("config", format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| err("config", format!("{} is not valid TOML: {e}", path.display())))?;
    let mut values = BTreeMap::new();
    let mut credentials = Vec::new();
    for (raw_key, value) in table {
        let key = raw_key.replace('-', "_");
        if key == "credentials" {
            credentials = read_credentials(&value)?;
            continue;
        }
        if !FILE_KEYS.contains(&key.as_str()) {
            return Err(err(
                &raw_key,
                format!(
                    "unknown key in {} (known keys: {}, [[credentials]])",
                    path.display(),
                    FILE_KEYS.join(", ")
                ),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(err(&key, format!("expected a list of strings, found {other}"))),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => {
                return Err(err(
                    &key,
                    format!("expected a string, number or boolean, found {other}"),
                ));
            }
        };
        values.insert(key, text);
    }
    Ok((values, credentials))
}

fn read_credentials(value: &toml::Value) -> Result<Vec<Credential>, ConfigError> {
    let key = "[[credentials]]";
    let items =
        value.as_array().ok_or_else(|| err(key, "expected an array of tables: [[credentials]]"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let t = item.as_table().ok_or_else(|| err(key, format!("entry {i} is not a table")))?;
            for k in t.keys() {
                if !["access_key_id", "secret_access_key", "read_only"].contains(&k.as_str()) {
                    return Err(err(key, format!("entry {i}: unknown key {k:?} (access_key_id, secret_access_key, read_only)")));
                }
            }
            let text = |name: &str| {
                t.get(name)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| err(key, format!("entry {i}: {name} is required (a non-empty string)")))
            };
            let read_only = match t.get("read_only") {
                None => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| err(key, format!("entry {i}: read_only must be true or false")))?,
            };
            Ok(Credential {
                access_key_id: text("access_key_id")?,
                secret_access_key: text("secret_access_key")?,
                read_only,
            })
        })
        .collect()
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(err(key, format!("{other:?} is not a boolean (true or false)"))),
    }
}

fn parse_number<T>(key: &str, value: &str, min: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T =
        value.trim().parse().map_err(|_| err(key, format!("{value:?} is not a whole number")))?;
    if n < min {
        return Err(err(key, format!("must be at least {min} (got {n})")));
    }
    Ok(n)
}

fn parse_port_range(key: &str, value: &str) -> Result<(u16, u16), ConfigError> {
    let bad = || err(key, format!("{value:?} is not a port range START-END (e.g. 7801-7802)"));
    let (a, b) = value.split_once('-').ok_or_else(bad)?;
    let start: u16 = a.trim().parse().map_err(|_| bad())?;
    let end: u16 = b.trim().parse().map_err(|_| bad())?;
    if start == 0 || end < start {
        return Err(err(
            key,
            format!("{value:?}: START must be at least 1 and END at least START"),
        ));
    }
    Ok((start, end))
}

fn parse_public_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| err(key, format!("{value:?} must start with http:// or https://")))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', ' ']) {
        return Err(err(key, format!("{value:?} is not a base URL like https://live.example.com")));
    }
    Ok(v.to_string())
}

/// The first non-loopback IPv4 address of this machine, else 127.0.0.1.
fn default_node_ip() -> IpAddr {
    if_addrs::get_if_addrs()
        .ok()
        .and_then(|addrs| {
            addrs.into_iter().filter(|a| !a.is_loopback()).find_map(|a| match a.ip() {
                IpAddr::V4(v4) => Some(IpAddr::V4(v4)),
                IpAddr::V6(_) => None,
            })
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// `http(s)://<bind address>`, with the node IP when bound to all interfaces.
pub fn default_public_url(bind: SocketAddr, node_ip: IpAddr, tls: bool) -> String {
    let host = if bind.ip().is_unspecified() { node_ip } else { bind.ip() };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{}", SocketAddr::new(host, bind.port()))
}

fn default_udp_ports() -> (u16, u16) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u16;
    (7801, 7801 + cores.max(1) - 1)
}

impl Settings {
    /// Resolves the configuration from flags, environment, the config file and defaults.
    pub fn load(args: &ConfigArgs) -> Result<Settings, ConfigError> {
        let (file, file_credentials) = match &args.config {
            Some(path) => read_file(path)?,
            None => Default::default(),
        };
        let sources = Sources {
            args: args.given().into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect(),
            file,
            file_credentials,
        };
        Settings::resolve(&sources)
    }

    fn resolve(src: &Sources) -> Result<Settings, ConfigError> {
        let dev = src.get("dev").map(|v| parse_bool("dev", &v)).transpose()?.unwrap_or(false);
        let bind: SocketAddr = match src.get("bind") {
            Some(v) => v.trim().parse().map_err(|_| {
                err("bind", format!("{v:?} is not ADDR:PORT (e.g. 127.0.0.1:7800 or 0.0.0.0:7800)"))
            })?,
            None if dev => SocketAddr::from(([127, 0, 0, 1], 7800)),
            None => SocketAddr::from(([0, 0, 0, 0], 7800)),
        };
        let udp_ports = match src.get("udp_ports") {
            Some(v) => parse_port_range("udp_ports", &v)?,
            None => default_udp_ports(),
        };
        let node_ip: IpAddr = match src.get("node_ip") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| err("node_ip", format!("{v:?} is not an IP address")))?,
            None if dev && bind.ip().is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            None => default_node_ip(),
        };
        let network = NetworkSettings::resolve(
            network::NetworkValues {
                tls: src.get("tls"),
                tls_cert: src.get("tls_cert"),
                tls_key: src.get("tls_key"),
                ice_tcp_port: src.get("ice_tcp_port"),
                turn_port: src.get("turn_port"),
                turn_tls_port: src.get("turn_tls_port"),
                turn_ip: src.get("turn_ip"),
                turn_external: src.get("turn_external"),
                turn_secret: src.get("turn_secret"),
            },
            udp_ports.0,
        )?;
        let broadcast = BroadcastSettings::resolve(broadcast::BroadcastValues {
            rtmp_port: src.get("rtmp_port"),
            s3_endpoint: src.get("s3_endpoint"),
        })?;
        let public_url_given = src.get("public_url").is_some();
        let public_url = match src.get("public_url") {
            Some(v) => parse_public_url("public_url", &v)?,
            None => default_public_url(bind, node_ip, network.tls.is_on()),
        };
        let data_dir = PathBuf::from(src.get("data_dir").unwrap_or_else(|| "./troupe-data".into()));
        if data_dir.as_os_str().is_empty() {
            return Err(err("data_dir", "must not be empty"));
        }
        let store_url = match src.get("store") {
            Some(v)
                if v.starts_with("sqlite:")
                    || v.starts_with("postgres://")
                    || v.starts_with("postgresql://") =>
            {
                v
            }
            Some(v) => {
                return Err(err(
                    "store",
                    // Only the scheme: the rest of a URL may hold a password.
                    format!(
                        "{:?} is not a supported scheme: use sqlite://PATH or postgres://USER@HOST/DB",
                        v.split("://").next().unwrap_or_default()
                    ),
                ));
            }
            None => format!("sqlite://{}", data_dir.join("troupe.db").display()),
        };

        let mut credentials = src.file_credentials.clone();
        match (src.get("access_key_id"), src.get("secret_access_key")) {
            (Some(id), _) if id.is_empty() => {
                return Err(err("access_key_id", "must not be empty"));
            }
            (Some(id), Some(secret)) if !secret.is_empty() => {
                credentials.insert(
                    0,
                    Credential { access_key_id: id, secret_access_key: secret, read_only: false },
                );
            }
            (Some(_), _) => {
                return Err(err(
                    "secret_access_key",
                    "must be set (non-empty) together with access_key_id",
                ));
            }
            (None, Some(_)) => {
                return Err(err("access_key_id", "must be set together with secret_access_key"));
            }
            (None, None) => {}
        }
        let mut ids = std::collections::BTreeSet::new();
        if let Some(dup) = credentials.iter().find(|c| !ids.insert(c.access_key_id.as_str())) {
            return Err(err(
                "access_key_id",
                format!("access key {:?} is configured more than once", dup.access_key_id),
            ));
        }
        if credentials.is_empty() {
            // The dev credentials are printed in the help and the README: never accept them
            // from anywhere but this machine.
            if dev && !bind.ip().is_loopback() {
                return Err(err(
                    "bind",
                    format!(
                        "--dev uses the well-known credentials devkey/devsecret, so it binds only \
                         to loopback (got {bind}); configure access_key_id and secret_access_key \
                         to listen on other addresses"
                    ),
                ));
            }
            if dev {
                credentials.push(Credential {
                    access_key_id: "devkey".into(),
                    secret_access_key: "devsecret".into(),
                    read_only: false,
                });
            } else {
                return Err(err(
                    "access_key_id",
                    "no API credentials: set access_key_id and secret_access_key (or [[credentials]] in troupe.toml), or use --dev",
                ));
            }
        }

        let region = src.get("region").unwrap_or_else(|| "us-east-1".into());
        if region.is_empty()
            || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("region", format!("{region:?} is not a region name like us-east-1")));
        }
        let account = src.get("account_id").unwrap_or_else(|| "000000000000".into());
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("account_id", format!("{account:?} is not a 12-digit account id")));
        }
        let log_format = match src.get("log_format").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(err("log_format", format!("{other:?} is not text or json"))),
        };
        let log_filter = src.get("log_level").unwrap_or_else(|| {
            if dev {
                "debug,sqlx=warn,hyper=info,tower=info".into()
            } else {
                "info,sqlx=warn".into()
            }
        });
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| err("log_level", format!("{log_filter:?} is not a log filter: {e}")))?;
        let demo = src.get("demo").map(|v| parse_bool("demo", &v)).transpose()?.unwrap_or(dev);
        let cors_origins = src
            .get("cors_origins")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_else(|| vec!["*".to_string()]);
        for origin in &cors_origins {
            if origin != "*" && parse_public_url("cors_origins", origin).is_err() {
                return Err(err(
                    "cors_origins",
                    format!("{origin:?} is not * or an origin like https://app.example.com"),
                ));
            }
        }

        let mut limits = Limits::default();
        let num = |key: &str| src.get(key);
        if let Some(v) = num("max_stages") {
            limits.max_stages = parse_number("max_stages", &v, 1)?;
        }
        if let Some(v) = num("max_public_keys") {
            limits.max_public_keys = parse_number("max_public_keys", &v, 1)?;
        }
        if let Some(v) = num("max_token_minutes") {
            limits.max_token_minutes = parse_number("max_token_minutes", &v, 1)?;
            if limits.max_token_minutes > 20_160 {
                return Err(err(
                    "max_token_minutes",
                    format!("must be at most 20160 (14 days), as IVS tokens (got {v})"),
                ));
            }
        }
        let mut media_limits = MediaLimits {
            max_publishers: 12,
            max_subscribers: 10_000,
            presence_grace: std::time::Duration::from_secs(10),
            max_session: std::time::Duration::from_secs(24 * 3600),
        };
        if let Some(v) = num("max_session_seconds") {
            let seconds: u64 = parse_number("max_session_seconds", &v, 1)?;
            media_limits.max_session = std::time::Duration::from_secs(seconds);
        }
        if let Some(v) = num("max_publishers") {
            media_limits.max_publishers = parse_number("max_publishers", &v, 1)?;
        }
        if let Some(v) = num("presence_grace") {
            let seconds: u64 = parse_number("presence_grace", &v, 0)?;
            if seconds > 3600 {
                return Err(err(
                    "presence_grace",
                    format!("must be at most 3600 seconds (got {v})"),
                ));
            }
            media_limits.presence_grace = std::time::Duration::from_secs(seconds);
        }
        if let Some(v) = num("max_subscribers") {
            media_limits.max_subscribers = parse_number("max_subscribers", &v, 1)?;
        }

        Ok(Settings {
            dev,
            bind,
            udp_ports,
            node_ip,
            public_url,
            public_url_given,
            data_dir,
            store_url,
            credentials,
            scope: ArnScope { region, account },
            log_format,
            log_filter,
            demo,
            cors_origins,
            limits,
            media_limits,
            network,
            broadcast,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: ConfigArgs) -> Result<Settings, ConfigError> {
        Settings::load(&args)
    }

    #[test]
    fn dev_credentials_stay_on_loopback() {
        let e = load(ConfigArgs {
            dev: Some("true".into()),
            bind: Some("0.0.0.0:7800".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "bind");
        assert!(e.message.contains("devkey"), "{e}");
        // With credentials of one's own, dev mode may listen anywhere.
        let s = load(ConfigArgs {
            dev: Some("true".into()),
            bind: Some("0.0.0.0:7800".into()),
            access_key_id: Some("AK".into()),
            secret_access_key: Some("SK".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.credentials.len(), 1);
    }

    #[test]
    fn limits_and_secrets() {
        let dev = || ConfigArgs { dev: Some("true".into()), ..Default::default() };
        let e = load(ConfigArgs { max_token_minutes: Some("20161".into()), ..dev() }).unwrap_err();
        assert_eq!(e.key, "max_token_minutes");
        let e = load(ConfigArgs { store: Some("mysql://root:hunter2@db/x".into()), ..dev() })
            .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = load(ConfigArgs { access_key_id: Some(String::new()), ..dev() }).unwrap_err();
        assert_eq!(e.key, "access_key_id");
    }

    #[test]
    fn dev_defaults() {
        let s = load(ConfigArgs { dev: Some("true".into()), ..Default::default() }).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:7800");
        assert_eq!(s.public_url, "http://127.0.0.1:7800");
        assert_eq!(s.credentials[0].access_key_id, "devkey");
        assert_eq!(s.credentials[0].secret_access_key, "devsecret");
        assert_eq!(s.data_dir, PathBuf::from("./troupe-data"));
        assert!(s.store_url.starts_with("sqlite://"));
        assert!(s.demo);
    }

    #[test]
    fn production_needs_credentials() {
        let e = load(ConfigArgs::default()).unwrap_err();
        assert_eq!(e.key, "access_key_id");
        let s = load(ConfigArgs {
            access_key_id: Some("AK".into()),
            secret_access_key: Some("SK".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.bind.to_string(), "0.0.0.0:7800");
        assert!(!s.demo);
    }

    #[test]
    fn bad_values_name_the_key() {
        let dev = || ConfigArgs { dev: Some("true".into()), ..Default::default() };
        let cases: Vec<(ConfigArgs, &str)> = vec![
            (ConfigArgs { bind: Some("nowhere".into()), ..dev() }, "bind"),
            (ConfigArgs { udp_ports: Some("9-3".into()), ..dev() }, "udp_ports"),
            (ConfigArgs { node_ip: Some("1.2.3".into()), ..dev() }, "node_ip"),
            (ConfigArgs { public_url: Some("ftp://x".into()), ..dev() }, "public_url"),
            (ConfigArgs { store: Some("mysql://x".into()), ..dev() }, "store"),
            (ConfigArgs { account_id: Some("12".into()), ..dev() }, "account_id"),
            (ConfigArgs { log_format: Some("xml".into()), ..dev() }, "log_format"),
            (ConfigArgs { max_stages: Some("-1".into()), ..dev() }, "max_stages"),
            (ConfigArgs { dev: Some("maybe".into()), ..Default::default() }, "dev"),
        ];
        for (args, key) in cases {
            let e = load(args).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e.to_string().contains(&format!("TROUPE_{}", key.to_uppercase())), "{e}");
        }
    }

    #[test]
    fn file_values_and_precedence() {
        let dir = std::env::temp_dir().join(format!("troupe-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("troupe.toml");
        std::fs::write(
            &path,
            r#"
            dev = true
            bind = "127.0.0.1:9000"
            data-dir = "/tmp/x"
            max_stages = 5
            [[credentials]]
            access_key_id = "ro"
            secret_access_key = "s"
            read_only = true
            "#,
        )
        .unwrap();
        let s = load(ConfigArgs {
            config: Some(path.clone()),
            bind: Some("127.0.0.1:9100".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.bind.port(), 9100, "flag beats file");
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.limits.max_stages, 5);
        assert_eq!(s.credentials.len(), 1);
        assert!(s.credentials[0].read_only);

        std::fs::write(
            &path,
            "[[credentials]]\naccess_key_id = \"a\"\nsecret_access_key = \"s\"\n\
             [[credentials]]\naccess_key_id = \"a\"\nsecret_access_key = \"t\"\n",
        )
        .unwrap();
        let e = load(ConfigArgs { config: Some(path.clone()), ..Default::default() }).unwrap_err();
        assert_eq!(e.key, "access_key_id");
        assert!(e.message.contains("more than once"), "{e}");

        std::fs::write(&path, "bnd = \"x\"\n").unwrap();
        let e = load(ConfigArgs { config: Some(path.clone()), ..Default::default() }).unwrap_err();
        assert_eq!(e.key, "bnd");
        std::fs::write(&path, "max_stages = \"lots\"\ndev = true\n").unwrap();
        let e = load(ConfigArgs { config: Some(path.clone()), ..Default::default() }).unwrap_err();
        assert_eq!(e.key, "max_stages");
        std::fs::write(&path, "this is not toml").unwrap();
        let e = load(ConfigArgs { config: Some(path), ..Default::default() }).unwrap_err();
        assert_eq!(e.key, "config");
        std::fs::remove_dir_all(dir).ok();
    }
}

//! Where a worker's sessions are reached: the UDP address of its socket, the node's ICE-TCP
//! address (one TCP port for every worker), and the prefix its sessions' ICE ufrags start
//! with. The prefix names the worker, so that a TCP connection, which arrives at the shared
//! port, is handed to the right worker from its first STUN check alone — no table to keep in
//! step with sessions, no lock (see [`worker_of_ufrag`]).

use std::net::SocketAddr;

use str0m::{Candidate, IceCreds, net::TcpType};

/// The local side of a worker's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The UDP candidate (the worker's socket, as clients see it).
    pub udp: SocketAddr,
    /// The passive ICE-TCP candidate, when ICE over TCP is on.
    pub tcp: Option<SocketAddr>,
    /// Starts every local ufrag of the worker's sessions (empty: no TCP routing needed).
    pub ufrag_prefix: String,
}

/// Hex digits of the worker index at the start of a ufrag.
const PREFIX_DIGITS: usize = 4;

impl Endpoint {
    /// A UDP-only endpoint (tests, tools, a single worker).
    pub fn udp(addr: SocketAddr) -> Endpoint {
        Endpoint { udp: addr, tcp: None, ufrag_prefix: String::new() }
    }

    /// The ufrag prefix of worker `index`.
    pub fn prefix_for(index: usize) -> String {
        format!("{:0width$x}", index & 0xffff, width = PREFIX_DIGITS)
    }

    /// New local ICE credentials for a session of this endpoint.
    pub fn ice_credentials(&self) -> IceCreds {
        let mut creds = IceCreds::new();
        if !self.ufrag_prefix.is_empty() {
            creds.ufrag = format!("{}{}", self.ufrag_prefix, creds.ufrag);
        }
        creds
    }

    /// The candidates put in answers: UDP first (clients prefer it), then passive TCP.
    pub fn candidates(&self) -> Result<Vec<Candidate>, String> {
        let mut out = vec![
            Candidate::host(self.udp, "udp")
                .map_err(|e| format!("bad UDP candidate {}: {e}", self.udp))?,
        ];
        if let Some(tcp) = self.tcp {
            let candidate = Candidate::builder()
                .tcp()
                .host(tcp)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|e| format!("bad TCP candidate {tcp}: {e}"))?;
            out.push(candidate);
        }
        Ok(out)
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Self {
        Endpoint::udp(addr)
    }
}

/// The worker a ufrag's prefix names, if it has one.
pub fn worker_of_ufrag(ufrag: &str) -> Option<usize> {
    let digits = ufrag.get(..PREFIX_DIGITS)?;
    usize::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ufrags_name_their_worker() {
        let endpoint = Endpoint {
            udp: SocketAddr::from(([10, 0, 0, 1], 7801)),
            tcp: Some(SocketAddr::from(([10, 0, 0, 1], 7801))),
            ufrag_prefix: Endpoint::prefix_for(11),
        };
        let creds = endpoint.ice_credentials();
        assert_eq!(worker_of_ufrag(&creds.ufrag), Some(11));
        assert!(creds.ufrag.len() >= 4 + 16, "the random part stays whole");
        assert_eq!(worker_of_ufrag("zz"), None);
        assert_eq!(worker_of_ufrag("xyzw1234"), None);
        let candidates = endpoint.candidates().unwrap();
        assert_eq!(candidates.len(), 2);
        assert!(candidates[1].to_sdp_string().contains("tcp"), "{}", candidates[1]);
        assert!(candidates[1].to_sdp_string().ends_with("tcptype passive"));
    }
}

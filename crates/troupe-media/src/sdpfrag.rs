//! Trickle ICE SDP fragments (RFC 8840), the body of a WHIP `PATCH` (RFC 9725 §4.3): the
//! client's ICE credentials and the candidates it trickles. Credentials that differ from the
//! session's current remote ones mean the client restarted ICE.

use str0m::Candidate;

/// What a client's fragment says.
#[derive(Debug, Default)]
pub struct Fragment {
    pub ufrag: Option<String>,
    pub pwd: Option<String>,
    pub candidates: Vec<Candidate>,
    pub end_of_candidates: bool,
}

/// Why a fragment cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FragmentError {
    #[error("line {line} of the SDP fragment is not an SDP line (`x=...`)")]
    NotSdp { line: usize },
    #[error("the candidate on line {line} is malformed: {reason}")]
    BadCandidate { line: usize, reason: String },
    #[error("the fragment has an a=ice-ufrag without an a=ice-pwd, or the other way round")]
    HalfCredentials,
    #[error("the fragment names two different ICE credentials")]
    ConflictingCredentials,
}

/// Most candidates a fragment may carry: a browser trickles a handful per interface.
pub const MAX_CANDIDATES: usize = 64;

/// Parses a fragment. Unknown lines (`m=`, `a=mid:`, `a=ice-options:`...) are skipped: the
/// session has one transport (BUNDLE), so every candidate is for it.
pub fn parse(body: &str) -> Result<Fragment, FragmentError> {
    let mut fragment = Fragment::default();
    for (index, raw) in body.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim_end_matches('\r');
        if text.is_empty() {
            continue;
        }
        if text.as_bytes().get(1) != Some(&b'=') {
            return Err(FragmentError::NotSdp { line });
        }
        let Some(attribute) = text.strip_prefix("a=") else { continue };
        if let Some(ufrag) = attribute.strip_prefix("ice-ufrag:") {
            set_once(&mut fragment.ufrag, ufrag)?;
        } else if let Some(pwd) = attribute.strip_prefix("ice-pwd:") {
            set_once(&mut fragment.pwd, pwd)?;
        } else if attribute.starts_with("candidate:") {
            if fragment.candidates.len() >= MAX_CANDIDATES {
                return Err(FragmentError::BadCandidate {
                    line,
                    reason: format!("more than {MAX_CANDIDATES} candidates"),
                });
            }
            let candidate = Candidate::from_sdp_string(attribute)
                .map_err(|e| FragmentError::BadCandidate { line, reason: e.to_string() })?;
            fragment.candidates.push(candidate);
        } else if attribute == "end-of-candidates" {
            fragment.end_of_candidates = true;
        }
    }
    if fragment.ufrag.is_some() != fragment.pwd.is_some() {
        return Err(FragmentError::HalfCredentials);
    }
    Ok(fragment)
}

fn set_once(slot: &mut Option<String>, value: &str) -> Result<(), FragmentError> {
    let value = value.trim();
    match slot {
        Some(existing) if existing != value => Err(FragmentError::ConflictingCredentials),
        _ => {
            *slot = Some(value.to_string());
            Ok(())
        }
    }
}

/// The server's answer to an ICE restart: its new credentials and its candidates.
pub fn restart_answer(ufrag: &str, pwd: &str, candidates: &[Candidate]) -> String {
    let mut out = format!("a=ice-lite\r\na=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n");
    for candidate in candidates {
        out.push_str("a=");
        out.push_str(&candidate.to_sdp_string());
        out.push_str("\r\n");
    }
    out.push_str("a=end-of-candidates\r\n");
    out
}

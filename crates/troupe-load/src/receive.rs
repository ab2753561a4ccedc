//! What a subscription checks in what it receives, whichever way the packets were decrypted:
//! per stream (SSRC), sequence continuity over the measurement window (the gaps are loss) and
//! reordering; per packet, the forwarding delay from its send stamp; once, the join time.

use std::time::Instant;

use crate::{media::stamp, peer::Tally, rtp, srtp::SrtpReceiver};

/// When and for whom a datagram arrived: the kernel's receive time, the loop's time, and the
/// subscription's start and group (for its join time).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub received_ns: u64,
    pub now: Instant,
    pub started: Instant,
    pub group: usize,
}

/// What [`Streams::take_srtp`] did with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Authenticated, decrypted and counted.
    Counted,
    /// Not an RTP header that holds together: dropped.
    Malformed,
    /// A retransmission (RTX payload type): dropped, as nothing asked for it.
    Repair,
    /// Did not authenticate, or its padding is impossible: dropped, and counted as rejected
    /// while the window is open.
    Rejected,
}

struct Stream {
    ssrc: u32,
    /// Highest extended sequence number seen (also the SRTP index of the direct path).
    highest: u64,
    window_first: Option<u64>,
    window_highest: u64,
}

/// The streams of one subscription.
#[derive(Default)]
pub struct Streams {
    streams: Vec<Stream>,
    joined: bool,
}

impl Streams {
    /// The extended sequence number of `sequence` on `ssrc`: the nearest to the highest seen,
    /// or the number itself (rollover 0, as SRTP starts) for a stream's first packet.
    pub fn extend(&self, ssrc: u32, sequence: u16) -> u64 {
        match self.streams.iter().find(|s| s.ssrc == ssrc) {
            Some(s) => rtp::extend(sequence, s.highest),
            None => u64::from(sequence),
        }
    }

    /// The direct receive path for one SRTP datagram from the server: the header read in the
    /// clear, the packet authenticated and decrypted with `srtp`, then counted by
    /// [`Streams::record`]. `resend_types` are the RTX payload types. Whatever the bytes, this
    /// returns; nothing a server sends can make it panic (`tests/direct_receive.rs`, and the
    /// `load_receive` fuzz target).
    pub fn take_srtp(
        &mut self,
        srtp: &mut SrtpReceiver,
        resend_types: &[u8],
        data: &[u8],
        arrival: Arrival,
        tally: &mut Tally,
    ) -> Taken {
        let Some(header) = rtp::Header::parse(data) else { return Taken::Malformed };
        if resend_types.contains(&header.payload_type) {
            return Taken::Repair;
        }
        let extended = self.extend(header.ssrc, header.sequence);
        let Some(payload) =
            srtp.open(data, &header, extended).and_then(|p| rtp::strip_padding(p, header.padding))
        else {
            if tally.window_open {
                tally.rejected += 1;
            }
            return Taken::Rejected;
        };
        let Arrival { received_ns, now, started, group } = arrival;
        self.record(header.ssrc, extended, payload, received_ns, now, started, group, tally);
        Taken::Counted
    }

    /// Counts one media packet: `extended` is its extended sequence number, `payload` its
    /// payload without padding, `received_ns` the kernel's receive time; `group` and `started`
    /// place the join time.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        ssrc: u32,
        extended: u64,
        payload: &[u8],
        received_ns: u64,
        now: Instant,
        started: Instant,
        group: usize,
        tally: &mut Tally,
    ) {
        if !self.joined {
            self.joined = true;
            tally.joins.push((group, now.duration_since(started).as_micros() as u64));
        }
        let stream = match self.streams.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => &mut self.streams[i],
            None => {
                self.streams.push(Stream {
                    ssrc,
                    highest: extended,
                    window_first: None,
                    window_highest: 0,
                });
                let last = self.streams.len() - 1;
                &mut self.streams[last]
            }
        };
        if extended < stream.highest {
            tally.reordered += 1;
        }
        stream.highest = stream.highest.max(extended);
        if !tally.window_open {
            return;
        }
        match stream.window_first {
            None => {
                stream.window_first = Some(extended);
                stream.window_highest = extended;
            }
            Some(first) if extended < first => return, // From before the window.
            Some(_) => stream.window_highest = stream.window_highest.max(extended),
        }
        tally.received += 1;
        match stamp::read_stamp(payload) {
            Some(sent) => tally.delay.record(received_ns.saturating_sub(sent) / 1000),
            None => tally.unstamped += 1,
        }
    }

    /// A window starts: each stream's counters start from its next packet.
    pub fn begin_window(&mut self) {
        for s in &mut self.streams {
            s.window_first = None;
        }
    }

    /// A window ends: adds the packets it should have brought, by sequence number.
    pub fn end_window(&mut self, tally: &mut Tally) {
        for s in &mut self.streams {
            if let Some(first) = s.window_first.take() {
                tally.expected += s.window_highest - first + 1;
            }
        }
    }
}

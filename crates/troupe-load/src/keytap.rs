//! The SRTP keys of a peer's DTLS handshake, for the subscribers' direct receive path
//! ([`crate::srtp`]). str0m keeps its keys private, but its crypto is pluggable: this is
//! str0m's default DTLS provider wrapped so that, when a handshake exports the DTLS-SRTP
//! keying material (RFC 5764 §4.2), a copy lands in the [`KeySlot`] of the peer whose `Rtc`
//! created that DTLS instance. Everything else is passed through unchanged.
//!
//! str0m creates an `Rtc`'s DTLS instance inside `RtcConfig::build`, on the calling thread, so
//! the slot is handed over through a thread-local set around that call ([`build_with_slot`]).

use std::{
    cell::RefCell,
    sync::{Arc, Mutex, OnceLock},
    time::Instant,
};

use str0m::{
    Rtc, RtcConfig,
    crypto::{
        CryptoError, CryptoProvider,
        dtls::{
            DtlsCert, DtlsImplError, DtlsInstance, DtlsOutput, DtlsProvider, DtlsVersion,
            ProtocolVersion, SrtpProfile,
        },
    },
};

/// What a handshake exported: the keying material (client key, server key, client salt,
/// server salt), the profile it is for, and whether this side was the DTLS client.
#[derive(Clone)]
pub struct Keys {
    pub material: Vec<u8>,
    pub profile: SrtpProfile,
    pub active: bool,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key bytes.
        f.debug_struct("Keys")
            .field("profile", &self.profile)
            .field("active", &self.active)
            .finish()
    }
}

/// Where one peer's keys arrive (from the thread that drives its `Rtc`).
#[derive(Debug, Default)]
pub struct KeySlot(Mutex<Option<Keys>>);

impl KeySlot {
    pub fn get(&self) -> Option<Keys> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, keys: Keys) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(keys);
    }
}

thread_local! {
    static PENDING: RefCell<Option<Arc<KeySlot>>> = const { RefCell::new(None) };
}

/// Builds an `Rtc` from `config` whose DTLS keys will be copied into `slot`.
pub fn build_with_slot(config: RtcConfig, now: Instant, slot: Arc<KeySlot>) -> Rtc {
    PENDING.with(|p| *p.borrow_mut() = Some(slot));
    let rtc = config.set_crypto_provider(provider()).build(now);
    PENDING.with(|p| p.borrow_mut().take());
    rtc
}

/// str0m's default crypto (aws-lc-rs) with the DTLS provider wrapped.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let inner = str0m::crypto::from_feature_flags();
            let tap: &'static TapProvider =
                Box::leak(Box::new(TapProvider { inner: inner.dtls_provider }));
            Arc::new(CryptoProvider { dtls_provider: tap, ..inner })
        })
        .clone()
}

#[derive(Debug)]
struct TapProvider {
    inner: &'static dyn DtlsProvider,
}

impl DtlsProvider for TapProvider {
    fn generate_certificate(&self) -> Option<DtlsCert> {
        self.inner.generate_certificate()
    }

    fn new_dtls(
        &self,
        cert: &DtlsCert,
        now: Instant,
        dtls_version: DtlsVersion,
        mtu: Option<usize>,
    ) -> Result<Box<dyn DtlsInstance>, CryptoError> {
        let inner = self.inner.new_dtls(cert, now, dtls_version, mtu)?;
        let slot = PENDING.with(|p| p.borrow_mut().take());
        Ok(Box::new(TapInstance { inner, slot }))
    }
}

#[derive(Debug)]
struct TapInstance {
    inner: Box<dyn DtlsInstance>,
    slot: Option<Arc<KeySlot>>,
}

impl DtlsInstance for TapInstance {
    fn set_active(&mut self, active: bool) {
        self.inner.set_active(active)
    }

    fn handle_packet(&mut self, packet: &[u8]) -> Result<(), DtlsImplError> {
        self.inner.handle_packet(packet)
    }

    fn poll_output<'a>(&mut self, buf: &'a mut [u8]) -> DtlsOutput<'a> {
        let output = self.inner.poll_output(buf);
        if let (DtlsOutput::KeyingMaterial(material, profile), Some(slot)) = (&output, &self.slot) {
            slot.set(Keys {
                material: material.to_vec(),
                profile: *profile,
                active: self.inner.is_active(),
            });
        }
        output
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), DtlsImplError> {
        self.inner.handle_timeout(now)
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<usize, DtlsImplError> {
        self.inner.send_application_data(data)
    }

    fn is_active(&self) -> bool {
        self.inner.is_active()
    }

    fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.inner.protocol_version()
    }

    fn is_closing(&self) -> bool {
        self.inner.is_closing()
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn close(&mut self) -> Result<(), DtlsImplError> {
        self.inner.close()
    }
}

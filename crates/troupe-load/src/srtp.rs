//! SRTP decryption for subscribers (RFC 3711, RFC 7714), with the keys of the peer's own DTLS
//! handshake ([`crate::keytap`]): a forwarded media packet is authenticated and decrypted once,
//! into a buffer reused for every packet, and nothing else — no jitter buffer, no NACK
//! register, no allocation. The ciphers are str0m's own provider's (aws-lc-rs), so the work
//! per packet is the same AES as str0m's; what is skipped is the machinery around it.
//!
//! Key derivation is RFC 3711 §4.3 (AES-CM PRF), which RFC 7714 §11 keeps for AES-GCM.

use str0m::crypto::{
    AeadAes128Gcm, AeadAes128GcmCipher, AeadAes256Gcm, AeadAes256GcmCipher, Aes128CmSha1_80,
    Aes128CmSha1_80Cipher, CryptoProvider, Sha1HmacProvider, SrtpProvider, dtls::SrtpProfile,
};

use crate::{keytap::Keys, rtp::Header};

const LABEL_RTP_ENCRYPTION: u8 = 0;
const LABEL_RTP_AUTHENTICATION: u8 = 1;
const LABEL_RTP_SALT: u8 = 2;
/// aws-lc-rs's CTR mode writes up to a block more than its input.
const CTR_SLACK: usize = 15;

enum Cipher {
    Cm {
        auth_key: [u8; Aes128CmSha1_80::HMAC_KEY_LEN],
        salt: [u8; Aes128CmSha1_80::SALT_LEN],
        cipher: Box<dyn Aes128CmSha1_80Cipher>,
        hmac: &'static dyn Sha1HmacProvider,
    },
    Gcm128 {
        salt: [u8; AeadAes128Gcm::SALT_LEN],
        cipher: Box<dyn AeadAes128GcmCipher>,
    },
    Gcm256 {
        salt: [u8; AeadAes256Gcm::SALT_LEN],
        cipher: Box<dyn AeadAes256GcmCipher>,
    },
}

/// Decrypts the SRTP packets one side of a DTLS-SRTP session receives.
pub struct SrtpReceiver {
    cipher: Cipher,
    plain: Vec<u8>,
}

impl SrtpReceiver {
    /// The receiving context for `keys` (the remote side's key and salt); `None` for a profile
    /// this does not know.
    pub fn new(keys: &Keys, crypto: &CryptoProvider) -> Option<SrtpReceiver> {
        let srtp = crypto.srtp_provider;
        // RFC 5764 §4.2: client key, server key, client salt, server salt. We receive what
        // the other side writes: the server's half when we are the DTLS client.
        let remote = |key_len: usize, salt_len: usize| -> Option<(Vec<u8>, Vec<u8>)> {
            let m = &keys.material;
            if m.len() != 2 * (key_len + salt_len) {
                return None;
            }
            let (k, s) = if keys.active { (key_len, salt_len) } else { (0, 0) };
            Some((
                m[k..k + key_len].to_vec(),
                m[2 * key_len + s..2 * key_len + s + salt_len].to_vec(),
            ))
        };
        let cipher = match keys.profile {
            SrtpProfile::AES128_CM_SHA1_80 => {
                let (key, salt) = remote(Aes128CmSha1_80::KEY_LEN, Aes128CmSha1_80::SALT_LEN)?;
                let mut session_key = [0; Aes128CmSha1_80::KEY_LEN];
                let mut auth_key = [0; Aes128CmSha1_80::HMAC_KEY_LEN];
                let mut session_salt = [0; Aes128CmSha1_80::SALT_LEN];
                derive(srtp, &key, &salt, LABEL_RTP_ENCRYPTION, &mut session_key);
                derive(srtp, &key, &salt, LABEL_RTP_AUTHENTICATION, &mut auth_key);
                derive(srtp, &key, &salt, LABEL_RTP_SALT, &mut session_salt);
                Cipher::Cm {
                    auth_key,
                    salt: session_salt,
                    cipher: srtp.aes_128_cm_sha1_80().create_cipher(session_key, false),
                    hmac: crypto.sha1_hmac_provider,
                }
            }
            SrtpProfile::AEAD_AES_128_GCM => {
                let (key, salt) = remote(AeadAes128Gcm::KEY_LEN, AeadAes128Gcm::SALT_LEN)?;
                let mut session_key = [0; AeadAes128Gcm::KEY_LEN];
                let mut session_salt = [0; AeadAes128Gcm::SALT_LEN];
                derive(srtp, &key, &salt, LABEL_RTP_ENCRYPTION, &mut session_key);
                derive(srtp, &key, &salt, LABEL_RTP_SALT, &mut session_salt);
                Cipher::Gcm128 {
                    salt: session_salt,
                    cipher: srtp.aead_aes_128_gcm().create_cipher(session_key, false),
                }
            }
            SrtpProfile::AEAD_AES_256_GCM => {
                let (key, salt) = remote(AeadAes256Gcm::KEY_LEN, AeadAes256Gcm::SALT_LEN)?;
                let mut session_key = [0; AeadAes256Gcm::KEY_LEN];
                let mut session_salt = [0; AeadAes256Gcm::SALT_LEN];
                derive(srtp, &key, &salt, LABEL_RTP_ENCRYPTION, &mut session_key);
                derive(srtp, &key, &salt, LABEL_RTP_SALT, &mut session_salt);
                Cipher::Gcm256 {
                    salt: session_salt,
                    cipher: srtp.aead_aes_256_gcm().create_cipher(session_key, false),
                }
            }
            _ => return None,
        };
        Some(SrtpReceiver { cipher, plain: Vec::with_capacity(2048) })
    }

    /// Authenticates and decrypts one SRTP packet whose header is `header` and packet index
    /// (extended sequence number) `index`; returns its payload (padding included), or `None`
    /// when it does not authenticate.
    pub fn open(&mut self, packet: &[u8], header: &Header, index: u64) -> Option<&[u8]> {
        let roc = (index >> 16) as u32;
        match &mut self.cipher {
            Cipher::Cm { auth_key, salt, cipher, hmac } => {
                let tag_at = packet.len().checked_sub(Aes128CmSha1_80::HMAC_TAG_LEN)?;
                if tag_at < header.len {
                    return None;
                }
                let sha1 = |k: &[u8], parts: &[&[u8]]| hmac.sha1_hmac(k, parts);
                if !Aes128CmSha1_80::rtp_verify(
                    sha1,
                    auth_key,
                    &packet[..tag_at],
                    index,
                    &packet[tag_at..],
                ) {
                    return None;
                }
                let iv = Aes128CmSha1_80::rtp_iv(*salt, header.ssrc, index);
                let input = &packet[header.len..tag_at];
                self.plain.resize(input.len() + CTR_SLACK, 0);
                cipher.decrypt(&iv, input, &mut self.plain).ok()?;
                Some(&self.plain[..input.len()])
            }
            Cipher::Gcm128 { salt, cipher } => {
                let iv = AeadAes128Gcm::rtp_iv(*salt, header.ssrc, roc, header.sequence);
                let (aad, input) = packet.split_at(header.len);
                let len = input.len().checked_sub(AeadAes128Gcm::TAG_LEN)?;
                self.plain.resize(len, 0);
                cipher.decrypt(&iv, &[aad], input, &mut self.plain).ok()?;
                Some(&self.plain[..len])
            }
            Cipher::Gcm256 { salt, cipher } => {
                let iv = AeadAes256Gcm::rtp_iv(*salt, header.ssrc, roc, header.sequence);
                let (aad, input) = packet.split_at(header.len);
                let len = input.len().checked_sub(AeadAes256Gcm::TAG_LEN)?;
                self.plain.resize(len, 0);
                cipher.decrypt(&iv, &[aad], input, &mut self.plain).ok()?;
                Some(&self.plain[..len])
            }
        }
    }
}

/// The SRTP key derivation function (RFC 3711 §4.3.1, key derivation rate 0): AES in counter
/// mode keyed with the master key, over the master salt with the label at byte 7.
fn derive(srtp: &dyn SrtpProvider, master: &[u8], salt: &[u8], label: u8, out: &mut [u8]) {
    let mut input = [0u8; 16];
    input[..salt.len()].copy_from_slice(salt);
    input[7] ^= label;
    let mut block = [0u8; 32];
    for (round, chunk) in out.chunks_mut(16).enumerate() {
        input[14..].copy_from_slice(&(round as u16).to_be_bytes());
        if master.len() == 32 {
            srtp.srtp_aes_256_ecb_round(master, &input, &mut block);
        } else {
            srtp.srtp_aes_128_ecb_round(master, &input, &mut block);
        }
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3711 Appendix B.3's key derivation test vectors.
    #[test]
    fn key_derivation_matches_rfc_3711() {
        let crypto = str0m::crypto::from_feature_flags();
        let master = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
        let mut key = [0; 16];
        derive(crypto.srtp_provider, &master, &salt, LABEL_RTP_ENCRYPTION, &mut key);
        assert_eq!(key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut session_salt = [0; 14];
        derive(crypto.srtp_provider, &master, &salt, LABEL_RTP_SALT, &mut session_salt);
        assert_eq!(session_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
        let mut auth = [0; 20];
        derive(crypto.srtp_provider, &master, &salt, LABEL_RTP_AUTHENTICATION, &mut auth);
        assert_eq!(auth.to_vec(), hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
    }
}

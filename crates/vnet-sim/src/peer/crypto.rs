//! Seeded randomness and a deterministic certificate for simulated peers.
//!
//! webrtc 0.21 lets an application replace its crypto provider
//! (`SettingEngineBuilder::with_crypto_provider`). [`SeededCryptoProvider`] keeps the built-in
//! provider's algorithms and replaces only its random source with a `ChaCha8` stream derived from
//! the simulation seed, so what webrtc draws through the provider (ICE username fragments,
//! passwords and tie-breakers, DTLS client/server randoms, cookies and explicit IVs) repeats from
//! run to run.
//!
//! What it cannot reach (upstream, webrtc/rtc 0.21.1): ring draws its own OS randomness for
//! ephemeral key exchange and for ECDSA and RSA signatures, and many crates call `rand::random`
//! directly (SSRCs, RTP sequence numbers and timestamps, STUN transaction ids, SCTP tags and
//! TSNs, SDP session ids). Those bytes differ on every run; the simulator's determinism is about
//! timing and sizes, not bytes (see `docs/simulator.md`).
//!
//! One of those holes would change sizes: an ECDSA signature in DER is 70, 71 or 72 bytes
//! depending on its random nonce (each of `r` and `s` takes a leading zero byte when its top bit
//! is set), and the DTLS handshake carries three of them (certificate, ServerKeyExchange,
//! CertificateVerify). [`seeded_certificate`] wraps the ECDSA key in a signer that re-signs until
//! the signature is the full 72 bytes (each attempt draws a fresh nonce, so this takes four tries
//! on average), and gives the certificate a seeded 20-byte serial, so every DTLS flight has the
//! same size on every run.
//!
//! Ed25519, whose signatures are deterministic and always 64 bytes, would be the clean answer,
//! but rtc-dtls 0.21.1 only lets an ECDSA (or RSA) key serve the ECDHE suites
//! (`Config` → "no CipherSuites satisfy this Config"); `tests/upstream.rs` notices when that
//! changes.

use std::sync::{Arc, Mutex, PoisonError};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::RngCore;
use rtc::peer_connection::certificate::CertificateParams;
use webrtc::peer_connection::RTCCertificate;
use webrtc::peer_connection::crypto::{
    self, CryptoError, PublicKey, RTCCrypto, RTCCryptoProvider, RTCRandom, SecretVec,
    SignatureScheme, SigningKey,
};

use crate::seed::stream;

/// The built-in crypto provider with its random source replaced by a seeded stream.
pub struct SeededCryptoProvider {
    inner: Arc<dyn RTCCryptoProvider>,
    rng: Mutex<ChaCha8Rng>,
}

impl std::fmt::Debug for SeededCryptoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeededCryptoProvider")
            .field("algorithms", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl SeededCryptoProvider {
    /// The built-in provider's algorithms, drawing randomness from `seed`.
    pub fn new(seed: u64) -> Result<Self, CryptoError> {
        Ok(Self {
            inner: crypto::default_provider()?,
            rng: Mutex::new(stream(seed, "crypto")),
        })
    }
}

impl RTCCryptoProvider for SeededCryptoProvider {
    fn name(&self) -> &'static str {
        "vnet-sim seeded"
    }

    fn crypto(&self) -> &dyn RTCCrypto {
        self.inner.crypto()
    }

    fn random(&self) -> &dyn RTCRandom {
        self
    }
}

impl RTCRandom for SeededCryptoProvider {
    fn fill(&self, output: &mut [u8]) -> Result<(), CryptoError> {
        self.rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(output);
        Ok(())
    }
}

/// The DER length of an ECDSA P-256 signature whose `r` and `s` both need a leading zero:
/// `SEQUENCE(2) + 2 × INTEGER(2 + 33)`.
pub const ECDSA_P256_SIGNATURE_LEN: usize = 72;

/// Signing attempts before giving up on the full length (the chance of needing more is
/// `(3/4)^64`, about one in ten million).
const MAX_SIGNING_ATTEMPTS: usize = 64;

/// An ECDSA P-256 key whose signatures are always [`ECDSA_P256_SIGNATURE_LEN`] bytes long.
struct FixedLengthEcdsa(Arc<dyn SigningKey>);

impl SigningKey for FixedLengthEcdsa {
    fn supports(&self, scheme: SignatureScheme) -> bool {
        self.0.supports(scheme)
    }

    fn public_key(&self) -> PublicKey<'_> {
        self.0.public_key()
    }

    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = self.0.sign(scheme, message)?;
        for _ in 1..MAX_SIGNING_ATTEMPTS {
            if signature.len() == ECDSA_P256_SIGNATURE_LEN {
                break;
            }
            signature = self.0.sign(scheme, message)?;
        }
        Ok(signature)
    }

    fn to_pkcs8_der(&self) -> Result<Option<SecretVec>, CryptoError> {
        self.0.to_pkcs8_der()
    }
}

/// A self-signed ECDSA P-256 DTLS certificate of fixed size: a seeded serial number, and
/// signatures (its own and the handshake's) always [`ECDSA_P256_SIGNATURE_LEN`] bytes long.
///
/// The key itself comes from the provider's key generation, which in ring 0.17 draws from the
/// OS: its bytes differ between runs, its size does not.
pub fn seeded_certificate(
    provider: &dyn RTCCryptoProvider,
    seed: u64,
) -> Result<RTCCertificate, String> {
    let scheme = SignatureScheme::EcdsaP256Sha256;
    let key = provider
        .crypto()
        .generate_signing_key(scheme)
        .map_err(|e| format!("generating an ECDSA P-256 key: {e}"))?;
    let key: Arc<dyn SigningKey> = Arc::new(FixedLengthEcdsa(key));
    let mut params = CertificateParams::new(vec!["vnet-sim".to_owned()])
        .map_err(|e| format!("certificate parameters: {e}"))?;
    // 20 bytes with the top bit clear and the first byte non-zero: DER encodes it in exactly 20.
    let mut serial = [0u8; 20];
    stream(seed, "certificate serial").fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f).max(1);
    params.serial_number = Some(serial.to_vec().into());
    RTCCertificate::generate_from_signing_key(params, scheme, key)
        .map_err(|e| format!("signing the certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything webrtc draws through the provider must repeat for a seed and differ across
    /// seeds, or ICE credentials and DTLS randoms would vary between identical runs.
    #[test]
    fn the_provider_draws_the_same_bytes_for_the_same_seed() {
        let draw = |seed| {
            let p = SeededCryptoProvider::new(seed).expect("ring is built in");
            let mut b = [0u8; 16];
            p.random().fill(&mut b).expect("infallible");
            b
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    /// Every signature must have the same length, or DTLS flights (and so the link log) would
    /// differ in size between runs of the same seed.
    #[test]
    fn signatures_always_have_the_full_der_length() {
        let p = SeededCryptoProvider::new(1).expect("ring is built in");
        let key = p
            .crypto()
            .generate_signing_key(SignatureScheme::EcdsaP256Sha256)
            .expect("ring generates P-256 keys");
        let key = FixedLengthEcdsa(key);
        let lengths: Vec<usize> = (0..64u8)
            .map(|i| {
                key.sign(SignatureScheme::EcdsaP256Sha256, &[i])
                    .expect("signs")
                    .len()
            })
            .collect();
        assert!(
            lengths.iter().all(|&l| l == ECDSA_P256_SIGNATURE_LEN),
            "{lengths:?}"
        );
    }

    /// Certificates are exchanged in the DTLS handshake: their size must not vary with the
    /// random key they carry.
    #[test]
    fn seeded_certificates_all_have_one_size() {
        let p = SeededCryptoProvider::new(1).expect("ring is built in");
        let sizes: Vec<usize> = (0..16)
            .map(|seed| {
                let cert = seeded_certificate(&p, seed).expect("P-256 is supported by ring");
                cert.serialize_pem().expect("exportable").len()
            })
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    }
}

//! The device secret and the keys derived from it.
//!
//! `HKDF-SHA512(salt = "faceproof/v1", ikm = device secret)` then one `expand` per purpose,
//! with the relying party id and the epoch in the info string: a key never serves two
//! purposes, two relying parties, or two epochs.

use crate::error::{Error, Result};
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::Sha512;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest relying-party id (bytes): it is length-prefixed with one byte in every format.
pub const MAX_RP_ID: usize = 255;

/// 32 random bytes that never leave the device (IndexedDB or a WebAuthn PRF output).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DeviceSecret([u8; 32]);

impl std::fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSecret(redacted)")
    }
}

impl DeviceSecret {
    /// A fresh secret from `rng` (in the product: [`OsRng`], the OS / browser CSPRNG).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Result<DeviceSecret> {
        Ok(DeviceSecret(random_bytes(rng)?))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DeviceSecret> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::InvalidArgument(format!("device secret must be 32 bytes, got {}", bytes.len())))?;
        Ok(DeviceSecret(arr))
    }

    /// The raw bytes, for the caller to store (wrapped) on the device.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// `N` bytes from `rng`. Every random value of the protocol comes through here, so that a
/// failing source is an error ([`Error::Randomness`]), never zeros.
pub fn random_bytes<const N: usize>(rng: &mut (impl RngCore + CryptoRng)) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    rng.try_fill_bytes(&mut b).map_err(|e| Error::Randomness(e.to_string()))?;
    Ok(b)
}

/// The operating system's CSPRNG (`crypto.getRandomValues` in browsers) through `getrandom`,
/// as a `rand_core` generator: what the product passes wherever the protocol takes an RNG.
/// The protocol only calls `try_fill_bytes`, whose failure is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Infallible by rand_core's signature; the protocol never calls it (see above). A
        // source that fails must not hand out predictable bytes, so this stops.
        if let Err(e) = getrandom::fill(dest) {
            panic!("random source failed: {e}"); // ok: unreachable from the protocol's entry points
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> std::result::Result<(), rand_core::Error> {
        getrandom::fill(dest).map_err(|_| {
            let code = std::num::NonZeroU32::new(rand_core::Error::CUSTOM_START).unwrap_or(std::num::NonZeroU32::MIN);
            rand_core::Error::from(code)
        })
    }
}

impl CryptoRng for OsRng {}

/// Check a relying-party id: 1..=255 bytes of printable ASCII (a domain name, typically).
pub fn check_rp_id(rp_id: &str) -> Result<()> {
    if rp_id.is_empty() || rp_id.len() > MAX_RP_ID || !rp_id.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(Error::InvalidArgument("rp id must be 1-255 printable ASCII characters".into()));
    }
    Ok(())
}

/// The purpose-separated keys for one (device, relying party, epoch).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Keys {
    /// Seeds the cancelable transform (projection matrix).
    pub transform: [u8; 32],
    /// Mixed into every lock hash of the face-bound key.
    pub lock: [u8; 32],
    /// Seals the reference (ChaCha20-Poly1305).
    pub aead: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(redacted)")
    }
}

impl Keys {
    pub fn derive(secret: &DeviceSecret, rp_id: &str, epoch: u32) -> Result<Keys> {
        check_rp_id(rp_id)?;
        let hk = Hkdf::<Sha512>::new(Some(b"faceproof/v1"), &secret.0);
        let expand = |purpose: &str| -> [u8; 32] {
            let mut info = Vec::with_capacity(64);
            info.extend_from_slice(b"faceproof/v1/");
            info.extend_from_slice(purpose.as_bytes());
            info.push(0);
            info.push(rp_id.len() as u8);
            info.extend_from_slice(rp_id.as_bytes());
            info.extend_from_slice(&epoch.to_le_bytes());
            let mut out = [0u8; 32];
            // 32 bytes is far below HKDF-SHA512's 255*64 limit: expand cannot fail.
            let _ = hk.expand(&info, &mut out);
            out
        };
        Ok(Keys { transform: expand("transform"), lock: expand("lock"), aead: expand("aead") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_purpose_rp_and_epoch() {
        let s = DeviceSecret::from_bytes(&[7; 32]).unwrap();
        let a = Keys::derive(&s, "bank.example", 1).unwrap();
        let b = Keys::derive(&s, "bank.example", 2).unwrap();
        let c = Keys::derive(&s, "shop.example", 1).unwrap();
        let d = Keys::derive(&DeviceSecret::from_bytes(&[8; 32]).unwrap(), "bank.example", 1).unwrap();
        assert_ne!(a.transform, a.lock);
        assert_ne!(a.lock, a.aead);
        for other in [&b, &c, &d] {
            assert_ne!(a.transform, other.transform);
            assert_ne!(a.aead, other.aead);
        }
        assert_eq!(a.aead, Keys::derive(&s, "bank.example", 1).unwrap().aead);
    }

    #[test]
    fn bad_inputs_are_rejected_and_secrets_are_not_printed() {
        assert!(DeviceSecret::from_bytes(&[0; 31]).is_err());
        assert!(check_rp_id("").is_err());
        assert!(check_rp_id("has space").is_err());
        assert!(check_rp_id(&"a".repeat(256)).is_err());
        let s = DeviceSecret::generate(&mut OsRng).unwrap();
        assert_eq!(format!("{s:?}"), "DeviceSecret(redacted)");
        assert_ne!(s.expose_bytes(), DeviceSecret::generate(&mut OsRng).unwrap().expose_bytes());
    }
}

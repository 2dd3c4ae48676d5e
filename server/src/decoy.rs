//! Decoy references: what `/api/challenge` sends for a name nobody enrolled, so that the answer
//! for an unknown name looks like the answer for a known one.
//!
//! A decoy is a reference in the sealed format (`docs/formats.md`) with this relying party's rp
//! id, epoch 1, the model its app uses, a public key that is a valid non-identity Ristretto255
//! point, and a random-looking nonce and body of a default-parameter reference's length. All of
//! it is derived from a server key (in the database, drawn on first start) and the account id
//! with HKDF-SHA256, so one name gets the same decoy every time, as an enrolled user gets the
//! same reference. Without the server key a decoy cannot be told from a real reference: the
//! real one's body is ChaCha20-Poly1305 ciphertext, the decoy's a ChaCha20 keystream. Nobody
//! knows the discrete logarithm of the decoy's public key (it is a hash to the group), so no
//! proof for it verifies.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use curve25519_dalek::ristretto::RistrettoPoint;
use faceproof_protocol::LockParams;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Bytes of a reference's sealed body (plaintext + Poly1305 tag) for lock parameters `p`: the
/// plaintext is a 10-byte head, the reliable-bit bitmap, a 32-byte seed and 48 bytes per lock
/// (`docs/formats.md`; a test checks it against a real enrollment).
pub const fn sealed_len(p: LockParams) -> usize {
    10 + p.n_bits as usize / 8 + 32 + 48 * p.locks as usize + 16
}

/// Bytes of the header before the sealed body (magic, version, rp id, epoch, public key,
/// model, nonce, body length).
pub const fn header_len(rp_id_len: usize, model_len: usize) -> usize {
    59 + rp_id_len + model_len
}

/// Makes the decoys of one relying party.
pub struct Decoys {
    hkdf: Hkdf<Sha256>,
    rp_id: String,
    model: String,
}

impl Decoys {
    pub fn new(server_key: &[u8; 32], rp_id: &str, model: &str) -> Decoys {
        Decoys {
            hkdf: Hkdf::<Sha256>::new(Some(b"faceproof-server/decoy/v1"), server_key),
            rp_id: rp_id.to_string(),
            model: model.to_string(),
        }
    }

    /// The OPRF key evaluations for the account `id` use when nobody enrolled it: derived like
    /// the decoy reference, so an unknown name's evaluations behave like a known one's.
    pub fn oprf_key(&self, id: &str) -> [u8; 32] {
        let mut okm = Zeroizing::new([0u8; 64]);
        let info = [b"oprf-key\0".as_slice(), id.as_bytes()].concat();
        // 64 bytes are far below HKDF-SHA256's limit: expand cannot fail here
        let _ = self.hkdf.expand(&info, okm.as_mut_slice());
        curve25519_dalek::Scalar::from_bytes_mod_order_wide(&okm).to_bytes()
    }

    /// The decoy reference and its public key for the account `id`.
    pub fn for_id(&self, id: &str) -> (Vec<u8>, [u8; 32]) {
        let mut okm = Zeroizing::new([0u8; 64 + 12 + 32]);
        let info = [b"reference\0".as_slice(), id.as_bytes()].concat();
        // 108 bytes are far below HKDF-SHA256's limit of 8160: expand cannot fail here
        let _ = self.hkdf.expand(&info, okm.as_mut_slice());
        let mut wide = Zeroizing::new([0u8; 64]);
        wide.copy_from_slice(&okm[..64]);
        let public_key = RistrettoPoint::from_uniform_bytes(&wide).compress().to_bytes();
        let nonce = &okm[64..76];
        let body_len = sealed_len(LockParams::DEFAULT);
        let mut out = Vec::with_capacity(header_len(self.rp_id.len(), self.model.len()) + body_len);
        out.extend_from_slice(b"FPRF");
        out.push(2);
        out.push(self.rp_id.len() as u8);
        out.extend_from_slice(self.rp_id.as_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&public_key);
        out.push(self.model.len() as u8);
        out.extend_from_slice(self.model.as_bytes());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&(body_len as u32).to_le_bytes());
        let body_at = out.len();
        out.resize(body_at + body_len, 0);
        let mut stream = ChaCha20::new(chacha20::Key::from_slice(&okm[76..108]), &[0u8; 12].into());
        stream.apply_keystream(&mut out[body_at..]);
        (out, public_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceproof_protocol::testing::{enroll_with_key, synthetic_views, TEST_MODEL};
    use faceproof_protocol::{check_public_key, reference_header, DeviceSecret, OprfKey, OsRng};

    #[test]
    fn a_decoy_has_the_size_and_header_of_a_real_default_reference() {
        let key = OprfKey::generate(&mut OsRng).unwrap();
        let secret = DeviceSecret::generate(&mut OsRng).unwrap();
        let views = synthetic_views(5, 4, 192);
        let real = enroll_with_key(&mut OsRng, &key, &secret, "localhost", 1, &views, LockParams::DEFAULT).unwrap();
        let decoys = Decoys::new(&[9; 32], "localhost", TEST_MODEL);
        let (decoy, pk) = decoys.for_id("nobody");
        assert_eq!(decoy.len(), real.reference.len());
        assert_eq!(
            real.reference.len(),
            header_len("localhost".len(), TEST_MODEL.len()) + sealed_len(LockParams::DEFAULT)
        );
        let (h, r) = (reference_header(&decoy).unwrap(), reference_header(&real.reference).unwrap());
        assert_eq!((&h.rp_id, h.epoch, &h.model), (&r.rp_id, r.epoch, &r.model));
        assert_eq!(h.public_key, pk);
        check_public_key(&pk).unwrap();
        // the length field and the layout up to the nonce match byte for byte but for the key
        let n = header_len("localhost".len(), TEST_MODEL.len());
        assert_eq!(decoy[n - 4..n], real.reference[n - 4..n]);
    }

    #[test]
    fn decoys_are_deterministic_per_name_and_key_and_look_random() {
        let a = Decoys::new(&[1; 32], "localhost", "m");
        let (d1, pk1) = a.for_id("alice");
        assert_eq!(a.for_id("alice"), (d1.clone(), pk1));
        let (d2, pk2) = a.for_id("alicf");
        assert_ne!(pk1, pk2);
        let (d3, pk3) = Decoys::new(&[2; 32], "localhost", "m").for_id("alice");
        assert_ne!(pk1, pk3);
        let body = header_len("localhost".len(), 1);
        assert_ne!(d1[body..], d2[body..]);
        assert_ne!(d1[body..], d3[body..]);
        // a keystream: each byte value about equally often (49 KB: 193 expected per value)
        let mut counts = [0usize; 256];
        for &b in &d1[body..] {
            counts[b as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (100..300).contains(&c)), "{counts:?}");
    }
}

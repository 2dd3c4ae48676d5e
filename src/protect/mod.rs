//! Template protection: nothing biometric leaves the device, and the server learns only that
//! the enrolled person is present.
//!
//! ```text
//! enroll:  device secret --HKDF(rp id, epoch)--> transform key, lock key, AEAD key
//!          embeddings (several views) --keyed projection--> codes --sample-then-lock--> locks
//!          locks hide a fresh Ristretto255 scalar s; public key P = s*G
//!          reference = AEAD(locks) with header (rp id, epoch, P)          -> server stores P, reference
//! prove:   reference --AEAD open--> locks;  live embeddings --> codes --open a lock--> s
//!          Schnorr signature with s over (challenge, reference digest, P, liveness digest)
//! verify:  server checks nonce (single use), expiry, P, reference digest, liveness, signature
//! ```

pub mod face_key;
pub mod keys;
pub mod proof;
pub mod reference;
pub mod transform;
pub mod verifier;

use crate::embed::Embedding;
use crate::error::{Error, Result};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use face_key::LockParams;
use keys::{random_bytes, DeviceSecret, Keys};
use proof::{Challenge, Proof};
use sha2::{Digest, Sha256};
use transform::{Projection, Transform};

/// What enrollment gives the relying party.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// Opaque without the device secret (sealed with ChaCha20-Poly1305).
    pub reference: Vec<u8>,
    /// Compressed Ristretto255 point of the face-bound key.
    pub public_key: [u8; 32],
}

fn project_all(t: &Transform, embeddings: &[Embedding]) -> Vec<Projection> {
    embeddings.iter().map(|e| t.project(e)).collect()
}

/// Make a reference from several views of the enrolling face (frames, augmentations).
pub fn enroll(
    secret: &DeviceSecret,
    rp_id: &str,
    epoch: u32,
    views: &[Embedding],
    params: LockParams,
) -> Result<Enrollment> {
    enroll_with_lock_seed(secret, rp_id, epoch, views, params, random_bytes()?)
}

/// [`enroll`] with a given seed for the choice of bits in each lock (reproducible
/// evaluation; the scalar and the AEAD nonce still come from the OS).
pub fn enroll_with_lock_seed(
    secret: &DeviceSecret,
    rp_id: &str,
    epoch: u32,
    views: &[Embedding],
    params: LockParams,
    lock_seed: [u8; 32],
) -> Result<Enrollment> {
    if views.is_empty() {
        return Err(Error::InvalidArgument("enrollment needs at least one face view".into()));
    }
    params.validate()?;
    let keys = Keys::derive(secret, rp_id, epoch)?;
    let transform = Transform::new(&keys.transform, params.n_bits as usize);
    let projections = project_all(&transform, views);
    let mut wide: [u8; 64] = random_bytes()?;
    let mut scalar = Scalar::from_bytes_mod_order_wide(&wide);
    zeroize::Zeroize::zeroize(&mut wide);
    let public_key = (&scalar * RISTRETTO_BASEPOINT_TABLE).compress().to_bytes();
    let locks = face_key::lock(&scalar, &projections, params, &keys.lock, lock_seed)?;
    zeroize::Zeroize::zeroize(&mut scalar); // Scalar is Copy: wipe it by hand
    let reference = reference::seal(&keys, rp_id, epoch, &public_key, &locks)?;
    Ok(Enrollment { reference, public_key })
}

/// Open the face-bound key of `reference` with live face views. `Err(FaceMismatch)` when no
/// view opens a lock.
pub fn open_key(secret: &DeviceSecret, rp_id: &str, reference_bytes: &[u8], probes: &[Embedding]) -> Result<Scalar> {
    let (header, _, _) = reference::parse(reference_bytes)?;
    let keys = Keys::derive(secret, rp_id, header.epoch)?;
    let (header, locks) = reference::unseal(&keys, rp_id, header.epoch, reference_bytes)?;
    let transform = Transform::new(&keys.transform, locks.params.n_bits as usize);
    let projections = project_all(&transform, probes);
    face_key::open(&locks, &projections, &keys.lock, &CompressedRistretto(header.public_key)).ok_or(Error::FaceMismatch)
}

/// Answer a relying party's challenge: open the key with the live face and sign.
pub fn prove(
    secret: &DeviceSecret,
    reference_bytes: &[u8],
    challenge: &Challenge,
    probes: &[Embedding],
    liveness_digest: [u8; 32],
) -> Result<Proof> {
    let mut scalar = open_key(secret, &challenge.rp_id, reference_bytes, probes)?;
    let proof = proof::sign(&scalar, challenge, reference::digest(reference_bytes), liveness_digest);
    zeroize::Zeroize::zeroize(&mut scalar);
    proof
}

/// The liveness digest bound into the proof: the challenge's nonce, the prompt sequence it
/// selects, and the outcome. The verifier recomputes it for "passed".
pub fn liveness_digest_for(challenge: &Challenge, passed: bool) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"faceproof/liveness/v1");
    h.update([challenge.rp_id.len() as u8]);
    h.update(challenge.rp_id.as_bytes());
    h.update(challenge.nonce);
    for p in crate::liveness::prompts_for(&challenge.nonce) {
        h.update([p as u8]);
    }
    h.update([passed as u8]);
    h.finalize().into()
}

//! The device's side: enroll (bind a fresh key to the face and seal the reference), open the
//! key with a live face, and answer a challenge.
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

use crate::embedding::Embedding;
use crate::error::{Error, Result};
use crate::face_key::{self, LockParams};
use crate::keys::{random_bytes, DeviceSecret, Keys};
use crate::proof::{self, Challenge, Proof};
use crate::reference::{self, ReferenceHeader};
use crate::transform::{Projection, Transform};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

/// What enrollment gives the relying party.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// Opaque without the device secret (sealed with ChaCha20-Poly1305).
    pub reference: Vec<u8>,
    /// Compressed Ristretto255 point of the face-bound key.
    pub public_key: [u8; 32],
}

fn project_all(t: &Transform, embeddings: &[Embedding]) -> Result<Vec<Projection>> {
    embeddings.iter().map(|e| t.project(e)).collect()
}

/// Make a reference from several views of the enrolling face (frames, augmentations). The
/// scalar, the lock layout and the AEAD nonce come from `rng`.
pub fn enroll(
    rng: &mut (impl RngCore + CryptoRng),
    secret: &DeviceSecret,
    rp_id: &str,
    epoch: u32,
    views: &[Embedding],
    params: LockParams,
) -> Result<Enrollment> {
    let lock_seed: [u8; 32] = random_bytes(rng)?;
    enroll_with_lock_seed(rng, secret, rp_id, epoch, views, params, lock_seed)
}

/// [`enroll`] with a given seed for the choice of bits in each lock (the evaluation harness
/// reproduces the lock layout with it).
pub fn enroll_with_lock_seed(
    rng: &mut (impl RngCore + CryptoRng),
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
    if views.iter().any(|v| v.dim() != reference::EMBEDDING_DIM) {
        return Err(Error::InvalidArgument(format!("face views must have {} dimensions", reference::EMBEDDING_DIM)));
    }
    let keys = Keys::derive(secret, rp_id, epoch)?;
    let transform = Transform::new(&keys.transform, params.n_bits as usize, reference::EMBEDDING_DIM);
    let projections = project_all(&transform, views)?;
    let mut wide: [u8; 64] = random_bytes(rng)?;
    let mut scalar = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    let public_key = (&scalar * RISTRETTO_BASEPOINT_TABLE).compress().to_bytes();
    let locks = face_key::lock(&scalar, &projections, params, &keys.lock, lock_seed);
    scalar.zeroize(); // Scalar is Copy: wipe it by hand
    let reference = reference::seal(rng, &keys, rp_id, epoch, &public_key, &locks?)?;
    Ok(Enrollment { reference, public_key })
}

/// Check that this device's secret opens `reference` for `rp_id` (authentic, well-formed,
/// sealed under its key) without a face: a client checks what the server sent before it asks
/// the user for one. Returns the reference's public header.
pub fn check_reference(secret: &DeviceSecret, rp_id: &str, reference_bytes: &[u8]) -> Result<ReferenceHeader> {
    let header = reference::parse(reference_bytes)?.0;
    let keys = Keys::derive(secret, rp_id, header.epoch)?;
    Ok(reference::unseal(&keys, rp_id, header.epoch, reference_bytes)?.0)
}

/// Open the face-bound key of `reference` with live face views. `Err(FaceMismatch)` when no
/// view opens a lock.
pub fn open_key(secret: &DeviceSecret, rp_id: &str, reference_bytes: &[u8], probes: &[Embedding]) -> Result<Scalar> {
    let header = reference::parse(reference_bytes)?.0;
    let keys = Keys::derive(secret, rp_id, header.epoch)?;
    let (header, locks) = reference::unseal(&keys, rp_id, header.epoch, reference_bytes)?;
    let transform = Transform::new(&keys.transform, locks.params.n_bits as usize, reference::EMBEDDING_DIM);
    let projections = project_all(&transform, probes)?;
    face_key::open(&locks, &projections, &keys.lock, &CompressedRistretto(header.public_key)).ok_or(Error::FaceMismatch)
}

/// Answer a relying party's challenge: open the key with the live face and sign.
pub fn prove(
    rng: &mut (impl RngCore + CryptoRng),
    secret: &DeviceSecret,
    reference_bytes: &[u8],
    challenge: &Challenge,
    probes: &[Embedding],
    liveness_digest: [u8; 32],
) -> Result<Proof> {
    let mut scalar = open_key(secret, &challenge.rp_id, reference_bytes, probes)?;
    let proof = proof::sign(rng, &scalar, challenge, reference::reference_digest(reference_bytes), liveness_digest);
    scalar.zeroize();
    proof
}

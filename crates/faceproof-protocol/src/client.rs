//! The device's side: enroll (bind a fresh key to the face and seal the reference), and answer
//! a challenge (open the key with a live face, sign). Both run in two steps around one request
//! to the relying party, which evaluates the locks' blinded inputs under its key for the user:
//!
//! ```text
//! enroll:  device secret --HKDF(rp id, epoch)--> transform key, lock key, AEAD key
//!          views --keyed projection--> codes --reliable bits--> lock inputs --blind--> relying party
//!          relying party's evaluation --unblind--> masks: locks hide a fresh scalar s; P = s*G
//!          reference = AEAD(locks) with header (rp id, epoch, P, model)  -> server stores P, reference
//! login:   reference --AEAD open--> locks;  live views --> codes --> lock inputs --blind--> relying party
//!          its evaluation --unblind--> a lock opens --> s;  Schnorr signature with s over
//!          (challenge, reference digest, P, liveness digest)
//! verify:  server checks nonce (single use), expiry, P, reference digest, liveness, signature
//! ```
//! Nothing here performs I/O: the caller carries [`EnrollmentRequest::blinded`] and
//! [`LoginRequest::blinded`] to the relying party and the answer back.

use crate::embedding::Embedding;
use crate::error::{Error, Result};
use crate::face_key::{self, FaceLocks, LockParams, ProbeInputs};
use crate::keys::{random_bytes, DeviceSecret, Keys};
use crate::oprf::{Blinded, ELEMENT_BYTES};
use crate::proof::{self, Challenge, Proof};
use crate::reference::{self, HeaderFields, ReferenceHeader};
use crate::transform::{Projection, Transform};
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

/// Most live views a login sends (each gives one candidate per lock; candidates that agree
/// are sent once): the relying party refuses larger batches. Each element a login sends is one
/// guess at one lock, so this bounds what one evaluation can try.
pub const MAX_PROBE_VIEWS: usize = 2;

/// The most blinded elements a login can need for `params` (what a relying party allows).
pub fn max_login_elements(params: LockParams) -> usize {
    params.locks as usize * MAX_PROBE_VIEWS
}

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

fn dim_of(views: &[Embedding]) -> Result<usize> {
    let dim = views.first().map_or(0, Embedding::dim);
    reference::check_dim(dim)?;
    if views.iter().any(|v| v.dim() != dim) {
        return Err(Error::InvalidArgument("face views of different dimensions".into()));
    }
    Ok(dim)
}

/// An enrollment waiting for the relying party's evaluation of its locks.
pub struct EnrollmentRequest {
    keys: Keys,
    rp_id: String,
    epoch: u32,
    model: String,
    dim: u16,
    params: LockParams,
    seed: [u8; 32],
    reliable: Vec<u16>,
    blinded: Blinded,
}

impl std::fmt::Debug for EnrollmentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EnrollmentRequest({} locks, redacted)", self.params.locks)
    }
}

impl EnrollmentRequest {
    /// Start enrolling several views of one face (frames, augmentations) from the embedder
    /// `model` under (rp id, epoch): one blinded element per lock, from `rng`.
    pub fn new(
        rng: &mut (impl RngCore + CryptoRng),
        secret: &DeviceSecret,
        rp_id: &str,
        epoch: u32,
        model: &str,
        views: &[Embedding],
        params: LockParams,
    ) -> Result<EnrollmentRequest> {
        let seed: [u8; 32] = random_bytes(rng)?;
        Self::with_lock_seed(rng, secret, rp_id, epoch, model, views, params, seed)
    }

    /// [`EnrollmentRequest::new`] with a given seed for the choice of bits in each lock (the
    /// evaluation harness reproduces the lock layout with it).
    #[allow(clippy::too_many_arguments)]
    pub fn with_lock_seed(
        rng: &mut (impl RngCore + CryptoRng),
        secret: &DeviceSecret,
        rp_id: &str,
        epoch: u32,
        model: &str,
        views: &[Embedding],
        params: LockParams,
        seed: [u8; 32],
    ) -> Result<EnrollmentRequest> {
        if views.is_empty() {
            return Err(Error::InvalidArgument("enrollment needs at least one face view".into()));
        }
        reference::check_model(model)?;
        params.validate()?;
        let dim = dim_of(views)?;
        let keys = Keys::derive(secret, rp_id, epoch)?;
        let transform = Transform::new(&keys.transform, params.n_bits as usize, dim);
        let projections = project_all(&transform, views)?;
        let mut inputs = face_key::lock_inputs(&projections, params, &keys.lock, &seed)?;
        let reliable = std::mem::take(&mut inputs.reliable);
        let blinded = Blinded::new(rng, std::mem::take(&mut inputs.inputs))?;
        Ok(EnrollmentRequest {
            keys,
            rp_id: rp_id.to_string(),
            epoch,
            model: model.to_string(),
            dim: dim as u16,
            params,
            seed,
            reliable,
            blinded,
        })
    }

    /// The blinded lock inputs for the relying party (uniformly random points: nothing about
    /// the face), one per lock.
    pub fn blinded(&self) -> &[[u8; ELEMENT_BYTES]] {
        self.blinded.elements()
    }

    /// Finish with the relying party's evaluation: a fresh scalar from `rng` locked under every
    /// lock, the sealed reference and the public key.
    pub fn finish(self, rng: &mut (impl RngCore + CryptoRng), evaluated: &[[u8; ELEMENT_BYTES]]) -> Result<Enrollment> {
        let mut prf = self.blinded.finalize(evaluated)?;
        let mut wide: [u8; 64] = random_bytes(rng)?;
        let mut scalar = Scalar::from_bytes_mod_order_wide(&wide);
        wide.zeroize();
        let public_key = (&scalar * RISTRETTO_BASEPOINT_TABLE).compress().to_bytes();
        let locks = face_key::lock(&scalar, self.params, self.reliable.clone(), &self.keys.lock, self.seed, &prf);
        scalar.zeroize(); // Scalar is Copy: wipe it by hand
        prf.zeroize();
        let fields = HeaderFields { public_key: &public_key, model: &self.model, dim: self.dim };
        let reference = reference::seal(rng, &self.keys, &self.rp_id, self.epoch, &fields, &locks?)?;
        Ok(Enrollment { reference, public_key })
    }
}

/// Check that this device's secret opens `reference` for `rp_id` (authentic, well-formed,
/// sealed under its key) without a face: a client checks what the server sent before it asks
/// the user for one. Returns the reference's public header.
pub fn check_reference(secret: &DeviceSecret, rp_id: &str, reference_bytes: &[u8]) -> Result<ReferenceHeader> {
    let header = reference::parse(reference_bytes)?.0;
    let keys = Keys::derive(secret, rp_id, header.epoch)?;
    Ok(reference::unseal(&keys, rp_id, header.epoch, reference_bytes)?.0)
}

/// A login waiting for the relying party's evaluation of its probes' lock inputs.
pub struct LoginRequest {
    keys: Keys,
    challenge: Challenge,
    reference_digest: [u8; 32],
    header: ReferenceHeader,
    locks: FaceLocks,
    candidates: ProbeInputs,
    blinded: Blinded,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoginRequest({} elements, redacted)", self.blinded.elements().len())
    }
}

impl LoginRequest {
    /// Start answering `challenge` with live face views from the embedder `model` (at most
    /// [`MAX_PROBE_VIEWS`]): the reference is checked first (this device's, this relying
    /// party's, this model's), then each distinct lock input is blinded with `rng`.
    pub fn new(
        rng: &mut (impl RngCore + CryptoRng),
        secret: &DeviceSecret,
        reference_bytes: &[u8],
        challenge: &Challenge,
        model: &str,
        probes: &[Embedding],
    ) -> Result<LoginRequest> {
        let header = reference::parse(reference_bytes)?.0;
        let keys = Keys::derive(secret, &challenge.rp_id, header.epoch)?;
        let (header, locks, sealed) = reference::unseal(&keys, &challenge.rp_id, header.epoch, reference_bytes)?;
        if header.model != model {
            return Err(Error::ModelMismatch { reference: header.model, probe: model.to_string() });
        }
        if probes.is_empty() || probes.len() > MAX_PROBE_VIEWS {
            return Err(Error::InvalidArgument(format!("a login takes 1 to {MAX_PROBE_VIEWS} live face views")));
        }
        if probes.iter().any(|p| p.dim() != sealed.dim as usize) {
            return Err(Error::ModelMismatch {
                reference: header.model,
                probe: format!("{model} ({} dimensions)", probes[0].dim()),
            });
        }
        let transform = Transform::new(&keys.transform, locks.params.n_bits as usize, sealed.dim as usize);
        let projections = project_all(&transform, probes)?;
        let mut candidates = face_key::probe_inputs(&locks, &projections, &keys.lock);
        let blinded = Blinded::new(rng, std::mem::take(&mut candidates.inputs))?;
        Ok(LoginRequest {
            keys,
            challenge: challenge.clone(),
            reference_digest: reference::reference_digest(reference_bytes),
            header,
            locks,
            candidates,
            blinded,
        })
    }

    /// The blinded lock inputs for the relying party, sent with the challenge's nonce.
    pub fn blinded(&self) -> &[[u8; ELEMENT_BYTES]] {
        self.blinded.elements()
    }

    /// Open the key with the relying party's evaluation and sign the challenge (with the
    /// liveness digest of the run for this challenge). `Err(FaceMismatch)` when no lock opens.
    pub fn finish(
        self,
        rng: &mut (impl RngCore + CryptoRng),
        evaluated: &[[u8; ELEMENT_BYTES]],
        liveness_digest: [u8; 32],
    ) -> Result<Proof> {
        let mut prf = self.blinded.finalize(evaluated)?;
        let pk = CompressedRistretto(self.header.public_key);
        let opened = face_key::open(&self.locks, &self.candidates, &prf, &self.keys.lock, &pk);
        prf.zeroize();
        let mut scalar = opened.ok_or(Error::FaceMismatch)?;
        let proof = proof::sign(rng, &scalar, &self.challenge, self.reference_digest, liveness_digest);
        scalar.zeroize();
        proof
    }
}

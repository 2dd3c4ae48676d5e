//! The relying party's side: issue single-use challenges, verify proofs against what it
//! stored at enrollment (public key + reference). Nothing here needs the inference engine,
//! so a server builds `faceproof` with `default-features = false`.

use crate::error::{Error, RejectReason, Result};
use crate::protect::keys::{check_rp_id, random_bytes};
use crate::protect::liveness_digest_for;
use crate::protect::proof::{Challenge, Proof};
use crate::protect::reference;
use std::collections::HashMap;

/// Where issued nonces live until used: single use is the store's job.
pub trait NonceStore {
    /// Remember an issued nonce and its expiry.
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> Result<()>;
    /// Remove the nonce and return its expiry; `None` if unknown or already used.
    fn take(&mut self, nonce: &[u8; 32]) -> Option<u64>;
    /// Forget nonces that expired before `now` (housekeeping).
    fn purge_expired(&mut self, now: u64);
}

/// An in-memory [`NonceStore`] (tests, single-process servers).
#[derive(Debug, Default)]
pub struct MemoryNonceStore {
    issued: HashMap<[u8; 32], u64>,
}

impl NonceStore for MemoryNonceStore {
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> Result<()> {
        self.issued.insert(nonce, expires_at);
        Ok(())
    }
    fn take(&mut self, nonce: &[u8; 32]) -> Option<u64> {
        self.issued.remove(nonce)
    }
    fn purge_expired(&mut self, now: u64) {
        self.issued.retain(|_, &mut exp| exp >= now);
    }
}

/// What the relying party stored for a user at enrollment.
#[derive(Debug, Clone)]
pub struct Enrolled<'a> {
    pub public_key: [u8; 32],
    pub reference: &'a [u8],
}

/// How the liveness result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessPolicy {
    /// The proof must carry the digest of a passed liveness run for this nonce.
    Required,
    /// Liveness is not checked (e.g. step-up from an already live session).
    NotRequired,
}

/// A relying party's verifier for one rp id.
pub struct Verifier<S: NonceStore> {
    rp_id: String,
    store: S,
    /// How long a challenge stays valid.
    pub ttl_ms: u64,
}

impl<S: NonceStore> Verifier<S> {
    pub fn new(rp_id: &str, store: S) -> Result<Self> {
        check_rp_id(rp_id)?;
        Ok(Verifier { rp_id: rp_id.to_string(), store, ttl_ms: 120_000 })
    }

    pub fn store(&mut self) -> &mut S {
        &mut self.store
    }

    /// A fresh challenge (random 32-byte nonce) valid for `ttl_ms` from `now`.
    pub fn issue_challenge(&mut self, now: u64) -> Result<Challenge> {
        let nonce: [u8; 32] = random_bytes()?;
        let expires_at = now.saturating_add(self.ttl_ms);
        self.store.purge_expired(now);
        self.store.insert(nonce, expires_at)?;
        Ok(Challenge { rp_id: self.rp_id.clone(), nonce, expires_at })
    }

    /// Verify a proof (its bytes) for a user. The nonce is consumed whatever the outcome.
    pub fn verify(
        &mut self,
        proof_bytes: &[u8],
        enrolled: &Enrolled,
        liveness: LivenessPolicy,
        now: u64,
    ) -> Result<Proof> {
        let proof = Proof::from_bytes(proof_bytes)?;
        if proof.challenge.rp_id != self.rp_id {
            return Err(Error::ProofRejected(RejectReason::WrongRpId));
        }
        let Some(expires_at) = self.store.take(&proof.challenge.nonce) else {
            return Err(Error::ProofRejected(RejectReason::UnknownOrReusedNonce));
        };
        let issued = Challenge { rp_id: self.rp_id.clone(), nonce: proof.challenge.nonce, expires_at };
        verify_proof(proof_bytes, &issued, enrolled, liveness, now)
    }
}

/// Verify a proof against a challenge the caller issued and has just taken out of its own
/// single-use store (servers that keep nonces in their database use this directly).
pub fn verify_proof(
    proof_bytes: &[u8],
    issued: &Challenge,
    enrolled: &Enrolled,
    liveness: LivenessPolicy,
    now: u64,
) -> Result<Proof> {
    let proof = Proof::from_bytes(proof_bytes)?;
    let reject = |r| Err(Error::ProofRejected(r));
    if proof.challenge.rp_id != issued.rp_id {
        return reject(RejectReason::WrongRpId);
    }
    if proof.challenge.nonce != issued.nonce {
        return reject(RejectReason::UnknownOrReusedNonce);
    }
    if now > issued.expires_at {
        return reject(RejectReason::Expired);
    }
    if proof.challenge.expires_at != issued.expires_at {
        return reject(RejectReason::BadSignature); // the transcript was altered
    }
    if proof.public_key != enrolled.public_key {
        return reject(RejectReason::WrongPublicKey);
    }
    if proof.reference_digest != reference::digest(enrolled.reference) {
        return reject(RejectReason::WrongReference);
    }
    if liveness == LivenessPolicy::Required && proof.liveness_digest != liveness_digest_for(&proof.challenge, true) {
        return reject(RejectReason::LivenessFailed);
    }
    if !proof.signature_is_valid() {
        return reject(RejectReason::BadSignature);
    }
    Ok(proof)
}

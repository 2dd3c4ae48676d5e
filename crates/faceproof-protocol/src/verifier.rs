//! The relying party's side: issue single-use challenges, verify proofs against what it
//! stored at enrollment (public key + reference). Nothing here needs the inference engine,
//! so a server builds `faceproof` with `default-features = false`.

use crate::client::max_login_elements;
use crate::error::{Error, RejectReason, Result};
use crate::face_key::LockParams;
use crate::keys::{check_rp_id, random_bytes};
use crate::liveness::{liveness_digest, PassiveCheck};
use crate::oprf::{OprfKey, ELEMENT_BYTES};
use crate::proof::{check_public_key, Challenge, Proof};
use crate::reference;
use rand_core::{CryptoRng, RngCore};
use std::collections::HashMap;

/// Where issued nonces live until used: single use is the store's job.
pub trait NonceStore {
    /// Remember an issued nonce and its expiry.
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> Result<()>;
    /// Remove the nonce and return its expiry; `None` if unknown or already used.
    fn take(&mut self, nonce: &[u8; 32]) -> Option<u64>;
    /// Use up the nonce's one OPRF evaluation: `true` the first time for an issued nonce that
    /// has neither expired (at `now`) nor been taken, `false` ever after.
    fn claim_evaluation(&mut self, nonce: &[u8; 32], now: u64) -> bool;
    /// Forget nonces that expired before `now` (housekeeping).
    fn purge_expired(&mut self, now: u64);
}

/// An in-memory [`NonceStore`] (tests, single-process servers).
#[derive(Debug, Default)]
pub struct MemoryNonceStore {
    /// nonce -> (expiry, evaluation used)
    issued: HashMap<[u8; 32], (u64, bool)>,
}

impl NonceStore for MemoryNonceStore {
    fn insert(&mut self, nonce: [u8; 32], expires_at: u64) -> Result<()> {
        self.issued.insert(nonce, (expires_at, false));
        Ok(())
    }
    fn take(&mut self, nonce: &[u8; 32]) -> Option<u64> {
        self.issued.remove(nonce).map(|(exp, _)| exp)
    }
    fn claim_evaluation(&mut self, nonce: &[u8; 32], now: u64) -> bool {
        match self.issued.get_mut(nonce) {
            Some((exp, used)) if !*used && *exp >= now => {
                *used = true;
                true
            }
            _ => false,
        }
    }
    fn purge_expired(&mut self, now: u64) {
        self.issued.retain(|_, &mut (exp, _)| exp >= now);
    }
}

/// Evaluate one batch of blinded lock inputs under the user's key, refusing empty batches and
/// batches above `max_elements` (servers that keep nonces in their own database claim the
/// challenge's evaluation themselves, then call this).
pub fn evaluate_batch(
    key: &OprfKey,
    blinded: &[[u8; ELEMENT_BYTES]],
    max_elements: usize,
) -> Result<Vec<[u8; ELEMENT_BYTES]>> {
    if blinded.is_empty() || blinded.len() > max_elements {
        return Err(Error::MalformedEvaluation(format!(
            "{} blinded elements (1 to {max_elements} are evaluated)",
            blinded.len()
        )));
    }
    key.evaluate(blinded)
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
    /// The proof must carry the digest of a passed liveness run for this nonce: every prompt
    /// performed, and the passive presentation-attack check ran and passed. A proof made
    /// without the passive check (its models not loaded) is refused.
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
    /// Largest OPRF batch evaluated for one login.
    pub max_elements: usize,
}

impl<S: NonceStore> Verifier<S> {
    pub fn new(rp_id: &str, store: S) -> Result<Self> {
        check_rp_id(rp_id)?;
        Ok(Verifier {
            rp_id: rp_id.to_string(),
            store,
            ttl_ms: 120_000,
            max_elements: max_login_elements(LockParams::DEFAULT),
        })
    }

    pub fn store(&mut self) -> &mut S {
        &mut self.store
    }

    /// A fresh challenge (random 32-byte nonce) valid for `ttl_ms` from `now`.
    pub fn issue_challenge(&mut self, rng: &mut (impl RngCore + CryptoRng), now: u64) -> Result<Challenge> {
        let nonce: [u8; 32] = random_bytes(rng)?;
        let expires_at = now.saturating_add(self.ttl_ms);
        self.store.purge_expired(now);
        self.store.insert(nonce, expires_at)?;
        Ok(Challenge { rp_id: self.rp_id.clone(), nonce, expires_at })
    }

    /// Evaluate a login's blinded lock inputs under the user's OPRF key: once per issued,
    /// unexpired challenge (the nonce the client names), so that every face guess costs a
    /// challenge, which the relying party counts and limits.
    pub fn evaluate(
        &mut self,
        nonce: &[u8; 32],
        key: &OprfKey,
        blinded: &[[u8; ELEMENT_BYTES]],
        now: u64,
    ) -> Result<Vec<[u8; ELEMENT_BYTES]>> {
        if blinded.is_empty() || blinded.len() > self.max_elements {
            return evaluate_batch(key, blinded, self.max_elements);
        }
        if !self.store.claim_evaluation(nonce, now) {
            return Err(Error::ProofRejected(RejectReason::UnknownOrReusedNonce));
        }
        evaluate_batch(key, blinded, self.max_elements)
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
    // What the relying party stored must be a usable key before anything is compared with it
    check_public_key(&enrolled.public_key)?;
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
    if proof.reference_digest != reference::reference_digest(enrolled.reference) {
        return reject(RejectReason::WrongReference);
    }
    if liveness == LivenessPolicy::Required
        && proof.liveness_digest != liveness_digest(&proof.challenge, true, PassiveCheck::Passed)
    {
        return reject(RejectReason::LivenessFailed);
    }
    if !proof.signature_is_valid() {
        return reject(RejectReason::BadSignature);
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::OsRng;
    use crate::proof::{MAGIC, VERSION};

    /// A proof with every field chosen by the attacker: the transcript's own values, then
    /// `R` and `z` as given.
    fn forged(ch: &Challenge, public_key: [u8; 32], reference: &[u8], r: [u8; 32], z: [u8; 32]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend([VERSION, ch.rp_id.len() as u8]);
        b.extend(ch.rp_id.as_bytes());
        b.extend(ch.nonce);
        b.extend(ch.expires_at.to_le_bytes());
        b.extend(public_key);
        b.extend(reference::reference_digest(reference));
        b.extend(liveness_digest(ch, true, PassiveCheck::Passed));
        b.extend(r);
        b.extend(z);
        b
    }

    /// With the identity as the stored public key, `R = identity, z = 0` satisfies
    /// `z*G = R + c*P` for every challenge: it must never verify, by any entry point.
    #[test]
    fn the_identity_as_public_key_opens_nothing() {
        let reference = b"any stored reference".to_vec();
        let mut v = Verifier::new("bank.example", MemoryNonceStore::default()).unwrap();
        for _ in 0..3 {
            let ch = v.issue_challenge(&mut OsRng, 1_000).unwrap();
            let proof = forged(&ch, [0; 32], &reference, [0; 32], [0; 32]);
            assert!(!Proof::from_bytes(&proof).unwrap().signature_is_valid());
            let enrolled = Enrolled { public_key: [0; 32], reference: &reference };
            let stateless = verify_proof(&proof, &ch, &enrolled, LivenessPolicy::Required, 1_000);
            assert_eq!(stateless.unwrap_err(), Error::InvalidPublicKey);
            let stateful = v.verify(&proof, &enrolled, LivenessPolicy::Required, 1_000);
            assert_eq!(stateful.unwrap_err(), Error::InvalidPublicKey);
        }
        assert_eq!(check_public_key(&[0; 32]).unwrap_err().code(), "INVALID_PUBLIC_KEY");
    }

    /// Non-canonical encodings (here: the field element p, and values with the high bit set)
    /// are not public keys either, and an identity commitment is never a valid signature.
    #[test]
    fn non_canonical_keys_and_identity_commitments_are_refused() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        for bad in [p, [0xff; 32], {
            let mut x = [0u8; 32];
            x[31] = 0x80;
            x
        }] {
            assert_eq!(check_public_key(&bad).unwrap_err(), Error::InvalidPublicKey);
        }
        let pk = curve25519_dalek::constants::RISTRETTO_BASEPOINT_COMPRESSED.0;
        assert!(check_public_key(&pk).is_ok());
        let ch = Challenge { rp_id: "bank.example".into(), nonce: [7; 32], expires_at: 5 };
        let proof = forged(&ch, pk, b"r", [0; 32], [0; 32]);
        let enrolled = Enrolled { public_key: pk, reference: b"r" };
        assert_eq!(
            verify_proof(&proof, &ch, &enrolled, LivenessPolicy::Required, 1).unwrap_err(),
            Error::ProofRejected(RejectReason::BadSignature)
        );
    }
}

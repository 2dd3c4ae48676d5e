//! faceproof's protection protocol: what turns face embeddings into a revocable, unlinkable
//! key on the device, and what the relying party checks. No inference engine, no image code:
//! a relying party builds this crate alone.
//!
//! ```text
//! device:  EnrollmentRequest::new(views) -> blinded  ---------------> relying party: OprfKey::evaluate
//!          .finish(evaluated) -> reference (sealed, opaque) + public key -> relying party stores both
//!          LoginRequest::new(reference, challenge, live views) -> blinded -> Verifier::evaluate (once per nonce)
//!          .finish(evaluated) -> proof                                -> Verifier::verify -> Ok | code
//! ```
//!
//! | module (private) | what |
//! |---|---|
//! | `keys` | device secret, HKDF key schedule per (rp id, epoch) |
//! | `transform` | the cancelable transform: keyed random projection to a binary code |
//! | `face_key` | the face-bound key: sample-then-lock fuzzy extractor |
//! | `reference` | the sealed reference format (ChaCha20-Poly1305) |
//! | `oprf` | the relying party's share of every lock (RFC 9497 OPRF, `voprf`) |
//! | `proof` | the Schnorr proof on Ristretto255 over the challenge transcript |
//! | `verifier` | the relying party: single-use challenges, proof checks |
//! | `liveness` | the prompts a challenge selects and the signed liveness digest |
//!
//! Every random value comes from an RNG passed in ([`OsRng`] in the product; a seeded one in
//! known-answer tests). Wire formats: `docs/formats.md`.

mod client;
mod embedding;
mod error;
mod face_key;
mod keys;
mod liveness;
mod oprf;
mod proof;
mod reference;
mod transform;
mod verifier;

#[cfg(feature = "eval")]
pub mod eval;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use client::{check_reference, max_login_elements, Enrollment, EnrollmentRequest, LoginRequest, MAX_PROBE_VIEWS};
pub use embedding::Embedding;
pub use error::{Error, RejectReason, Result};
pub use face_key::LockParams;
pub use keys::{check_rp_id, random_bytes, DeviceSecret, OsRng, MAX_RP_ID};
pub use liveness::{liveness_digest, prompts_for, PassiveCheck, Prompt, PROMPTS};
pub use oprf::{OprfKey, ELEMENT_BYTES};
pub use proof::{check_public_key, hex32, Challenge, Proof, MAX_PROOF_BYTES};
pub use reference::{reference_digest, reference_header, ReferenceHeader, MAX_REFERENCE_BYTES};
pub use verifier::{evaluate_batch, verify_proof, Enrolled, LivenessPolicy, MemoryNonceStore, NonceStore, Verifier};

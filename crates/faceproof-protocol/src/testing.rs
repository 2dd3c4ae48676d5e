//! Test support (feature `testing`): a seeded generator for reproducible protocol runs and
//! synthetic face embeddings. Not for production: a seeded generator is predictable.

use crate::client::{Enrollment, EnrollmentRequest, LoginRequest};
use crate::embedding::Embedding;
use crate::error::Result;
use crate::face_key::LockParams;
use crate::keys::DeviceSecret;
use crate::oprf::OprfKey;
use crate::proof::{Challenge, Proof};
use rand_core::{CryptoRng, RngCore};

/// The model name synthetic and test templates are enrolled under.
pub const TEST_MODEL: &str = "test-model";

pub use rand_chacha::ChaCha20Rng as SeededRng;

/// A reproducible generator from a small seed (known-answer tests, property tests).
pub fn seeded_rng(seed: u64) -> SeededRng {
    rand_core::SeedableRng::seed_from_u64(seed)
}

/// Values in [-0.5, 0.5) from a linear congruential sequence: cheap, reproducible noise.
fn noise(seed: u32) -> impl FnMut() -> f32 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(1664525).wrapping_add(1013904223);
        (s >> 8) as f32 / 16777216.0 - 0.5
    }
}

/// A random unit embedding of `dim` dimensions (stands for one person's face).
pub fn synthetic_embedding(seed: u32, dim: usize) -> Embedding {
    let mut next = noise(seed);
    Embedding::normalized((0..dim).map(|_| next()).collect())
}

/// `count` noisy views of one synthetic face (stand for several frames of one person):
/// each the face's embedding plus 3 % noise, renormalised.
pub fn synthetic_views(seed: u32, count: usize, dim: usize) -> Vec<Embedding> {
    let base = synthetic_embedding(seed, dim);
    let mut next = noise(seed ^ 0x9e37_79b9);
    (0..count).map(|_| Embedding::normalized(base.0.iter().map(|v| v + 0.03 * next()).collect())).collect()
}

/// Enroll in one call, the relying party's evaluation done in-process with `key`.
pub fn enroll_with_key(
    rng: &mut (impl RngCore + CryptoRng),
    key: &OprfKey,
    secret: &DeviceSecret,
    rp_id: &str,
    epoch: u32,
    views: &[Embedding],
    params: LockParams,
) -> Result<Enrollment> {
    let request = EnrollmentRequest::new(rng, secret, rp_id, epoch, TEST_MODEL, views, params)?;
    let evaluated = key.evaluate(request.blinded())?;
    request.finish(rng, &evaluated)
}

/// Prove in one call, the relying party's evaluation done in-process with `key`.
pub fn prove_with_key(
    rng: &mut (impl RngCore + CryptoRng),
    key: &OprfKey,
    secret: &DeviceSecret,
    reference: &[u8],
    challenge: &Challenge,
    probes: &[Embedding],
    liveness_digest: [u8; 32],
) -> Result<Proof> {
    let request = LoginRequest::new(rng, secret, reference, challenge, TEST_MODEL, probes)?;
    let evaluated = key.evaluate(request.blinded())?;
    request.finish(rng, &evaluated, liveness_digest)
}

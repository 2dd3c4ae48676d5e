//! Test support (feature `testing`): a seeded generator for reproducible protocol runs and
//! synthetic face embeddings. Not for production: a seeded generator is predictable.

use crate::embedding::Embedding;

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

//! The cancelable transform: a keyed random projection of the embedding, whose signs are a
//! binary code.
//!
//! Each code bit is `sign(w_i . x)` for a Gaussian direction `w_i` drawn from a ChaCha20
//! stream keyed by the transform key (random-hyperplane hashing: the fraction of differing
//! bits between two codes estimates the angle between the embeddings / pi). Rows are
//! orthonormalised in blocks of the embedding's dimension, which lowers the variance of that estimate. A new key
//! gives new directions, so codes under two keys are unrelated (renewable, unlinkable);
//! the magnitude `|w_i . x|` tells how reliable a bit is.

use crate::embedding::Embedding;
use crate::error::{Error, Result};
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The keyed projection matrix (`n x dim`, row-major). Secret: zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Transform {
    n: usize,
    dim: usize,
    rows: Vec<f32>,
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transform({} bits, redacted)", self.n)
    }
}

/// Projections of one embedding: one signed value per code bit. Biometric: zeroized.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Projection(pub Vec<f32>);

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Projection({} values, redacted)", self.0.len())
    }
}

impl Projection {
    /// Bit i is set when projection i is positive.
    pub fn bit(&self, i: usize) -> bool {
        self.0[i] > 0.0
    }

    /// The packed code (64 bits per word).
    #[cfg(any(test, feature = "eval"))]
    pub fn code(&self) -> Vec<u64> {
        let mut words = vec![0u64; self.0.len().div_ceil(64)];
        for (i, v) in self.0.iter().enumerate() {
            if *v > 0.0 {
                words[i / 64] |= 1 << (i % 64);
            }
        }
        words
    }
}

/// Number of differing bits between two packed codes.
#[cfg(any(test, feature = "eval"))]
pub fn hamming(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

impl Transform {
    /// The projection for `key` of `dim`-dimensional embeddings (even) to `n_bits` bits.
    pub fn new(key: &[u8; 32], n_bits: usize, dim: usize) -> Transform {
        let mut stream = ChaCha20::new(key.into(), &[0u8; 12].into());
        let mut buf = vec![0u8; n_bits * dim * 4];
        stream.apply_keystream(&mut buf);
        // Box-Muller on pairs of uniform 32-bit words
        let mut rows = Vec::with_capacity(n_bits * dim);
        for pair in buf.chunks_exact(8) {
            let u1 = (u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]) as f64 + 1.0) / 4294967297.0;
            let u2 = u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]) as f64 / 4294967296.0;
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            rows.push((r * t.cos()) as f32);
            rows.push((r * t.sin()) as f32);
        }
        buf.zeroize();
        orthonormalize_blocks(&mut rows, n_bits, dim);
        Transform { n: n_bits, dim, rows }
    }

    /// The embedding's projections; an embedding of another dimension is an error.
    pub fn project(&self, e: &Embedding) -> Result<Projection> {
        if e.dim() != self.dim {
            return Err(Error::InvalidArgument(format!(
                "embedding has {} dimensions, the transform {}",
                e.dim(),
                self.dim
            )));
        }
        Ok(Projection(self.rows.chunks_exact(self.dim).map(|w| dot(w, &e.0)).collect()))
    }
}

/// Dot product with 8 independent accumulators, so the compiler can use SIMD lanes (a plain
/// `sum()` is a sequential chain of float adds).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum()
}

/// Modified Gram-Schmidt within each block of `dim` consecutive rows.
fn orthonormalize_blocks(rows: &mut [f32], n: usize, dim: usize) {
    for start in (0..n).step_by(dim) {
        let end = (start + dim).min(n);
        for i in start..end {
            let (done, rest) = rows.split_at_mut(i * dim);
            let row = &mut rest[..dim];
            for j in start..i {
                let prev = &done[j * dim..(j + 1) * dim];
                let d = dot(prev, row);
                row.iter_mut().zip(prev).for_each(|(r, p)| *r -= d * p);
            }
            let norm = dot(row, row).sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::synthetic_embedding;

    const DIM: usize = 192;

    fn unit(seed: u32) -> Embedding {
        synthetic_embedding(seed, DIM)
    }

    fn code(t: &Transform, e: &Embedding) -> Vec<u64> {
        t.project(e).unwrap().code()
    }

    #[test]
    fn deterministic_per_key_and_different_across_keys() {
        let e = unit(1);
        let a = code(&Transform::new(&[1; 32], 512, DIM), &e);
        assert_eq!(a, code(&Transform::new(&[1; 32], 512, DIM), &e));
        let b = code(&Transform::new(&[2; 32], 512, DIM), &e);
        let d = hamming(&a, &b);
        assert!((200..312).contains(&d), "codes under two keys should be unrelated: {d}");
    }

    #[test]
    fn blocks_are_orthonormal() {
        let t = Transform::new(&[3; 32], 256, DIM);
        let r = |i: usize| &t.rows[i * DIM..(i + 1) * DIM];
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!((dot(r(0), r(0)) - 1.0).abs() < 1e-4);
        assert!(dot(r(0), r(191)).abs() < 1e-4);
        assert!((dot(r(200), r(200)) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn an_embedding_of_another_dimension_is_refused() {
        let t = Transform::new(&[3; 32], 256, DIM);
        assert_eq!(t.project(&synthetic_embedding(1, 128)).unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn hamming_distance_tracks_the_angle() {
        let t = Transform::new(&[4; 32], 1024, DIM);
        let a = unit(10);
        let near = Embedding::normalized(a.0.iter().zip(&unit(11).0).map(|(x, y)| x + 0.2 * y).collect());
        let far = unit(12);
        let (ca, cn, cf) = (code(&t, &a), code(&t, &near), code(&t, &far));
        let expected = |x: &Embedding| (a.cosine(x) as f64).clamp(-1.0, 1.0).acos() / std::f64::consts::PI * 1024.0;
        for (c, x) in [(&cn, &near), (&cf, &far)] {
            let d = hamming(&ca, c) as f64;
            assert!((d - expected(x)).abs() < 60.0, "{d} vs {}", expected(x));
        }
    }
}

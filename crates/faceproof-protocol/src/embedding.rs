//! The face embedding the protocol consumes: a unit vector from the face pipeline's embedder.

use zeroize::Zeroize;

/// An L2-normalised face embedding. Biometric: zeroized on drop, never printed.
#[derive(Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding([{} floats, redacted])", self.0.len())
    }
}

impl Drop for Embedding {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Embedding {
    /// Normalise to unit length (eps 1e-10, as the embedders' reference code does).
    pub fn normalized(mut v: Vec<f32>) -> Embedding {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-10);
        v.iter_mut().for_each(|x| *x /= norm);
        Embedding(v)
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.0.len()
    }

    /// Cosine similarity of two unit embeddings.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// Mean of several embeddings of one length, renormalised (mirror fusion, multi-frame
    /// templates).
    pub fn mean(items: &[&Embedding]) -> Embedding {
        let mut acc = vec![0.0f32; items.first().map_or(0, |e| e.dim())];
        for e in items {
            acc.iter_mut().zip(&e.0).for_each(|(a, b)| *a += b);
        }
        Embedding::normalized(acc)
    }
}

//! Face embedding with MobileFaceNet: 112x112 aligned RGB face -> 192 floats, L2-normalised.

#[cfg(feature = "inference")]
use crate::{
    align::FACE_SIZE,
    error::{Error, Result},
    image::RgbImage,
    model::{Model, Precision},
};
#[cfg(feature = "inference")]
use zeroize::Zeroize;

/// Length of an embedding.
pub const DIM: usize = 192;

/// The embedder's name as references record it: templates of another embedder cannot open a
/// reference made with this one.
pub const MODEL_NAME: &str = "mobilefacenet-192";

pub use faceproof_protocol::Embedding;

#[cfg(feature = "inference")]
pub struct Embedder {
    model: Model,
}

#[cfg(feature = "inference")]
impl Embedder {
    /// `precision`: [`Precision::Int8Pointwise`] is what the SDK runs.
    pub fn load(onnx: Vec<u8>, precision: Precision) -> Result<Embedder> {
        Ok(Embedder { model: Model::load("mobilefacenet_192", onnx, precision, "input", &["embeddings"])? })
    }

    /// Embed a batch of aligned 112x112 faces.
    pub fn embed(&self, faces: &[&RgbImage]) -> Result<Vec<Embedding>> {
        Ok(self.embed_with_norms(faces)?.0)
    }

    /// [`Embedder::embed`], plus each raw embedding's length before normalisation: it grows
    /// with how recognisable the face is (the observation behind MagFace), a quality measure.
    pub fn embed_with_norms(&self, faces: &[&RgbImage]) -> Result<(Vec<Embedding>, Vec<f32>)> {
        #[cfg(feature = "threads")]
        if faces.len() > 1 {
            // The threads build runs the batch in two halves, one per thread (e.g. a face and
            // its mirror): splitting every operator across threads instead costs more in
            // wake-ups than it saves (docs/performance.md, "Threads"). Each face's result is unchanged.
            let (a, b) = faces.split_at(faces.len() / 2);
            let (ra, rb) = rayon::join(|| self.run_each(a), || self.run_each(b));
            let ((mut embs, mut norms), (embs_b, norms_b)) = (ra?, rb?);
            embs.extend(embs_b);
            norms.extend(norms_b);
            return Ok((embs, norms));
        }
        self.run_each(faces)
    }

    /// One network run per face, not one over the batch: a face's largest activations
    /// (128 x 56 x 56 floats, 1.6 MB) stay in the CPU's L2 cache, a batch's do not (embed
    /// 17.1 -> 16.5 and 17.2 -> 16.7 ms for a face and its mirror, `node bench/ab.mjs` both
    /// orders). Each face gets the same values either way.
    fn run_each(&self, faces: &[&RgbImage]) -> Result<(Vec<Embedding>, Vec<f32>)> {
        let mut embs = Vec::with_capacity(faces.len());
        let mut norms = Vec::with_capacity(faces.len());
        for face in faces {
            let (e, n) = self.run_batch(std::slice::from_ref(face))?;
            embs.extend(e);
            norms.extend(n);
        }
        Ok((embs, norms))
    }

    /// One network run over the batch.
    fn run_batch(&self, faces: &[&RgbImage]) -> Result<(Vec<Embedding>, Vec<f32>)> {
        let n = FACE_SIZE as usize;
        if faces.is_empty() {
            return Ok((vec![], vec![]));
        }
        if faces.iter().any(|f| f.width != FACE_SIZE || f.height != FACE_SIZE) {
            return Err(Error::InvalidArgument("embedder input must be 112x112 aligned faces".into()));
        }
        let mut input = Vec::with_capacity(faces.len() * n * n * 3);
        for f in faces {
            input.extend(f.data.iter().map(|v| (v - 127.5) / 128.0));
        }
        let mut out = self.model.run([faces.len(), n, n, 3], input)?;
        let mut raw = out.pop().unwrap_or_default();
        if raw.len() != faces.len() * DIM {
            return Err(Error::Inference("mobilefacenet: unexpected output shape".into()));
        }
        let norms = raw.chunks_exact(DIM).map(|c| c.iter().map(|x| x * x).sum::<f32>().sqrt()).collect();
        let embs = raw.chunks_exact(DIM).map(|c| Embedding::normalized(c.to_vec())).collect();
        raw.zeroize();
        Ok((embs, norms))
    }
}

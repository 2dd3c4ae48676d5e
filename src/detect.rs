//! Face detection with BlazeFace: letterbox, one network run, anchor decode, weighted NMS.
//!
//! Two models: front-128 (selfies, face fills the frame) and back-256 (ID photos, faces far
//! from the camera). Both have 896 anchors on a 16x16 grid (2 per cell) and an 8x8 grid
//! (6 per cell); the network returns the two grids as separate outputs (see models/SOURCES.md).

use crate::error::{Error, Result};
use crate::geometry::{warp, Affine};
use crate::image::Pixels;
use crate::model::{Model, Precision};

/// Which BlazeFace network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorKind {
    /// Short range, 128x128 input: selfies.
    Front128,
    /// Full range, 256x256 input: small faces, ID documents.
    Back256,
}

impl DetectorKind {
    pub fn input_size(self) -> u32 {
        match self {
            DetectorKind::Front128 => 128,
            DetectorKind::Back256 => 256,
        }
    }
}

/// Keypoint indices in [`Detection::keypoints`].
pub mod keypoint {
    /// Eye on the image-left side (the subject's right eye).
    pub const EYE_LEFT: usize = 0;
    pub const EYE_RIGHT: usize = 1;
    pub const NOSE: usize = 2;
    pub const MOUTH: usize = 3;
    pub const EAR_LEFT: usize = 4;
    pub const EAR_RIGHT: usize = 5;
}

/// One face in image index coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Detector confidence in 0..1.
    pub score: f32,
    /// `[x0, y0, x1, y1]`.
    pub bbox: [f32; 4],
    /// Six keypoints, see [`keypoint`].
    pub keypoints: [[f32; 2]; 6],
}

impl Detection {
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
    pub fn center(&self) -> [f32; 2] {
        [(self.bbox[0] + self.bbox[2]) / 2.0, (self.bbox[1] + self.bbox[3]) / 2.0]
    }
    fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    /// Intersection over union of the two boxes.
    pub fn iou(&self, other: &Detection) -> f32 {
        let (a, b) = (&self.bbox, &other.bbox);
        let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
        let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
        let inter = iw * ih;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// Default minimum score (MediaPipe's face detection graphs use 0.5).
pub const MIN_SCORE: f32 = 0.5;
/// Boxes overlapping more than this are the same face (MediaPipe: 0.3).
const NMS_IOU: f32 = 0.3;

/// The detector: a model plus its anchor centres.
pub struct Detector {
    kind: DetectorKind,
    model: Model,
    anchors: Vec<[f32; 2]>,
}

/// The letterbox that fits an image into the square input: `s` scale, `pad` in input pixels.
#[derive(Debug, Clone, Copy)]
struct Letterbox {
    s: f64,
    pad: [f64; 2],
}

/// Raw network output for every anchor (exposed for tests and evaluation tools).
pub struct RawDetections {
    logits: Vec<f32>,
    regressors: Vec<f32>,
    letterbox: Letterbox,
}

impl Detector {
    pub fn load(kind: DetectorKind, onnx: Vec<u8>) -> Result<Detector> {
        let model = Model::load(
            match kind {
                DetectorKind::Front128 => "blazeface_front_128",
                DetectorKind::Back256 => "blazeface_back_256",
            },
            onnx,
            Precision::Float32,
            "input:0",
            &["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"],
        )?;
        let mut anchors = Vec::with_capacity(896);
        for (grid, per_cell) in [(16u32, 2), (8, 6)] {
            for y in 0..grid {
                for x in 0..grid {
                    let c = [(x as f64 + 0.5) / grid as f64, (y as f64 + 0.5) / grid as f64];
                    anchors.extend(std::iter::repeat_n([c[0] as f32, c[1] as f32], per_cell));
                }
            }
        }
        Ok(Detector { kind, model, anchors })
    }

    pub fn kind(&self) -> DetectorKind {
        self.kind
    }

    /// Letterbox the image into the input square and run the network.
    pub fn run(&self, img: &impl Pixels) -> Result<RawDetections> {
        let size = self.kind.input_size();
        let n = size as f64;
        let s = n / img.width().max(img.height()) as f64;
        let pad = [(n - img.width() as f64 * s) / 2.0, (n - img.height() as f64 * s) / 2.0];
        // dst u samples src x = (u + 0.5 - pad) / s - 0.5
        let inv = Affine([1.0 / s, 0.0, (0.5 - pad[0]) / s - 0.5, 0.0, 1.0 / s, (0.5 - pad[1]) / s - 0.5]);
        let mut input = warp(img, &inv, size, size);
        for v in input.data.iter_mut() {
            *v = *v / 127.5 - 1.0;
        }
        let s_ = size as usize;
        let mut out = self.model.run([1, s_, s_, 3], std::mem::take(&mut input.data))?;
        if out.len() != 4
            || out[0].len() != 512
            || out[1].len() != 384
            || out[2].len() != 512 * 16
            || out[3].len() != 384 * 16
        {
            return Err(Error::Inference("blazeface: unexpected output shapes".into()));
        }
        let mut logits = std::mem::take(&mut out[0]);
        logits.append(&mut out[1]);
        let mut regressors = std::mem::take(&mut out[2]);
        regressors.append(&mut out[3]);
        Ok(RawDetections { logits, regressors, letterbox: Letterbox { s, pad } })
    }

    fn decode(&self, raw: &RawDetections, i: usize) -> Detection {
        let size = self.kind.input_size() as f32;
        let logit = raw.logits[i].clamp(-100.0, 100.0);
        let score = 1.0 / (1.0 + (-logit).exp());
        let r: Vec<f32> = raw.regressors[i * 16..i * 16 + 16].iter().map(|v| v / size).collect();
        let a = self.anchors[i];
        let lb = raw.letterbox;
        let (pad, s) = ([lb.pad[0] as f32, lb.pad[1] as f32], lb.s as f32);
        let to_img = |p: [f32; 2]| [(p[0] * size - pad[0]) / s - 0.5, (p[1] * size - pad[1]) / s - 0.5];
        let c = [a[0] + r[0], a[1] + r[1]];
        let (w, h) = (r[2], r[3]);
        let p0 = to_img([c[0] - w / 2.0, c[1] - h / 2.0]);
        let p1 = to_img([c[0] + w / 2.0, c[1] + h / 2.0]);
        let mut keypoints = [[0.0; 2]; 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = to_img([a[0] + r[4 + 2 * k], a[1] + r[5 + 2 * k]]);
        }
        Detection { score, bbox: [p0[0], p0[1], p1[0], p1[1]], keypoints }
    }

    /// The single highest-scoring anchor, with no threshold and no NMS: exactly what
    /// `reference_pipeline.py` does. Kept so the reference-equal path stays testable.
    pub fn strongest(&self, img: &impl Pixels) -> Result<Detection> {
        let raw = self.run(img)?;
        let mut best = 0;
        for (i, &l) in raw.logits.iter().enumerate() {
            if l > raw.logits[best] {
                best = i;
            }
        }
        Ok(self.decode(&raw, best))
    }

    /// All faces scoring at least `min_score`, merged by weighted NMS, best first.
    pub fn detect(&self, img: &impl Pixels, min_score: f32) -> Result<Vec<Detection>> {
        let raw = self.run(img)?;
        let min_logit = (min_score / (1.0 - min_score)).ln();
        let candidates: Vec<Detection> =
            (0..raw.logits.len()).filter(|&i| raw.logits[i] >= min_logit).map(|i| self.decode(&raw, i)).collect();
        Ok(weighted_nms(candidates))
    }
}

/// MediaPipe's weighted non-maximum suppression: every cluster of overlapping boxes becomes
/// one detection whose box and keypoints are the score-weighted mean of the cluster, which
/// is steadier across video frames than keeping the single best anchor.
pub fn weighted_nms(mut candidates: Vec<Detection>) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !candidates.is_empty() {
        let top = candidates[0].clone();
        let (cluster, rest): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|d| d.iou(&top) > NMS_IOU);
        candidates = rest;
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mut merged = Detection { score: top.score, bbox: [0.0; 4], keypoints: [[0.0; 2]; 6] };
        for d in &cluster {
            let w = d.score / total;
            for k in 0..4 {
                merged.bbox[k] += w * d.bbox[k];
            }
            for k in 0..6 {
                merged.keypoints[k][0] += w * d.keypoints[k][0];
                merged.keypoints[k][1] += w * d.keypoints[k][1];
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(score: f32, x: f32) -> Detection {
        Detection { score, bbox: [x, 0.0, x + 10.0, 10.0], keypoints: [[x, 0.0]; 6] }
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![det(0.6, 1.0), det(0.9, 0.0), det(0.8, 50.0)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // weighted mean of x=0 (0.9) and x=1 (0.6)
        assert!((out[0].bbox[0] - 0.4).abs() < 1e-5);
        assert_eq!(out[1].bbox[0], 50.0);
    }

    #[test]
    fn iou_of_disjoint_and_identical_boxes() {
        assert_eq!(det(1.0, 0.0).iou(&det(1.0, 100.0)), 0.0);
        assert!((det(1.0, 0.0).iou(&det(1.0, 0.0)) - 1.0).abs() < 1e-6);
    }
}

//! Dense landmarks with MediaPipe FaceMesh (468 points) on a rotated square crop around a
//! BlazeFace detection. BlazeFace's keypoints are coarse (median 2.3 px off at the eyes on
//! LFW); FaceMesh's eye centres and mouth corners give a better alignment, and its geometry
//! serves the pose and eye-openness checks of quality and liveness.
//!
//! Crop and back-projection follow `reference_align_facemesh.py`.

use crate::detect::{keypoint, Detection};
use crate::error::{Error, Result};
use crate::geometry::{warp, Affine};
use crate::image::Pixels;
use crate::model::{Model, Precision};

const INPUT: u32 = 192;
/// The ROI side is this times the larger side of the detector box (MediaPipe's value).
const ROI_SCALE: f64 = 1.5;

/// Mesh indices used for the 5 alignment points.
pub mod index {
    pub const EYE_LEFT: [usize; 4] = [33, 133, 159, 145];
    pub const EYE_RIGHT: [usize; 4] = [263, 362, 386, 374];
    pub const NOSE_TIP: usize = 1;
    pub const MOUTH_LEFT: usize = 61;
    pub const MOUTH_RIGHT: usize = 291;
    /// Upper / lower eyelid and eye corners, for the eye aspect ratio.
    pub const EYE_LEFT_LIDS: [usize; 4] = [159, 145, 33, 133];
    pub const EYE_RIGHT_LIDS: [usize; 4] = [386, 374, 263, 362];
    pub const FOREHEAD: usize = 10;
    pub const CHIN: usize = 152;
    pub const CHEEK_LEFT: usize = 234;
    pub const CHEEK_RIGHT: usize = 454;
}

/// 468 landmarks in image index coordinates (z in crop pixels, relative depth).
#[derive(Clone)]
pub struct Mesh {
    pub points: Vec<[f64; 3]>,
    /// Face presence probability from the mesh network.
    pub presence: f32,
}

impl std::fmt::Debug for Mesh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mesh({} points, presence {:.3})", self.points.len(), self.presence)
    }
}

impl Mesh {
    fn xy(&self, i: usize) -> [f64; 2] {
        [self.points[i][0], self.points[i][1]]
    }
    fn mean_xy(&self, idx: &[usize]) -> [f64; 2] {
        let s = idx.iter().fold([0.0, 0.0], |a, &i| [a[0] + self.points[i][0], a[1] + self.points[i][1]]);
        [s[0] / idx.len() as f64, s[1] / idx.len() as f64]
    }

    /// Eye centres (image-left first), nose tip, mouth corners (image-left first).
    pub fn five_points(&self) -> [[f64; 2]; 5] {
        use index::*;
        [
            self.mean_xy(&EYE_LEFT),
            self.mean_xy(&EYE_RIGHT),
            self.xy(NOSE_TIP),
            self.xy(MOUTH_LEFT),
            self.xy(MOUTH_RIGHT),
        ]
    }

    /// Eye aspect ratio (lid gap / eye width), mean of both eyes: about 0.25-0.35 open,
    /// under 0.15 closed.
    pub fn eye_openness(&self) -> f64 {
        let ear = |l: [usize; 4]| {
            let d = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
            let w = d(self.xy(l[2]), self.xy(l[3]));
            if w > 0.0 {
                d(self.xy(l[0]), self.xy(l[1])) / w
            } else {
                0.0
            }
        };
        (ear(index::EYE_LEFT_LIDS) + ear(index::EYE_RIGHT_LIDS)) / 2.0
    }
}

pub struct Landmarker {
    model: Model,
}

impl Landmarker {
    pub fn load(onnx: Vec<u8>) -> Result<Landmarker> {
        Ok(Landmarker {
            model: Model::load("facemesh_468", onnx, Precision::Float32, "input_1", &["conv2d_21", "conv2d_31"])?,
        })
    }

    /// The crop (crop index coords -> image index coords) for a detection: a square of
    /// 1.5x the box, centred on it, rotated so the eyes are level.
    pub fn roi(det: &Detection) -> Affine {
        let b = det.bbox.map(|v| v as f64);
        let c = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
        let side = ROI_SCALE * (b[2] - b[0]).max(b[3] - b[1]);
        let (k0, k1) = (det.keypoints[keypoint::EYE_LEFT], det.keypoints[keypoint::EYE_RIGHT]);
        let th = ((k1[1] - k0[1]) as f64).atan2((k1[0] - k0[0]) as f64);
        Self::crop_affine(c, side, th)
    }

    fn crop_affine(c: [f64; 2], side: f64, th: f64) -> Affine {
        let n = INPUT as f64;
        let (cs, sn) = (th.cos() * side / n, th.sin() * side / n);
        let o = 0.5 - n / 2.0;
        Affine([cs, -sn, c[0] + cs * o - sn * o, sn, cs, c[1] + sn * o + cs * o])
    }

    /// Run FaceMesh on the crop given by `roi` (see [`Landmarker::roi`]).
    pub fn run(&self, img: &impl Pixels, roi: &Affine) -> Result<Mesh> {
        let mut crop = warp(img, roi, INPUT, INPUT);
        for v in crop.data.iter_mut() {
            *v /= 255.0;
        }
        let n = INPUT as usize;
        let out = self.model.run([1, n, n, 3], std::mem::take(&mut crop.data))?;
        if out.len() != 2 || out[0].len() != 468 * 3 || out[1].is_empty() {
            return Err(Error::Inference("facemesh: unexpected output shapes".into()));
        }
        let points = out[0]
            .chunks_exact(3)
            .map(|p| {
                // continuous -> crop index coords, then into the image
                let q = roi.apply([p[0] as f64 - 0.5, p[1] as f64 - 0.5]);
                [q[0], q[1], p[2] as f64]
            })
            .collect();
        let presence = 1.0 / (1.0 + (-out[1][0].clamp(-100.0, 100.0)).exp());
        Ok(Mesh { points, presence })
    }

    /// Landmarks for a detection.
    pub fn landmarks(&self, img: &impl Pixels, det: &Detection) -> Result<Mesh> {
        self.run(img, &Self::roi(det))
    }
}

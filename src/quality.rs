//! Capture quality: measures of one frame and the reasons a UI shows ("move closer", "too
//! dark", ...). Thresholds are set from measurements on lfw-dev and on degraded portraits
//! (docs/accuracy.md, "Capture quality"); each reason has a stable code.

use crate::detect::{keypoint, Detection};
use crate::image::{Pixels, RgbImage};
use serde::Serialize;

/// Why a frame is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    NoFace,
    MultipleFaces,
    FaceTooSmall,
    /// Too close, or the face extends beyond the frame.
    FaceCutOff,
    TooDark,
    TooBright,
    LowContrast,
    Blurred,
    HeadTurned,
    HeadTilted,
    LowConfidence,
    /// The embedding network finds little identity in the face (short raw embedding).
    FaceUnclear,
    /// The passive anti-spoofing check judges the face a presentation attack (a printed
    /// photo): its live score is under [`Limits::min_live_score`].
    PresentationAttack,
}

/// Limits for a usable frame.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    /// Inter-eye distance in source pixels (the aligned face has 35 px between the eyes).
    pub min_eye_distance_px: f32,
    /// The face box (x1.2) may not leave the frame by more than this fraction of its size.
    pub max_outside: f32,
    pub min_brightness: f32,
    pub max_brightness: f32,
    pub min_contrast: f32,
    /// Variance of the Laplacian of the aligned 112x112 grey face.
    pub min_sharpness: f32,
    pub max_yaw_deg: f32,
    pub max_roll_deg: f32,
    pub min_score: f32,
    /// Raw embedding length ([`crate::embed::Embedder::embed_with_norms`]): the 5th
    /// percentile over lfw-dev images.
    pub min_embedding_norm: f32,
    /// Lowest passive live score ([`crate::antispoof::SpoofScore::live`]) of a live face.
    pub min_live_score: f32,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        min_eye_distance_px: 28.0,
        max_outside: 0.05,
        min_brightness: 50.0,
        max_brightness: 215.0,
        min_contrast: 18.0,
        min_sharpness: 40.0,
        max_yaw_deg: 30.0,
        max_roll_deg: 20.0,
        min_score: 0.7,
        min_embedding_norm: 57.0,
        min_live_score: crate::antispoof::DEFAULT_THRESHOLD,
    };
}

/// The measures of one frame.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measures {
    pub faces: usize,
    pub score: f32,
    pub eye_distance_px: f32,
    /// Fraction of the face box (x1.2) outside the frame.
    pub outside: f32,
    /// Mean and standard deviation of luma over the face box.
    pub brightness: f32,
    pub contrast: f32,
    pub sharpness: f32,
    /// Head yaw (positive: the subject turns to their left, the face moves to image-right)
    /// and roll, in degrees.
    pub yaw_deg: f32,
    pub roll_deg: f32,
    /// Raw embedding length, when the frame was embedded.
    pub embedding_norm: Option<f32>,
}

/// The passive anti-spoofing verdict on a frame: live when `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveScore {
    /// [`crate::antispoof::SpoofScore::live`], 0..1.
    pub score: f32,
    pub threshold: f32,
}

impl LiveScore {
    pub fn is_live(&self) -> bool {
        self.score >= self.threshold
    }
}

/// Measures plus verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quality {
    pub usable: bool,
    pub reasons: Vec<Reason>,
    pub measures: Measures,
    /// The passive anti-spoofing check on the face, `None` when it did not run: no face, or
    /// the anti-spoofing models are not loaded. `None` is never a pass.
    pub live_score: Option<LiveScore>,
}

impl Quality {
    /// Add the embedding-based measure (frames that were embedded, e.g. captures).
    pub fn with_embedding_norm(mut self, norm: f32, limits: &Limits) -> Quality {
        self.measures.embedding_norm = Some(norm);
        if norm < limits.min_embedding_norm && !self.reasons.contains(&Reason::NoFace) {
            self.reasons.push(Reason::FaceUnclear);
            self.usable = false;
        }
        self
    }

    /// Add the passive anti-spoofing score: [`Reason::PresentationAttack`] under the limit.
    pub fn with_live_score(mut self, live: f32, limits: &Limits) -> Quality {
        let s = LiveScore { score: live, threshold: limits.min_live_score };
        self.live_score = Some(s);
        if !s.is_live() && !self.reasons.contains(&Reason::PresentationAttack) {
            self.reasons.push(Reason::PresentationAttack);
            self.usable = false;
        }
        self
    }
}

/// Yaw and roll (degrees) from 2-D points. Roll is the angle of the eye line. Yaw: when the
/// head turns by `a`, the nose tip (about 0.55 eye distances in front of the eyes, adult
/// average) moves along the eye line by `0.55 * d * sin a` while the eye distance shrinks to
/// `d * cos a`, so `a = atan(offset / (0.55 * projected eye distance))`.
pub fn yaw_roll(eye_l: [f64; 2], eye_r: [f64; 2], nose: [f64; 2]) -> (f32, f32) {
    let (dx, dy) = (eye_r[0] - eye_l[0], eye_r[1] - eye_l[1]);
    let ied = dx.hypot(dy).max(1e-6);
    let roll = dy.atan2(dx).to_degrees();
    let mid = [(eye_l[0] + eye_r[0]) / 2.0, (eye_l[1] + eye_r[1]) / 2.0];
    // offset of the nose along the eye line
    let along = ((nose[0] - mid[0]) * dx + (nose[1] - mid[1]) * dy) / ied;
    let yaw = (along / (NOSE_DEPTH * ied)).atan().to_degrees();
    (yaw as f32, roll as f32)
}

/// Nose-tip depth in front of the eyes, in eye distances.
const NOSE_DEPTH: f64 = 0.55;

fn luma_stats(img: &impl Pixels, b: [f32; 4]) -> (f32, f32) {
    let x0 = b[0].max(0.0) as u32;
    let y0 = b[1].max(0.0) as u32;
    let x1 = (b[2].max(0.0) as u32).min(img.width());
    let y1 = (b[3].max(0.0) as u32).min(img.height());
    let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
    let step = (((x1.saturating_sub(x0)) / 64).max(1)) as usize;
    for y in (y0..y1).step_by(step) {
        for x in (x0..x1).step_by(step) {
            let p = img.get(x as i64, y as i64);
            let l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            n += 1.0;
            s += l as f64;
            s2 += (l * l) as f64;
        }
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let m = s / n;
    (m as f32, (s2 / n - m * m).max(0.0).sqrt() as f32)
}

/// Variance of the 4-neighbour Laplacian of the grey aligned face (inner 96x96, so the black
/// border of faces near the frame edge does not count as detail).
pub fn sharpness(face: &RgbImage) -> f32 {
    let g = face.luma();
    let w = face.width as usize;
    let h = face.height as usize;
    let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
    for y in 8..h.saturating_sub(8) {
        for x in 8..w.saturating_sub(8) {
            let i = y * w + x;
            let l = (g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4.0 * g[i]) as f64;
            n += 1.0;
            s += l;
            s2 += l * l;
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let m = s / n;
    (s2 / n - m * m) as f32
}

/// Assess a frame given all detected faces, the chosen one, its alignment points (eye
/// centres and nose tip, from FaceMesh when available) and the aligned face.
pub fn assess(
    img: &impl Pixels,
    faces: usize,
    face: Option<(&Detection, [[f64; 2]; 3], &RgbImage)>,
    limits: &Limits,
) -> Quality {
    let mut m = Measures { faces, ..Measures::default() };
    let mut reasons = vec![];
    let Some((det, [eye_l, eye_r, nose], aligned)) = face else {
        reasons.push(Reason::NoFace);
        return Quality { usable: false, reasons, measures: m, live_score: None };
    };
    if faces > 1 {
        reasons.push(Reason::MultipleFaces);
    }
    m.score = det.score;
    m.eye_distance_px = (eye_r[0] - eye_l[0]).hypot(eye_r[1] - eye_l[1]) as f32;
    let (w, h) = (det.width() * 1.2, det.height() * 1.2);
    let c = det.center();
    let (bx0, by0, bx1, by1) = (c[0] - w / 2.0, c[1] - h / 2.0, c[0] + w / 2.0, c[1] + h / 2.0);
    let inside_w = (bx1.min(img.width() as f32) - bx0.max(0.0)).max(0.0);
    let inside_h = (by1.min(img.height() as f32) - by0.max(0.0)).max(0.0);
    m.outside = 1.0 - (inside_w * inside_h) / (w * h).max(1e-6);
    let (b, ct) = luma_stats(img, det.bbox);
    m.brightness = b;
    m.contrast = ct;
    m.sharpness = sharpness(aligned);
    let (yaw, roll) = yaw_roll(eye_l, eye_r, nose);
    m.yaw_deg = yaw;
    m.roll_deg = roll;
    let _ = keypoint::NOSE;
    if m.eye_distance_px < limits.min_eye_distance_px {
        reasons.push(Reason::FaceTooSmall);
    }
    if m.outside > limits.max_outside {
        reasons.push(Reason::FaceCutOff);
    }
    if m.brightness < limits.min_brightness {
        reasons.push(Reason::TooDark);
    }
    if m.brightness > limits.max_brightness {
        reasons.push(Reason::TooBright);
    }
    if m.contrast < limits.min_contrast {
        reasons.push(Reason::LowContrast);
    }
    if m.sharpness < limits.min_sharpness {
        reasons.push(Reason::Blurred);
    }
    if m.yaw_deg.abs() > limits.max_yaw_deg {
        reasons.push(Reason::HeadTurned);
    }
    if m.roll_deg.abs() > limits.max_roll_deg {
        reasons.push(Reason::HeadTilted);
    }
    if m.score < limits.min_score {
        reasons.push(Reason::LowConfidence);
    }
    Quality { usable: reasons.is_empty(), reasons, measures: m, live_score: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontal_points_have_no_yaw_or_roll_and_turns_have_the_right_sign() {
        let (y, r) = yaw_roll([40.0, 50.0], [70.0, 50.0], [55.0, 70.0]);
        assert!(y.abs() < 1e-3 && r.abs() < 1e-3);
        let (y, _) = yaw_roll([40.0, 50.0], [70.0, 50.0], [62.0, 70.0]);
        assert!(y > 15.0, "{y}");
        let (_, r) = yaw_roll([40.0, 50.0], [70.0, 60.0], [55.0, 70.0]);
        assert!((r - 18.43).abs() < 0.1, "{r}");
    }

    #[test]
    fn a_flat_face_is_not_sharp() {
        let Ok(flat) = RgbImage::from_rgb(&vec![120; 112 * 112 * 3], 112, 112) else { panic!("112x112 pixels") };
        assert_eq!(sharpness(&flat), 0.0);
        let mut stripes = flat.clone();
        for (i, v) in stripes.data.iter_mut().enumerate() {
            *v = if (i / 3) % 2 == 0 { 0.0 } else { 255.0 };
        }
        assert!(sharpness(&stripes) > 1000.0);
    }
}

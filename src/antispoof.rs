//! Passive presentation-attack detection: is the face in front of the camera live, or a
//! printed photo? Two MiniFASNet networks (Silent-Face-Anti-Spoofing, Apache-2.0; converted by
//! `tools/antispoof_to_onnx.py`) each look at an 80x80 crop of the face with context around it,
//! the detector's box enlarged 2.7x and 4.0x, and give three-class probabilities (class 1:
//! live). The score is the mean of the two live probabilities.
//!
//! The networks were trained on crops around the boxes of the original project's RetinaFace
//! detector; [`BOX_MAP`] turns a BlazeFace box into that box. Measured on printed-photo attacks
//! only (no screen replays, no masks): docs/anti-spoofing.md.

use crate::detect::Detection;
use crate::error::{Error, Result};
use crate::image::{Pixels, RgbImage};
use crate::model::{Model, Precision};

/// Model file names, as shipped in `models/` (float32) and `models/web/` (int8 weights).
pub mod files {
    /// MiniFASNetV2 on the box enlarged 2.7x.
    pub const SCALE_2_7: &str = "antispoof_2.7_80.onnx";
    /// MiniFASNetV1SE on the box enlarged 4.0x.
    pub const SCALE_4_0: &str = "antispoof_4.0_80.onnx";
}

/// Side of the square crops, in pixels.
pub const CROP: u32 = 80;
/// How much each model's crop enlarges the (mapped) face box, in the order of [`files`].
pub const SCALES: [f64; 2] = [2.7, 4.0];

/// A frame whose [`SpoofScore::live`] is below this is treated as a presentation attack. Chosen
/// on nuaa-dev by leave-one-subject-out cross-validation: the lowest threshold at which at most
/// 1 % of the training subjects' printed-photo frames pass (docs/anti-spoofing.md).
pub const DEFAULT_THRESHOLD: f32 = 0.003;

/// BlazeFace box -> the RetinaFace box the models were trained on: centre shift (fractions of
/// the BlazeFace box's width and height) and size ratios, `[dx, dy, width, height]`. Medians
/// over lfw-dev images that both detectors found (docs/anti-spoofing.md).
pub const BOX_MAP: [f64; 4] = [-0.007, -0.028, 1.012, 1.042];

/// One frame's verdict.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SpoofScore {
    /// Probability that the face is live, 0..1: the mean of the two models' class-1
    /// probabilities. Compare with [`DEFAULT_THRESHOLD`].
    pub live: f32,
    /// Each model's softmax over (attack, live, attack), in the order of [`files`].
    pub probabilities: [[f32; 3]; 2],
}

impl SpoofScore {
    /// `live >= threshold`.
    pub fn is_live(&self, threshold: f32) -> bool {
        self.live >= threshold
    }
}

/// The two networks.
pub struct AntiSpoof {
    models: [Model; 2],
}

impl AntiSpoof {
    /// `onnx` in the order of [`files`]. [`Precision::Int8Pointwise`] runs the 1x1
    /// convolutions whose weights are stored in int8 (the `models/web` files) in 8-bit integers.
    pub fn load(onnx_2_7: Vec<u8>, onnx_4_0: Vec<u8>, precision: Precision) -> Result<AntiSpoof> {
        Ok(AntiSpoof { models: [load_network(0, onnx_2_7, precision)?, load_network(1, onnx_4_0, precision)?] })
    }

    /// The two networks loaded one at a time ([`load_network`]), in the order of [`files`].
    pub fn from_networks(models: [Model; 2]) -> AntiSpoof {
        AntiSpoof { models }
    }

    /// The two networks, in the order of [`files`].
    pub fn into_networks(self) -> [Model; 2] {
        self.models
    }

    /// Both files from a directory.
    pub fn from_dir(dir: impl AsRef<std::path::Path>, precision: Precision) -> Result<AntiSpoof> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| Error::ModelLoad(format!("{}: {e}", dir.join(name).display())))
        };
        AntiSpoof::load(read(files::SCALE_2_7)?, read(files::SCALE_4_0)?, precision)
    }

    /// Score the face `detection` (a BlazeFace detection in `img`'s pixels).
    pub fn score(&self, img: &impl Pixels, detection: &Detection) -> Result<SpoofScore> {
        let crops = crops(img, detection)?;
        let mut probabilities = [[0.0; 3]; 2];
        for ((model, crop), p) in self.models.iter().zip(&crops).zip(probabilities.iter_mut()) {
            let n = CROP as usize;
            let out = model.run([1, n, n, 3], crop.data.clone())?;
            let logits = out
                .first()
                .filter(|l| l.len() == 3)
                .ok_or_else(|| Error::Inference("antispoof: unexpected output shape".into()))?;
            *p = softmax([logits[0], logits[1], logits[2]]);
        }
        let live = (probabilities[0][1] + probabilities[1][1]) / 2.0;
        Ok(SpoofScore { live, probabilities })
    }
}

/// One of the two networks, `index` in the order of [`files`] (0: 2.7x, 1: 4.0x).
pub fn load_network(index: usize, onnx: Vec<u8>, precision: Precision) -> Result<Model> {
    let name = match index {
        0 => "antispoof_2.7_80",
        1 => "antispoof_4.0_80",
        _ => return Err(Error::InvalidArgument(format!("antispoof: no network {index}"))),
    };
    Model::load(name, onnx, precision, "input", &["logits"])
}

fn softmax(z: [f32; 3]) -> [f32; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = z.map(|v| (v - m).exp());
    let s = e[0] + e[1] + e[2];
    e.map(|v| v / s)
}

/// The original's face box, `[x, y, w, h]` in whole pixels, from a BlazeFace box: [`BOX_MAP`],
/// then the integer conversion of Silent-Face-Anti-Spoofing's `Detection.get_bbox`.
pub fn mapped_box(bbox: [f32; 4]) -> Result<[i64; 4]> {
    let [x0, y0, x1, y1] = bbox.map(f64::from);
    let (w, h) = (x1 - x0, y1 - y0);
    if !(w.is_finite() && h.is_finite() && x0.is_finite() && y0.is_finite()) || w <= 0.0 || h <= 0.0 {
        return Err(Error::InvalidArgument(format!("antispoof: face box {bbox:?} is empty")));
    }
    let [dx, dy, sw, sh] = BOX_MAP;
    let (cx, cy) = ((x0 + x1) / 2.0 + dx * w, (y0 + y1) / 2.0 + dy * h);
    let (w, h) = (w * sw, h * sh);
    let (x0, y0) = (cx - w / 2.0, cy - h / 2.0);
    let (x1, y1) = (x0 + w, y0 + h);
    // Python's int(): truncation toward zero.
    Ok([x0.trunc() as i64, y0.trunc() as i64, (x1 - x0 + 1.0).trunc() as i64, (y1 - y0 + 1.0).trunc() as i64])
}

/// The crop rectangle `[x0, y0, x1, y1]` (inclusive) of the box enlarged `scale` times, shifted
/// inside the image and shrunk to fit it: `CropImage._get_new_box` of the original, in the same
/// float64 steps and truncations.
pub fn crop_rect(width: u32, height: u32, bbox: [i64; 4], scale: f64) -> Result<[i64; 4]> {
    let (src_w, src_h) = (width as f64, height as f64);
    let [x, y, box_w, box_h] = bbox.map(|v| v as f64);
    if box_w <= 0.0 || box_h <= 0.0 || width < 2 || height < 2 {
        return Err(Error::InvalidArgument("antispoof: face box or image too small".into()));
    }
    let scale = scale.min((src_w - 1.0) / box_w).min((src_h - 1.0) / box_h);
    let (new_w, new_h) = (box_w * scale, box_h * scale);
    let (cx, cy) = (box_w / 2.0 + x, box_h / 2.0 + y);
    let (mut x0, mut y0, mut x1, mut y1) = (cx - new_w / 2.0, cy - new_h / 2.0, cx + new_w / 2.0, cy + new_h / 2.0);
    if x0 < 0.0 {
        x1 -= x0;
        x0 = 0.0;
    }
    if y0 < 0.0 {
        y1 -= y0;
        y0 = 0.0;
    }
    if x1 > src_w - 1.0 {
        x0 -= x1 - src_w + 1.0;
        x1 = src_w - 1.0;
    }
    if y1 > src_h - 1.0 {
        y0 -= y1 - src_h + 1.0;
        y1 = src_h - 1.0;
    }
    let r = [x0, y0, x1, y1].map(|v| v.trunc() as i64);
    if r[0] < 0 || r[1] < 0 || r[2] < r[0] || r[3] < r[1] {
        return Err(Error::InvalidArgument("antispoof: face box outside the image".into()));
    }
    Ok(r)
}

/// The two 80x80 RGB crops the models read (0..255), in the order of [`files`]: each
/// [`crop_rect`] resized as OpenCV's `resize` (bilinear, pixel centres aligned, edges
/// replicated), in float instead of OpenCV's 8-bit fixed point.
pub fn crops(img: &impl Pixels, detection: &Detection) -> Result<[RgbImage; 2]> {
    let bbox = mapped_box(detection.bbox)?;
    let [cx, cy] = detection.center();
    if !(0.0..=img.width() as f32).contains(&cx) || !(0.0..=img.height() as f32).contains(&cy) {
        // the original would crop the nearest corner of the image instead: no face there
        return Err(Error::InvalidArgument(format!("antispoof: face box {:?} outside the image", detection.bbox)));
    }
    let crop = |scale: f64| -> Result<RgbImage> {
        let r = crop_rect(img.width(), img.height(), bbox, scale)?;
        Ok(resize_rect(img, r, CROP))
    };
    Ok([crop(SCALES[0])?, crop(SCALES[1])?])
}

/// `rect` (inclusive corners, inside the image) resized to `n x n` like cv2.resize INTER_LINEAR.
fn resize_rect(img: &impl Pixels, rect: [i64; 4], n: u32) -> RgbImage {
    let (cw, ch) = (rect[2] - rect[0] + 1, rect[3] - rect[1] + 1);
    // source position and weight of each output column / row, clamped to the rectangle
    let taps = |len: i64| -> Vec<(i64, f32)> {
        let s = len as f64 / n as f64;
        (0..n)
            .map(|d| {
                let f = ((d as f64 + 0.5) * s - 0.5) as f32;
                let mut i = f.floor() as i64;
                let mut w = f - i as f32;
                if i < 0 {
                    (i, w) = (0, 0.0);
                }
                if i >= len - 1 {
                    (i, w) = (len - 1, 0.0);
                }
                (i, w)
            })
            .collect()
    };
    let (xs, ys) = (taps(cw), taps(ch));
    let mut out = RgbImage::new(n, n);
    for (v, &(y, fy)) in ys.iter().enumerate() {
        for (u, &(x, fx)) in xs.iter().enumerate() {
            let (sx, sy) = (rect[0] + x, rect[1] + y);
            // a tap whose weight is 0 may fall one past the rectangle: read it as its neighbour
            let (sx1, sy1) = (if x + 1 < cw { sx + 1 } else { sx }, if y + 1 < ch { sy + 1 } else { sy });
            let p = [img.get(sx, sy), img.get(sx1, sy), img.get(sx, sy1), img.get(sx1, sy1)];
            let i = (v * n as usize + u) * 3;
            for (c, o) in out.data[i..i + 3].iter_mut().enumerate() {
                let top = p[0][c] * (1.0 - fx) + p[1][c] * fx;
                let bot = p[2][c] * (1.0 - fx) + p[3][c] * fx;
                *o = top * (1.0 - fy) + bot * fy;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_rect_enlarges_and_shifts_inside_like_the_original() {
        // 640x480 frame, box 100x100 at (300, 200): 2.7x is 270 wide, centred on (350, 250)
        assert_eq!(crop_rect(640, 480, [300, 200, 100, 100], 2.7).ok(), Some([215, 115, 485, 385]));
        // near the left edge the rectangle is shifted right, keeping its size
        assert_eq!(crop_rect(640, 480, [0, 200, 100, 100], 2.7).ok(), Some([0, 115, 270, 385]));
        // 4.0x of a 150-pixel box does not fit 480 rows: shrunk to (480-1)/150
        let Ok(r) = crop_rect(640, 480, [250, 150, 150, 150], 4.0) else { panic!("the crop is shrunk to fit") };
        assert_eq!((r[3] - r[1], r[1]), (479, 0));
        assert!(crop_rect(640, 480, [0, 0, 0, 10], 2.7).is_err());
    }

    #[test]
    fn mapped_box_refuses_empty_and_non_finite_boxes() {
        assert!(mapped_box([10.0, 10.0, 10.0, 50.0]).is_err());
        assert!(mapped_box([f32::NAN, 10.0, 20.0, 50.0]).is_err());
        assert!(mapped_box([10.0, 10.0, f32::INFINITY, 50.0]).is_err());
    }

    #[test]
    fn resize_matches_opencv_sample_positions() {
        // a horizontal ramp: pixel x has value x; 160 -> 80 samples x = 2u + 0.5
        let mut img = RgbImage::new(160, 4);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = ((i / 3) % 160) as f32;
        }
        let out = resize_rect(&img, [0, 0, 159, 3], 80);
        assert_eq!(out.get(0, 0)[0], 0.5);
        assert_eq!(out.get(79, 0)[0], 158.5);
        // upscaling: the edges are replicated (OpenCV), not blended with what lies outside
        let out = resize_rect(&img, [10, 0, 29, 3], 80);
        assert_eq!(out.get(0, 0)[0], 10.0);
        assert_eq!(out.get(79, 0)[0], 29.0);
    }
}

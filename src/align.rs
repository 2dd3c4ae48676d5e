//! Alignment: a least-squares similarity from face points to the ArcFace 112x112 template,
//! then a bilinear warp. The embedder was trained on faces placed this way.

use crate::error::{Error, Result};
use crate::geometry::{similarity, warp};
use crate::image::RgbImage;

/// Side of the aligned face.
pub const FACE_SIZE: u32 = 112;

/// The standard ArcFace 5-point template: eyes (image-left first), nose tip, mouth corners.
pub const ARCFACE_5: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// The reference pipeline's 4-point template: BlazeFace has a mouth centre, not corners.
/// Computed in float32 like the reference.
pub fn arcface_4() -> [[f64; 2]; 4] {
    let mouth = [(41.5493f32 + 70.7299f32) / 2.0, (92.3655f32 + 92.2041f32) / 2.0];
    let f = |v: f64| v as f32 as f64;
    [
        [f(ARCFACE_5[0][0]), f(ARCFACE_5[0][1])],
        [f(ARCFACE_5[1][0]), f(ARCFACE_5[1][1])],
        [f(ARCFACE_5[2][0]), f(ARCFACE_5[2][1])],
        [mouth[0] as f64, mouth[1] as f64],
    ]
}

/// Warp the face whose `points` correspond to `template` into a 112x112 crop.
pub fn align(img: &RgbImage, points: &[[f64; 2]], template: &[[f64; 2]]) -> Result<RgbImage> {
    let to_template = similarity(points, template)
        .ok_or_else(|| Error::InvalidArgument("degenerate face points".into()))?;
    let inv = to_template
        .inverse()
        .ok_or_else(|| Error::InvalidArgument("degenerate face points".into()))?;
    Ok(warp(img, &inv, FACE_SIZE, FACE_SIZE))
}

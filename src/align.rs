//! Alignment: a least-squares similarity from face points to the ArcFace 112x112 template,
//! then a bilinear warp. The embedder was trained on faces placed this way.

use crate::error::{Error, Result};
use crate::geometry::{similarity, warp, Affine};
use crate::image::{Pixels, RgbImage};

/// Side of the aligned face.
pub const FACE_SIZE: u32 = 112;

/// The standard ArcFace 5-point template: eyes (image-left first), nose tip, mouth corners.
pub const ARCFACE_5: [[f64; 2]; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

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
pub fn align(img: &impl Pixels, points: &[[f64; 2]], template: &[[f64; 2]]) -> Result<RgbImage> {
    align_jittered(img, points, template, &Jitter::NONE)
}

/// A small change of the alignment, in template pixels and degrees, about the crop centre.
/// Several jittered crops of one photo stand in for several camera frames at enrollment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    pub dx: f64,
    pub dy: f64,
    pub scale: f64,
    pub degrees: f64,
    /// Mirror the crop left-right.
    pub mirror: bool,
}

impl Jitter {
    pub const NONE: Jitter = Jitter { dx: 0.0, dy: 0.0, scale: 1.0, degrees: 0.0, mirror: false };

    /// The enrollment views: the face, its mirror, and small shifts, scalings and rotations.
    pub const ENROLL: [Jitter; 8] = [
        Jitter::NONE,
        Jitter { mirror: true, ..Jitter::NONE },
        Jitter { dx: 2.0, ..Jitter::NONE },
        Jitter { dx: -2.0, ..Jitter::NONE },
        Jitter { dy: 2.0, ..Jitter::NONE },
        Jitter { dy: -2.0, ..Jitter::NONE },
        Jitter { scale: 1.05, degrees: 4.0, ..Jitter::NONE },
        Jitter { scale: 0.95, degrees: -4.0, ..Jitter::NONE },
    ];

    fn affine(&self) -> Affine {
        let c = FACE_SIZE as f64 / 2.0 - 0.5;
        let (sn, cs) = self.degrees.to_radians().sin_cos();
        let (a, b) = (self.scale * cs, self.scale * sn);
        // p' = R*S (p - c) + c + d
        Affine([a, -b, c - a * c + b * c + self.dx, b, a, c - b * c - a * c + self.dy])
    }
}

/// [`align`] with a [`Jitter`] applied in template space.
pub fn align_jittered(
    img: &impl Pixels,
    points: &[[f64; 2]],
    template: &[[f64; 2]],
    jitter: &Jitter,
) -> Result<RgbImage> {
    let degenerate = || Error::InvalidArgument("degenerate face points".into());
    let to_template = similarity(points, template).ok_or_else(degenerate)?;
    let to_template = if *jitter == Jitter::NONE { to_template } else { jitter.affine().then_after(&to_template) };
    let inv = to_template.inverse().ok_or_else(degenerate)?;
    let face = warp(img, &inv, FACE_SIZE, FACE_SIZE);
    Ok(if jitter.mirror { face.flip_horizontal() } else { face })
}

//! 2-D affine maps, the least-squares similarity used for alignment, and the bilinear warp
//! that every crop (detector letterbox, FaceMesh ROI, 112x112 face) goes through.
//!
//! Coordinates are OpenCV "index" coordinates: pixel (row i, col j) has its centre at
//! (x = j, y = i). The warp reproduces `reference_pipeline.py::bilinear_warp` operation for
//! operation in `f32`, so that crops equal the reference's.

use crate::image::{Pixels, RgbImage};

/// `p' = [[a, b], [c, d]] p + [tx, ty]`, stored row-major as `[a, b, tx, c, d, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let m = &self.0;
        [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]]
    }

    /// The inverse map, or `None` when the linear part is singular (degenerate landmarks).
    pub fn inverse(&self) -> Option<Affine> {
        let [a, b, tx, c, d, ty] = self.0;
        let det = a * d - b * c;
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine([ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)]))
    }

    /// `self` applied after `first`: the map `p -> self(first(p))`.
    pub fn then_after(&self, first: &Affine) -> Affine {
        let [a, b, c, d, e, f] = self.0;
        let [p, q, r, s, t, u] = first.0;
        Affine([a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f])
    }

    /// Uniform scale of a similarity (length of the first column).
    pub fn scale(&self) -> f64 {
        self.0[0].hypot(self.0[3])
    }
}

/// Least-squares similarity (rotation + uniform scale + translation) mapping `src` onto `dst`:
/// the closed form of the linear system the reference solves with `np.linalg.lstsq`.
/// `None` when all source points coincide.
pub fn similarity(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let mean = |pts: &[[f64; 2]]| {
        let s = pts[..n].iter().fold([0.0, 0.0], |acc, p| [acc[0] + p[0], acc[1] + p[1]]);
        [s[0] / n as f64, s[1] / n as f64]
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (sx, sy) = (src[i][0] - ms[0], src[i][1] - ms[1]);
        let (dx, dy) = (dst[i][0] - md[0], dst[i][1] - md[1]);
        num_a += sx * dx + sy * dy;
        num_b += sx * dy - sy * dx;
        den += sx * sx + sy * sy;
    }
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // also rejects NaN
    if !(den > 1e-12) {
        return None;
    }
    let (a, b) = (num_a / den, num_b / den);
    let tx = md[0] - (a * ms[0] - b * ms[1]);
    let ty = md[1] - (b * ms[0] + a * ms[1]);
    Some(Affine([a, -b, tx, b, a, ty]))
}

/// Sample `out_w x out_h` pixels: destination index (u, v) reads the source at
/// `inv(u, v)`, bilinearly, black outside. `inv` maps destination to source.
pub fn warp(img: &impl Pixels, inv: &Affine, out_w: u32, out_h: u32) -> RgbImage {
    // The reference casts the matrix to float32 and does all arithmetic in float32.
    let m: [f32; 6] = inv.0.map(|v| v as f32);
    let mut out = RgbImage::new(out_w, out_h);
    if out_w > 0 {
        for (v, row) in out.data.chunks_exact_mut(3 * out_w as usize).enumerate() {
            warp_row(img, &m, v as f32, row);
        }
    }
    out
}

/// One destination row of [`warp`]. Its own function: in the browser's first call V8 runs a
/// function in its baseline tier until the call returns, and a row is short enough for the
/// optimised code to take over after the first rows (cold start, docs/performance.md).
#[inline(never)]
fn warp_row(img: &impl Pixels, m: &[f32; 6], vf: f32, row: &mut [f32]) {
    #[allow(unused_mut)]
    let mut done = 0;
    // Four source positions at once: the same products, sums and floors as the scalar loop.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let (bx, by) = (f32x4_splat(m[1] * vf), f32x4_splat(m[4] * vf));
        let (ax, ay, cx, cy) = (f32x4_splat(m[0]), f32x4_splat(m[3]), f32x4_splat(m[2]), f32x4_splat(m[5]));
        let lanes = |v: v128| -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(v),
                f32x4_extract_lane::<1>(v),
                f32x4_extract_lane::<2>(v),
                f32x4_extract_lane::<3>(v),
            ]
        };
        for (q, out) in row.chunks_exact_mut(12).enumerate() {
            let u = (4 * q) as f32;
            let uf = f32x4(u, u + 1., u + 2., u + 3.);
            let sx = f32x4_add(f32x4_add(f32x4_mul(ax, uf), bx), cx);
            let sy = f32x4_add(f32x4_add(f32x4_mul(ay, uf), by), cy);
            let (x0, y0) = (f32x4_floor(sx), f32x4_floor(sy));
            let (fx, fy) = (lanes(f32x4_sub(sx, x0)), lanes(f32x4_sub(sy, y0)));
            let (x0, y0) = (lanes(x0), lanes(y0));
            for (i, out) in out.chunks_exact_mut(3).enumerate() {
                out.copy_from_slice(&img.bilinear(x0[i] as i64, y0[i] as i64, fx[i], fy[i]));
            }
            done += 4;
        }
    }
    for (u, out) in row.chunks_exact_mut(3).enumerate().skip(done) {
        let uf = u as f32;
        let sx = m[0] * uf + m[1] * vf + m[2];
        let sy = m[3] * uf + m[4] * vf + m[5];
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        out.copy_from_slice(&img.bilinear(x0 as i64, y0 as i64, fx, fy));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_a_known_transform() {
        let t = Affine([0.8, -0.6, 5.0, 0.6, 0.8, -3.0]); // scale 1, rotation ~36.9 deg
        let src = [[0.0, 0.0], [10.0, 0.0], [3.0, 7.0], [8.0, 9.0]];
        let dst: Vec<_> = src.iter().map(|&p| t.apply(p)).collect();
        let Some(m) = similarity(&src, &dst) else { panic!("four points determine a similarity") };
        for (a, b) in m.0.iter().zip(t.0.iter()) {
            assert!((a - b).abs() < 1e-9, "{m:?}");
        }
        let Some(inverse) = m.inverse() else { panic!("a similarity is invertible") };
        let back = inverse.apply(m.apply([2.0, 3.0]));
        let composed = t.then_after(&m).apply([1.0, 2.0]);
        let stepwise = t.apply(m.apply([1.0, 2.0]));
        assert!((composed[0] - stepwise[0]).abs() < 1e-9 && (composed[1] - stepwise[1]).abs() < 1e-9);
        assert!((back[0] - 2.0).abs() < 1e-9 && (back[1] - 3.0).abs() < 1e-9);
    }

    #[test]
    fn degenerate_points_have_no_similarity() {
        assert!(similarity(&[[1.0, 1.0], [1.0, 1.0]], &[[0.0, 0.0], [1.0, 0.0]]).is_none());
        assert!(Affine([0.0; 6]).inverse().is_none());
    }

    #[test]
    fn warp_identity_and_half_pixel_shift() {
        let Ok(img) = RgbImage::from_rgb(&[0, 0, 0, 100, 100, 100], 2, 1) else { panic!("2x1 pixels") };
        let id = warp(&img, &Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]), 2, 1);
        assert_eq!(id.data, img.data);
        let half = warp(&img, &Affine([1.0, 0.0, 0.5, 0.0, 1.0, 0.0]), 2, 1);
        assert_eq!(half.data[0], 50.0);
        assert_eq!(half.data[3], 50.0); // right half reads black outside
    }
}

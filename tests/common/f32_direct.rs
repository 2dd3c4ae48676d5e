//! The float convolutions that rten patch 9 takes off rten's GEMM (wasm SIMD builds only)
//! against that GEMM path, and patch 10's 2x2 max pooling against rten's generic pooling: bit
//! for bit, in each browser build (`tests/web.rs`).
use rten::ops::{
    conv, conv_2d_im2col_f32, conv_2d_one_pixel_f32, conv_2d_pointwise_f32, im2col_f32_applies, max_pool, max_pool_2x2,
    one_pixel_f32_applies, pointwise_f32_applies, ConvGeometry, Padding, RoundMode,
};
use rten::BufferPool;
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

use super::int8::values;

/// Equal bit for bit (and in number).
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// rten's PRelu after the GEMM (as `ConvPRelu` applies it): `[batch, out_c, pixels]` outputs,
/// one slope per channel.
fn prelu(y: &[f32], slopes: &[f32], pixels: usize) -> Vec<f32> {
    y.iter().enumerate().map(|(j, &y)| if y < 0. { y * slopes[(j / pixels) % slopes.len()] } else { y }).collect()
}

/// A random convolution: input `[n, c, h, w]`, kernel `[out_c, c, kh, kw]` (flat and as a
/// tensor), bias and PRelu slopes, from `seed`.
struct Case {
    input: Tensor<f32>,
    kernel: Vec<f32>,
    kernel_t: Tensor<f32>,
    bias: Vec<f32>,
    bias_t: Tensor<f32>,
    slopes: Vec<f32>,
}

impl Case {
    fn new([n, c, h, w]: [usize; 4], out_c: usize, [kh, kw]: [usize; 2], seed: u64) -> Case {
        let kernel = values(out_c * c * kh * kw, seed + 1);
        let bias = values(out_c, seed + 2);
        Case {
            input: Tensor::from_data(&[n, c, h, w], values(n * c * h * w, seed)),
            kernel_t: Tensor::from_data(&[out_c, c, kh, kw], kernel.clone()),
            kernel,
            bias_t: Tensor::from_data(&[out_c], bias.clone()),
            bias,
            slopes: values(out_c, seed + 3).iter().map(|v| v.abs() * 0.5).collect(),
        }
    }

    /// rten's GEMM path (`conv`), with or without the bias.
    fn gemm(&self, pool: &BufferPool, padding: Padding, strides: [usize; 2], with_bias: bool) -> Tensor<f32> {
        let bias = with_bias.then(|| self.bias_t.nd_view());
        conv(pool, self.input.view(), self.kernel_t.view(), bias, padding, 1, &strides, &[1, 1]).unwrap()
    }
}

/// The shapes the patch takes: channel counts that are and are not multiples of the 3-row
/// tile (3, the smallest), pixel counts that are and are not multiples of the 12-pixel strip
/// (12, the smallest), one of rten-gemm's depth blocks (256) and more (MobileFaceNet's 512-channel
/// projection; 300: a partial second block; 1024, the most it takes), a batch of 2.
pub fn check_pointwise_against_gemm() {
    let cases = [
        (2, 13, 10, 5, 7),
        (1, 16, 16, 96, 96),
        (1, 64, 128, 8, 8),
        (1, 1, 3, 3, 4),
        (1, 256, 28, 7, 7),
        (2, 88, 32, 16, 16),
        (1, 512, 128, 7, 7),
        (2, 300, 5, 3, 5),
        (1, 1024, 4, 2, 7),
    ];
    for (i, &(n, c, out_c, h, w)) in cases.iter().enumerate() {
        assert!(pointwise_f32_applies(c, out_c, h * w), "case {i}");
        let pool = BufferPool::new();
        let t = Case::new([n, c, h, w], out_c, [1, 1], 31 + 4 * i as u64);
        let x = t.input.nd_view();
        let gemm = t.gemm(&pool, Padding::zero::<2>(), [1, 1], true).to_vec();
        let got = conv_2d_pointwise_f32(&pool, &x, &t.kernel, out_c, Some(&t.bias), None);
        assert_eq!(got.shape(), [n, out_c, h, w]);
        assert!(same_bits(&got.to_vec(), &gemm), "case {i}");
        let fused = conv_2d_pointwise_f32(&pool, &x, &t.kernel, out_c, Some(&t.bias), Some(&t.slopes));
        assert!(same_bits(&fused.to_vec(), &prelu(&gemm, &t.slopes, h * w)), "case {i} + PRelu");
        let no_bias = t.gemm(&pool, Padding::zero::<2>(), [1, 1], false);
        let got = conv_2d_pointwise_f32(&pool, &x, &t.kernel, out_c, None, None);
        assert!(same_bits(&got.to_vec(), &no_bias.to_vec()), "case {i} without bias");
    }
    // Outside: fewer than 3 output channels or 12 pixels, more than 1024 input channels: rten's
    // path runs.
    assert!(!pointwise_f32_applies(16, 2, 64));
    assert!(!pointwise_f32_applies(16, 16, 9));
    assert!(!pointwise_f32_applies(1025, 16, 64));
}

/// Convolutions to one output pixel (the kernel covers the input): FaceMesh's last layer
/// (288 = 32 x 3 x 3 deep, two of rten-gemm's depth blocks), MobileFaceNet's after global
/// pooling (512 deep), fewer than 4 output rows, row counts not a multiple of 4, depths not a
/// multiple of 4, a batch of 2.
pub fn check_one_pixel_against_gemm() {
    let cases = [
        (1, 32, 1404, 3, 3),
        (1, 512, 192, 1, 1),
        (2, 512, 512, 1, 1),
        (1, 32, 1, 3, 3),
        (2, 7, 6, 1, 1),
        (1, 300, 3, 1, 1),
    ];
    for (i, &(n, c, out_c, kh, kw)) in cases.iter().enumerate() {
        assert!(one_pixel_f32_applies([kh, kw], [kh, kw], out_c, c), "case {i}");
        let pool = BufferPool::new();
        let t = Case::new([n, c, kh, kw], out_c, [kh, kw], 41 + 4 * i as u64);
        let x = t.input.nd_view();
        let gemm = t.gemm(&pool, Padding::zero::<2>(), [1, 1], true).to_vec();
        let got = conv_2d_one_pixel_f32(&pool, &x, &t.kernel, out_c, Some(&t.bias), None);
        assert_eq!(got.shape(), [n, out_c, 1, 1]);
        assert!(same_bits(&got.to_vec(), &gemm), "case {i}");
        let fused = conv_2d_one_pixel_f32(&pool, &x, &t.kernel, out_c, Some(&t.bias), Some(&t.slopes));
        assert!(same_bits(&fused.to_vec(), &prelu(&gemm, &t.slopes, 1)), "case {i} + PRelu");
        let no_bias = t.gemm(&pool, Padding::zero::<2>(), [1, 1], false);
        let got = conv_2d_one_pixel_f32(&pool, &x, &t.kernel, out_c, None, None);
        assert!(same_bits(&got.to_vec(), &no_bias.to_vec()), "case {i} without bias");
    }
    // A kernel that does not cover the input: more than one output pixel.
    assert!(!one_pixel_f32_applies([3, 3], [5, 5], 8, 8));
}

/// Other convolutions through the gathered strips: the three networks' first layers (3 input
/// channels; 3x3 stride 2 with padding 1, and BlazeFace's 5x5 stride 2 padded 1 before and 2
/// after), stride 1 with padding on odd sizes, padding on one side only, a batch of 2, and
/// output rows that are and are not multiples of the 12-pixel strip.
pub fn check_im2col_against_gemm() {
    // (batch, in_c, out_c, [h, w], [kh, kw], [sy, sx], [top, left, bottom, right])
    let cases = [
        (1, 3, 64, [112, 112], [3, 3], [2, 2], [1, 1, 1, 1]),
        (1, 3, 16, [192, 192], [3, 3], [2, 2], [0, 0, 1, 1]),
        (1, 3, 24, [128, 128], [5, 5], [2, 2], [1, 1, 2, 2]),
        (2, 5, 7, [20, 17], [3, 3], [1, 1], [1, 1, 1, 1]),
        (1, 4, 3, [9, 30], [2, 3], [1, 2], [0, 2, 1, 0]),
    ];
    for (i, &(n, c, out_c, [h, w], [kh, kw], [sy, sx], pad)) in cases.iter().enumerate() {
        let out = [(h + pad[0] + pad[2] - kh) / sy + 1, (w + pad[1] + pad[3] - kw) / sx + 1];
        let g = ConvGeometry { kernel: [kh, kw], strides: [sy, sx], pad: [pad[0], pad[1]], out };
        assert!(im2col_f32_applies(c, out_c, &g), "case {i}");
        let pool = BufferPool::new();
        let t = Case::new([n, c, h, w], out_c, [kh, kw], 51 + 4 * i as u64);
        let x = t.input.nd_view();
        let gemm = t.gemm(&pool, Padding::Fixed(pad.into()), [sy, sx], true);
        let got = conv_2d_im2col_f32(&pool, &x, &t.kernel, out_c, &g, Some(&t.bias), None);
        assert_eq!(got.shape(), [n, out_c, out[0], out[1]]);
        assert_eq!(gemm.shape(), got.shape());
        let gemm = gemm.to_vec();
        assert!(same_bits(&got.to_vec(), &gemm), "case {i}");
        let fused = conv_2d_im2col_f32(&pool, &x, &t.kernel, out_c, &g, Some(&t.bias), Some(&t.slopes));
        assert!(same_bits(&fused.to_vec(), &prelu(&gemm, &t.slopes, out[0] * out[1])), "case {i} + PRelu");
    }
    // Output rows narrower than a strip, or more than 256 multiply-adds per output: rten's path.
    let g = |out| ConvGeometry { kernel: [3, 3], strides: [1, 1], pad: [1, 1], out };
    assert!(!im2col_f32_applies(8, 8, &g([16, 11])));
    assert!(!im2col_f32_applies(29, 8, &g([16, 16])));
}

/// 2x2 max pooling with stride 2 (BlazeFace's and FaceMesh's sizes, odd sizes whose last row
/// and column the floor mode drops, outputs rows that are not a multiple of 4, a batch of 2)
/// against rten's generic pooling, with signed zeros and infinities among the values. NaN and
/// signed zeros are checked on their own: the kernel folds as `f32::max` does (a NaN loses; of
/// -0 and +0 the first in the window stays), in both builds, while rten's generic loop,
/// vectorized by LLVM with relaxed SIMD, lets a NaN through and picks either zero.
pub fn check_max_pool_against_generic() {
    for (i, &(n, c, h, w)) in [(1, 28, 64, 64), (1, 16, 96, 96), (2, 3, 9, 13), (1, 128, 6, 8)].iter().enumerate() {
        let mut x = values(n * c * h * w, 61 + i as u64);
        for (j, v) in x.iter_mut().enumerate() {
            *v = match j % 23 {
                1 | 5 | 6 => -0.,
                2 | 7 => 0.,
                3 => f32::NEG_INFINITY,
                4 => f32::INFINITY,
                _ => *v,
            };
        }
        let pool = BufferPool::new();
        let input = Tensor::from_data(&[n, c, h, w], x);
        let generic = max_pool(&pool, input.view(), &[2, 2], &[2, 2], Padding::zero::<2>(), RoundMode::Floor).unwrap();
        let got = max_pool_2x2(&pool, &input.nd_view());
        assert_eq!(got.shape(), [n, c, h / 2, w / 2]);
        assert_eq!(generic.len(), got.len());
        // Relaxed SIMD's max (LLVM's vectorization of the generic loop) may return either zero
        // for -0 vs +0: equal as numbers there, bit for bit with plain SIMD.
        let same =
            |a: &f32, b: &f32| if cfg!(target_feature = "relaxed-simd") { a == b } else { a.to_bits() == b.to_bits() };
        let mismatch = generic.iter().zip(got.iter()).position(|(a, b)| !same(a, b));
        assert!(
            mismatch.is_none(),
            "case {i}: output {mismatch:?}: {:?} vs {:?}",
            mismatch.map(|j| generic.to_vec()[j]),
            mismatch.map(|j| got.to_vec()[j])
        );
    }
    // NaN loses to any number, in any position of the window; a window of NaNs gives the fold's
    // start, -inf (as rten's scalar fold does).
    let nan = f32::NAN;
    let rows = [nan, 1., -2., nan, nan, nan, nan, nan, 0.5, -1., nan, 7., nan, -3., nan, nan];
    let input = Tensor::from_data(&[1, 1, 2, 8], rows.to_vec());
    let got = max_pool_2x2(&BufferPool::new(), &input.nd_view()).to_vec();
    assert_eq!(got, [1., 7., -3., f32::NEG_INFINITY]);
    let zeros = [-0., 0., 0., -0., -0., -0., 0., 0., 0., 0., -0., -0., 0., -0., 0., -0.];
    let input = Tensor::from_data(&[1, 1, 2, 8], zeros.to_vec());
    let got = max_pool_2x2(&BufferPool::new(), &input.nd_view()).to_vec();
    assert_eq!(got.iter().map(|z| z.is_sign_negative()).collect::<Vec<_>>(), [true, false, true, false]);
}

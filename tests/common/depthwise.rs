//! The depthwise convolution (rten patches 1 and 6) against its definition, bit for bit; shared
//! by the native (`tests/engine_patches.rs`) and the browser tests (`tests/web.rs`), whose
//! wasm SIMD kernel is another code path.
use rten::ops::{conv, Padding};
use rten::BufferPool;
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

use super::int8::values;

pub struct Case {
    pub batch: usize,
    pub chans: usize,
    pub in_hw: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: usize,
    pub dilation: usize,
    /// top, left, bottom, right
    pub pad: [usize; 4],
}

/// Direct definition of a depthwise convolution with zero padding, in f32: the bias, then each
/// tap's product added in row-major kernel order (every rten kernel sums in this order, so
/// their results are equal bit for bit; a padding tap adds 0).
fn definition(c: &Case, input: &[f32], weights: &[f32], bias: &[f32]) -> (Vec<f32>, [usize; 2]) {
    let [h, w] = c.in_hw;
    let [kh, kw] = c.kernel;
    let [pt, pl, pb, pr] = c.pad;
    let span = |k: usize| (k - 1) * c.dilation + 1;
    let oh = (h + pt + pb - span(kh)) / c.stride + 1;
    let ow = (w + pl + pr - span(kw)) / c.stride + 1;
    let mut out = vec![0f32; c.batch * c.chans * oh * ow];
    for n in 0..c.batch {
        for ch in 0..c.chans {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias[ch];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let y = (oy * c.stride + ky * c.dilation) as isize - pt as isize;
                            let x = (ox * c.stride + kx * c.dilation) as isize - pl as isize;
                            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                                continue;
                            }
                            let v = input[((n * c.chans + ch) * h + y as usize) * w + x as usize];
                            acc += v * weights[(ch * kh + ky) * kw + kx];
                        }
                    }
                    out[((n * c.chans + ch) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    (out, [oh, ow])
}

/// `c` with a bias, and without one (the definition then starts each sum from 0).
pub fn check(c: Case) {
    check_bias(&c, true);
    check_bias(&c, false);
}

fn check_bias(c: &Case, with_bias: bool) {
    let [h, w] = c.in_hw;
    let [kh, kw] = c.kernel;
    let input = values(c.batch * c.chans * h * w, (h * 31 + w) as u64);
    let weights = values(c.chans * kh * kw, 7 + kh as u64);
    let bias = if with_bias { values(c.chans, 3) } else { vec![0.; c.chans] };
    let (expected, [oh, ow]) = definition(c, &input, &weights, &bias);

    let pool = BufferPool::new();
    let x = Tensor::from_data(&[c.batch, c.chans, h, w], input);
    let k = Tensor::from_data(&[c.chans, 1, kh, kw], weights);
    let b = Tensor::from_data(&[c.chans], bias);
    let out = conv(
        &pool,
        x.view(),
        k.view(),
        with_bias.then(|| b.nd_view()),
        Padding::Fixed(c.pad.into()),
        c.chans,
        &[c.stride, c.stride],
        &[c.dilation, c.dilation],
    )
    .expect("conv");
    let what = format!("{:?} k{:?} s{} d{} p{:?} bias {with_bias}", c.in_hw, c.kernel, c.stride, c.dilation, c.pad);
    assert_eq!(out.shape(), &[c.batch, c.chans, oh, ow], "{what}");
    assert!(expected.iter().any(|v| *v != 0.0), "{what}");
    let out = out.to_vec();
    if let Some(i) = (0..out.len()).find(|&i| out[i] != expected[i]) {
        panic!("{what}: output {i} is {} instead of {}", out[i], expected[i]);
    }
}

/// Every shape class the fast paths take: 3x3 and 5x5, stride 1 and 2, widths below, at and
/// above a vector and not multiples of it, symmetric and asymmetric padding, with and without
/// a bias.
pub fn check_fast_path_shapes() {
    for k in [3, 5] {
        for stride in [1, 2] {
            for in_hw in [[7, 7], [14, 14], [28, 28], [13, 9], [1, 1], [2, 5], [6, 11], [9, 23], [4, 16]] {
                let p = k / 2;
                // symmetric ("same"), TFLite-style asymmetric (extra rows/columns at the end:
                // [0, 0, 1, 1] is "same" for a 3x3 kernel with stride 2 on an even plane), none
                for pad in [[p, p, p, p], [0, 0, k - 1, k - 1], [0, 0, p, p], [p, p, p + 1, p + 1], [0, 0, 0, 0]] {
                    if in_hw[0] + pad[0] + pad[2] < k || in_hw[1] + pad[1] + pad[3] < k {
                        continue;
                    }
                    check(Case { batch: 2, chans: 5, in_hw, kernel: [k, k], stride, dilation: 1, pad });
                }
            }
        }
    }
    // more channels than one parallel task takes (the fast path reuses one padded copy across
    // a task's channels: the padding must stay zero)
    for (in_hw, stride) in [([14, 14], 1), ([28, 28], 2), ([7, 7], 1)] {
        check(Case { batch: 1, chans: 37, in_hw, kernel: [3, 3], stride, dilation: 1, pad: [1; 4] });
    }
    // one output per channel: a kernel the size of the image (MobileFaceNet's 7x7 GDConv)
    for (in_hw, kernel) in [([7, 7], [7, 7]), ([6, 5], [6, 5]), ([3, 4], [2, 3])] {
        check(Case { batch: 2, chans: 6, in_hw, kernel, stride: 2, dilation: 1, pad: [0; 4] });
    }
}

/// Shapes the fast paths must leave to rten's generic kernel (7x7, dilation, non-square, stride 3).
pub fn check_generic_shapes() {
    check(Case { batch: 1, chans: 4, in_hw: [9, 9], kernel: [7, 7], stride: 1, dilation: 1, pad: [3; 4] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 12], kernel: [3, 3], stride: 1, dilation: 2, pad: [2; 4] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 10], kernel: [3, 5], stride: 1, dilation: 1, pad: [1, 2, 1, 2] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 10], kernel: [3, 3], stride: 3, dilation: 1, pad: [1; 4] });
}

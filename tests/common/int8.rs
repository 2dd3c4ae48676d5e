//! The int8 1x1 convolution (rten patch 5) against its definition; shared by the native
//! (`tests/engine_patches.rs`) and the browser tests (`tests/web.rs`).
use rten::ops::{conv, conv_2d_pointwise_int8, Padding, PointwiseInt8Kernel};
use rten::BufferPool;
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

/// Deterministic values in [-1, 1) (xorshift), so failures reproduce.
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// The int8 1x1 convolution as PATCHES.md (patch 5) defines it, written out directly: weights
/// symmetric per output channel in [-127, 127]; each pixel's channels asymmetric in [0, 127]
/// over a range that holds 0, rounded to nearest (ties to even, by adding 2^23); an exact
/// integer dot product, then one float multiply and add, then PRelu.
pub fn int8_definition(
    input: &[f32],
    [n, c, h, w]: [usize; 4],
    weights: &[f32],
    bias: &[f32],
    slopes: &[f32],
) -> Vec<f32> {
    let (out_c, pixels) = (bias.len(), h * w);
    let mut out = vec![0f32; n * out_c * pixels];
    let w_q: Vec<(f32, Vec<i32>)> = weights
        .chunks_exact(c)
        .map(|row| {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0. { max / 127. } else { 1. };
            (scale, row.iter().map(|v| (v / scale).round().clamp(-127., 127.) as i32).collect())
        })
        .collect();
    for b in 0..n {
        for p in 0..pixels {
            let x: Vec<f32> = (0..c).map(|ch| input[(b * c + ch) * pixels + p]).collect();
            let lo = x.iter().fold(0f32, |m, &v| if v < m { v } else { m });
            let hi = x.iter().fold(0f32, |m, &v| if m < v { v } else { m });
            let (scale, inv, zero) = if hi - lo > 0. {
                let inv = 127. / (hi - lo);
                ((hi - lo) / 127., inv, ((-lo * inv + 0.5) as i32).clamp(0, 127))
            } else {
                (1., 0., 0)
            };
            // v * inv + zero rounded: adding 2^23 leaves the integer in the low mantissa bits.
            let zero_magic = zero as f32 + 8_388_608.;
            let q: Vec<i32> =
                x.iter().map(|&v| ((v * inv + zero_magic).to_bits() as i32 - 0x4B00_0000).clamp(0, 127)).collect();
            for (o, (w_scale, w_row)) in w_q.iter().enumerate() {
                let dot: i32 = w_row.iter().zip(&q).map(|(a, b)| a * b).sum();
                let sum: i32 = w_row.iter().sum();
                let y = (dot - zero * sum) as f32 * (w_scale * scale) + bias[o];
                out[(b * out_c + o) * pixels + p] = if y < 0. { y * slopes[o] } else { y };
            }
        }
    }
    out
}

/// The kernel on a few shapes against [`int8_definition`]: bit for bit (run natively and in the
/// browser, where the SIMD and relaxed-SIMD kernels run), and within 2 % of float32.
pub fn check_against_definition() {
    // Channel counts that are and are not multiples of the 4-byte dot product and of the tile's
    // 4 rows; pixel counts that are and are not multiples of the 8-pixel panel; a pixel of zeros.
    for (i, &(n, c, out_c, h, w)) in
        [(2, 13, 10, 5, 7), (1, 64, 128, 8, 8), (1, 3, 1, 1, 1), (2, 32, 20, 7, 7)].iter().enumerate()
    {
        let shape = [n, c, h, w];
        let mut input = values(n * c * h * w, 11 + i as u64);
        for ch in 0..c {
            input[ch * h * w] = 0.; // pixel 0 of image 0: all channels zero
        }
        // A kernel stored in int8 (per output channel), as a quantized model's is.
        let weights: Vec<f32> = values(out_c * c, 12 + i as u64)
            .chunks(c)
            .enumerate()
            .flat_map(|(o, row)| {
                let scale = 0.01 + 0.002 * o as f32;
                let mut q: Vec<f32> = row.iter().map(|v| (v * 127.).round()).collect();
                q[o % c] = if o % 2 == 0 { 127. } else { -127. }; // the row's largest |value|
                q.into_iter().map(move |q| q * scale).collect::<Vec<_>>()
            })
            .collect();
        let bias = values(out_c, 13 + i as u64);
        let kernel_t = Tensor::from_data(&[out_c, c, 1, 1], weights.clone());
        let kernel = PointwiseInt8Kernel::new(kernel_t.nd_view()).unwrap();
        let input_t = Tensor::from_data(&shape, input.clone());
        let pool = BufferPool::new();
        let got = conv_2d_pointwise_int8(&pool, &input_t.nd_view(), &kernel, Some(&bias), None);
        assert_eq!(got.shape(), [n, out_c, h, w]);
        assert_eq!(got.to_vec(), int8_definition(&input, shape, &weights, &bias, &vec![1.; out_c]), "case {i}");
        let slopes: Vec<f32> = values(out_c, 14 + i as u64).iter().map(|v| v.abs() * 0.5).collect();
        let fused = conv_2d_pointwise_int8(&pool, &input_t.nd_view(), &kernel, Some(&bias), Some(&slopes));
        assert_eq!(fused.to_vec(), int8_definition(&input, shape, &weights, &bias, &slopes), "case {i} + PRelu");

        // And it approximates the float convolution: within 2 % of the largest output.
        let bias_t = Tensor::from_data(&[out_c], bias.clone());
        let float = conv(
            &pool,
            input_t.view(),
            kernel_t.view(),
            Some(bias_t.nd_view()),
            Padding::zero::<2>(),
            1,
            &[1, 1],
            &[1, 1],
        )
        .unwrap();
        let max = float.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(float.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 0.02 * max, "case {i}: int8 vs float32 {worst} (outputs up to {max})");
    }
    // The largest integers the epilogue meets (it subtracts the zero-point correction in float,
    // exact below 2^24): 512 channels of weights +-127, pixels whose values all quantize to 127
    // with a zero point of 0 (all 1.0), or to 0 with a zero point of 127 (all -1.0).
    let (c, out_c, pixels) = (512, 4, 16);
    let mut input = values(c * pixels, 21);
    for ch in 0..c {
        for p in 0..pixels / 2 {
            input[ch * pixels + p] = if p % 2 == 0 { 1. } else { -1. };
        }
    }
    let weights: Vec<f32> = (0..out_c * c)
        .map(|i| match i / c {
            0 => 0.01,
            1 => -0.01,
            r => ((i * (r + 2)) % 255) as f32 * 0.001 - 0.127, // -127..=127 steps of 0.001
        })
        .collect();
    let bias = values(out_c, 22);
    let kernel = PointwiseInt8Kernel::new(Tensor::from_data(&[out_c, c, 1, 1], weights.clone()).nd_view()).unwrap();
    let input_t = Tensor::from_data(&[1, c, 2, pixels / 2], input.clone());
    let got = conv_2d_pointwise_int8(&BufferPool::new(), &input_t.nd_view(), &kernel, Some(&bias), None);
    assert_eq!(
        got.to_vec(),
        int8_definition(&input, [1, c, 2, pixels / 2], &weights, &bias, &vec![1.; out_c]),
        "extremes"
    );
    // Beyond 1024 input channels the float correction could round: such kernels stay in float.
    assert!(PointwiseInt8Kernel::new(Tensor::from_data(&[4, 1025, 1, 1], vec![0.01; 4 * 1025]).nd_view()).is_none());

    // Not a 1x1 kernel, or a float one: stays in float.
    assert!(PointwiseInt8Kernel::new(Tensor::<f32>::zeros(&[4, 4, 3, 3]).nd_view()).is_none());
    let float = Tensor::from_data(&[8, 16, 1, 1], values(128, 5));
    assert!(PointwiseInt8Kernel::new(float.nd_view()).is_none());
    // A NaN weight, in a row of a multiple of 4 (wasm SIMD's path) and of 13 (the scalar one).
    for c in [16, 13] {
        let mut w = vec![0.5f32; 8 * c];
        w[5 * c + 2] = f32::NAN;
        assert!(PointwiseInt8Kernel::new(Tensor::from_data(&[8, c, 1, 1], w).nd_view()).is_none(), "{c}");
    }
}

//! The patches to rten in third_party/rten (see its PATCHES.md):
//! - the depthwise convolution against a naive reference, on every shape class the fast path
//!   takes (3x3 and 5x5, stride 1 and 2, even/odd sizes, symmetric and asymmetric padding) and
//!   on shapes it must leave to rten's generic kernel (dilation, 7x7, non-square);
//! - each shipped model, optimised (Conv+PRelu fused) against unoptimised, on a real face;
//! - each shipped model loaded as faceproof loads it (`model::options()`: no shape inference)
//!   against rten's default options: bit-identical outputs;
//! - the int8 1x1 convolution against its definition (odd channel and pixel counts included),
//!   and the shipped embedder with it against float32 on a real face.
#![cfg(all(feature = "inference", feature = "decode"))]

mod common;

use faceproof::embed::Embedding;
use faceproof::image::RgbImage;
use faceproof::model::Precision;
use rten::ops::{conv, Padding};
use rten::{BufferPool, ModelOptions};
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

use common::int8::values;

struct Case {
    batch: usize,
    chans: usize,
    in_hw: [usize; 2],
    kernel: [usize; 2],
    stride: usize,
    dilation: usize,
    /// top, left, bottom, right
    pad: [usize; 4],
}

/// Direct definition of a depthwise convolution with zero padding, in f64.
fn naive(c: &Case, input: &[f32], weights: &[f32], bias: &[f32]) -> (Vec<f32>, [usize; 2]) {
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
                    let mut acc = bias[ch] as f64;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let y = (oy * c.stride + ky * c.dilation) as isize - pt as isize;
                            let x = (ox * c.stride + kx * c.dilation) as isize - pl as isize;
                            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                                continue;
                            }
                            let v = input[((n * c.chans + ch) * h + y as usize) * w + x as usize];
                            acc += v as f64 * weights[(ch * kh + ky) * kw + kx] as f64;
                        }
                    }
                    out[((n * c.chans + ch) * oh + oy) * ow + ox] = acc as f32;
                }
            }
        }
    }
    (out, [oh, ow])
}

fn check(c: Case) {
    let [h, w] = c.in_hw;
    let [kh, kw] = c.kernel;
    let input = values(c.batch * c.chans * h * w, (h * 31 + w) as u64);
    let weights = values(c.chans * kh * kw, 7 + kh as u64);
    let bias = values(c.chans, 3);
    let (expected, [oh, ow]) = naive(&c, &input, &weights, &bias);

    let pool = BufferPool::new();
    let x = Tensor::from_data(&[c.batch, c.chans, h, w], input);
    let k = Tensor::from_data(&[c.chans, 1, kh, kw], weights);
    let b = Tensor::from_data(&[c.chans], bias);
    let out = conv(
        &pool,
        x.view(),
        k.view(),
        Some(b.nd_view()),
        Padding::Fixed(c.pad.into()),
        c.chans,
        &[c.stride, c.stride],
        &[c.dilation, c.dilation],
    )
    .expect("conv");
    assert_eq!(out.shape(), &[c.batch, c.chans, oh, ow], "{:?} k{:?} s{} p{:?}", c.in_hw, c.kernel, c.stride, c.pad);
    let worst = out.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(
        worst < 1e-5,
        "{:?} k{:?} s{} d{} p{:?}: max |diff| {worst}",
        c.in_hw,
        c.kernel,
        c.stride,
        c.dilation,
        c.pad
    );
}

#[test]
fn fast_path_shapes_match_the_definition() {
    for k in [3, 5] {
        for stride in [1, 2] {
            for in_hw in [[7, 7], [14, 14], [28, 28], [13, 9], [1, 1], [2, 5]] {
                let p = k / 2;
                // symmetric ("same"), TFLite-style asymmetric (extra row/column at the end), none
                for pad in [[p, p, p, p], [0, 0, k - 1, k - 1], [p, p, p + 1, p + 1], [0, 0, 0, 0]] {
                    if in_hw[0] + pad[0] + pad[2] < k || in_hw[1] + pad[1] + pad[3] < k {
                        continue;
                    }
                    check(Case { batch: 2, chans: 5, in_hw, kernel: [k, k], stride, dilation: 1, pad });
                }
            }
        }
    }
}

#[test]
fn other_shapes_still_take_the_generic_kernel() {
    check(Case { batch: 1, chans: 4, in_hw: [7, 7], kernel: [7, 7], stride: 1, dilation: 1, pad: [0; 4] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 12], kernel: [3, 3], stride: 1, dilation: 2, pad: [2; 4] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 10], kernel: [3, 5], stride: 1, dilation: 1, pad: [1, 2, 1, 2] });
    check(Case { batch: 1, chans: 4, in_hw: [12, 10], kernel: [3, 3], stride: 3, dilation: 1, pad: [1; 4] });
}

/// A shipped model's bytes and an NHWC batch of crops of a real portrait (a different crop per
/// batch item, values in [-1, 1]).
fn model_and_face(file: &str, nhwc: [usize; 4]) -> (Vec<u8>, Vec<f32>) {
    let bytes = std::fs::read(format!("{}/models/web/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let img = RgbImage::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/portraits/obama.jpg")).unwrap();
    let [n, h, w, c] = nhwc;
    let data = (0..n * h * w * c)
        .map(|i| {
            let (b, y, x, ch) = (i / (h * w * c), i / (w * c) % h, i / c % w, i % c);
            img.get((x * 2 + b * 7) as i64, (y * 2) as i64)[ch] / 127.5 - 1.0
        })
        .collect();
    (bytes, data)
}

/// All outputs of `model` on `data`, concatenated.
fn run_all(model: &rten::Model, nhwc: [usize; 4], data: &[f32]) -> Vec<f32> {
    let input = Tensor::from_data(&nhwc, data.to_vec());
    let outputs = model.run(vec![(model.input_ids()[0], input.into())], model.output_ids(), None).unwrap();
    outputs.into_iter().flat_map(|v| v.into_tensor::<f32>().unwrap().to_vec()).collect()
}

/// Runs `file` on crops of a real portrait with and without rten's graph optimisations (which
/// include the ConvPRelu fusion) and returns the largest difference between their outputs.
fn optimised_vs_plain(file: &str, nhwc: [usize; 4]) -> f32 {
    let (bytes, data) = model_and_face(file, nhwc);
    let run = |optimise: bool| {
        let model = ModelOptions::with_all_ops().enable_optimization(optimise).load(bytes.clone()).unwrap();
        run_all(&model, nhwc, &data)
    };
    let (fused, plain) = (run(true), run(false));
    assert_eq!(fused.len(), plain.len());
    assert!(plain.iter().any(|v| *v != 0.0));
    fused.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max)
}

const SHIPPED: [(&str, [usize; 4]); 4] = [
    ("mobilefacenet_192.onnx", [2, 112, 112, 3]),
    ("facemesh_468.onnx", [1, 192, 192, 3]),
    ("blazeface_front_128.onnx", [1, 128, 128, 3]),
    ("blazeface_back_256.onnx", [1, 256, 256, 3]),
];

/// faceproof loads its models without rten's symbolic shape inference (`model::options()`, for
/// the browser's cold start): the same optimised graph, bit-identical outputs.
#[test]
fn load_options_without_shape_inference_change_no_output() {
    for (file, nhwc) in SHIPPED {
        let (bytes, data) = model_and_face(file, nhwc);
        let defaults = ModelOptions::with_all_ops().load(bytes.clone()).unwrap();
        let ours = faceproof::model::options(Precision::Float32).load(bytes).unwrap();
        let expected = run_all(&defaults, nhwc, &data);
        assert!(expected.iter().any(|v| *v != 0.0));
        assert_eq!(run_all(&ours, nhwc, &data), expected, "{file}");
    }
}

#[test]
fn optimised_models_compute_what_the_onnx_graph_says() {
    for (file, nhwc) in SHIPPED {
        let worst = optimised_vs_plain(file, nhwc);
        println!("{file}: optimised vs plain max |diff| {worst:.2e}");
        assert!(worst < 1e-3, "{file}: optimised vs plain graph differ by {worst}");
    }
}

#[test]
fn int8_pointwise_conv_matches_its_definition() {
    common::int8::check_against_definition();
}

/// The shipped embedder with int8 1x1 convolutions (how faceproof loads it) against float32,
/// on crops of a real face: the int8 path really runs (outputs differ) and keeps the embedding's
/// direction (cosine >= 0.995 on these unaligned crops; 0.9996-0.9998 on the aligned portraits;
/// lfw-dev accuracy in the README).
#[test]
fn shipped_embedder_in_int8_stays_close_to_float32() {
    let (file, nhwc) = SHIPPED[0];
    let (bytes, data) = model_and_face(file, nhwc);
    let run = |precision| run_all(&faceproof::model::options(precision).load(bytes.clone()).unwrap(), nhwc, &data);
    let (int8, float) = (run(Precision::Int8Pointwise), run(Precision::Float32));
    assert_ne!(int8, float);
    for (a, b) in int8.chunks(192).zip(float.chunks(192)) {
        let cosine = Embedding::normalized(a.to_vec()).cosine(&Embedding::normalized(b.to_vec()));
        println!("int8 vs float32 cosine {cosine:.5}");
        assert!(cosine >= 0.995, "cosine {cosine}");
    }
}

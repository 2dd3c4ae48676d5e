//! The patches to rten in third_party/rten (see its PATCHES.md):
//! - the depthwise convolution against its definition, on every shape class the fast path
//!   takes (3x3 and 5x5, stride 1 and 2, even/odd sizes, symmetric and asymmetric padding) and
//!   on shapes it must leave to rten's generic kernel (dilation, 7x7, non-square);
//! - each shipped model, optimised (Conv+PRelu fused) against unoptimised, on a real face;
//! - each shipped model loaded as faceproof loads it (`model::options()`: no shape inference)
//!   against rten's default options: bit-identical outputs; and with its operators unsplit
//!   (`rten::set_parallel_operators(false)`, the threads build) against split: the same;
//! - the int8 1x1 convolution against its definition (odd channel and pixel counts included),
//!   and the shipped embedder with it against float32 on a real face.
#![cfg(all(feature = "inference", feature = "decode"))]

mod common;

use faceproof::embed::Embedding;
use faceproof::image::RgbImage;
use faceproof::model::Precision;
use rten::ModelOptions;
use rten_tensor::prelude::*;
use rten_tensor::Tensor;

#[test]
fn fast_path_shapes_match_the_definition() {
    common::depthwise::check_fast_path_shapes();
}

#[test]
fn other_shapes_still_take_the_generic_kernel() {
    common::depthwise::check_generic_shapes();
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

/// With `rten::set_parallel_operators(false)` (faceproof's threads build) every operator runs on
/// its calling thread: the same outputs, bit for bit, as with its work split across the pool.
#[test]
fn unsplit_operators_compute_the_same_outputs() {
    for (file, nhwc) in SHIPPED {
        let (bytes, data) = model_and_face(file, nhwc);
        let model = faceproof::model::options(Precision::Int8Pointwise).load(bytes).unwrap();
        let split = run_all(&model, nhwc, &data);
        rten::set_parallel_operators(false);
        let unsplit = run_all(&model, nhwc, &data);
        rten::set_parallel_operators(true);
        assert!(split.iter().any(|v| *v != 0.0));
        assert_eq!(unsplit, split, "{file}");
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
/// lfw-dev accuracy in docs/accuracy.md).
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

//! The Rust pipeline equals `../shared/models/reference_pipeline.py` on the four portraits.
//!
//! Expected values: `tests/data/reference_embeddings.json`, made by the command stored in it.
//! The `.png` files hold PIL's decode of the `.jpg` files, so both pipelines see identical
//! pixels; the `.jpg` files go through our own JPEG decoder (zune-jpeg), whose output differs
//! from libjpeg-turbo's by up to 3 levels on 0.7 % of pixels. The embedder runs in float32, as
//! the reference does (the int8 1x1 convolutions the SDK runs: `tests/engine_patches.rs`).
#![cfg(not(target_arch = "wasm32"))]

use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, Precision, TemplateOptions};
use serde_json::Value;

fn expected() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/reference_embeddings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pipeline() -> FacePipeline {
    FacePipeline::from_dir_with(concat!(env!("CARGO_MANIFEST_DIR"), "/models"), Precision::Float32).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn portrait(name: &str) -> RgbImage {
    RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn embeddings_equal_the_python_reference_on_the_same_pixels() {
    let exp = expected();
    let p = pipeline();
    let mut embs = vec![];
    for name in ["obama.png", "obama2.png", "obama3.png", "biden.png"] {
        let e = &exp["images"][name];
        let t = p.template(&portrait(name), &TemplateOptions::reference()).unwrap();
        let want = floats(&e["embedding"]);
        assert_eq!(t.embedding.0.len(), want.len());
        let max_diff = t.embedding.0.iter().zip(&want).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
        println!("{name}: max |diff| = {max_diff:.2e}");
        assert!(max_diff <= 1e-3, "{name}: max abs diff {max_diff}");
        let kps: Vec<f64> = e["keypoints"].as_array().unwrap().iter().flat_map(floats).collect();
        let got: Vec<f64> = t.detection.keypoints.iter().flat_map(|k| [k[0] as f64, k[1] as f64]).collect();
        let kp_diff = got.iter().zip(&kps).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(kp_diff < 0.01, "{name}: keypoints differ by {kp_diff} px");
        assert!((t.detection.score as f64 - e["score"].as_f64().unwrap()).abs() < 1e-4);
        embs.push(t.embedding);
    }
    // the reference's similarity table (SOURCES.md): same person high, different person low
    assert!((embs[0].cosine(&embs[1]) - 0.7993).abs() < 2e-3);
    assert!((embs[0].cosine(&embs[3]) - -0.0723).abs() < 2e-3);
}

#[test]
fn jpeg_decoding_stays_close_to_the_reference() {
    let exp = expected();
    let p = pipeline();
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let want = floats(&exp["images"][name]["embedding"]);
        let t = p.template(&portrait(name), &TemplateOptions::reference()).unwrap();
        let cos: f64 = t.embedding.0.iter().zip(&want).map(|(a, b)| *a as f64 * b).sum();
        let max_diff = t.embedding.0.iter().zip(&want).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
        println!("{name}: cosine to reference {cos:.6}, max |diff| {max_diff:.2e}");
        assert!(cos > 0.999, "{name}: cosine {cos}");
    }
}

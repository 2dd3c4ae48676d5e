//! The native pipeline's output on the portraits is recorded in
//! `tests/data/native_embeddings.json` (expected-output test data, as ocrs does); the browser
//! tests compare the wasm build against the same file.
//!
//! After an intended change of the pipeline, re-record with
//! `FACEPROOF_BLESS=1 cargo test --release --test native_expected` and review the diff.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, TemplateOptions};
use serde_json::{json, Value};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/native_embeddings.json");

#[test]
fn native_output_equals_the_recording() {
    let float = FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap();
    let shipped = FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models/web")).unwrap();
    let mut settings: Vec<_> = common::recorded_settings().into_iter().map(|(s, o)| (s, o, &float)).collect();
    settings.push((common::SHIPPED_SETTING, TemplateOptions::default(), &shipped));
    let mut now = serde_json::Map::new();
    for &(setting, ref opts, p) in &settings {
        let mut per_image = serde_json::Map::new();
        for name in common::PORTRAITS {
            let img = RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let t = p.template(&img, opts).unwrap();
            per_image.insert(name.into(), json!({"box": t.detection.bbox, "embedding": t.embedding.0}));
        }
        now.insert(setting.into(), per_image.into());
    }
    let now = Value::Object(now);
    if std::env::var_os("FACEPROOF_BLESS").is_some() {
        std::fs::write(FILE, serde_json::to_string_pretty(&now).unwrap()).unwrap();
        return;
    }
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(FILE).unwrap()).unwrap();
    for &(setting, _, _) in &settings {
        for name in common::PORTRAITS {
            let a = now[setting][name]["embedding"].as_array().unwrap();
            let b = recorded[setting][name]["embedding"].as_array().unwrap();
            assert_eq!(a.len(), 192);
            let d = a.iter().zip(b).map(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).abs()).fold(0.0, f64::max);
            assert!(d <= 1e-5, "{setting}/{name}: max diff {d} from the recording");
        }
    }
}

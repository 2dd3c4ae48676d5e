//! The accuracy gate: `faceproof eval` on `../shared/data/lfw-dev` (3,000 LFW pairs, folds 1-5)
//! must reach the required figures. Skips, saying so, when the dataset is absent (it is
//! research-use data and never committed).
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;
use std::process::Command;

const LFW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/lfw-dev");

fn run_eval(extra: &[&str]) -> Option<serde_json::Value> {
    if !Path::new(LFW).join("pairs.tsv").exists() {
        eprintln!("SKIPPED: {LFW} is absent");
        return None;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_faceproof"))
        .args(["eval", "--json", "--pairs", &format!("{LFW}/pairs.tsv"), "--images", &format!("{LFW}/images")])
        .args(extra)
        .output()
        .expect("run faceproof eval");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    eprintln!("faceproof eval {extra:?}: {j}");
    Some(j)
}

fn check_required(j: &serde_json::Value, what: &str) {
    for key in
        ["pairs", "accuracy", "accuracy_std", "eer", "tar_at_far_1e-2", "tar_at_far_1e-3", "no_face", "threshold"]
    {
        assert!(j.get(key).is_some(), "{what}: missing key {key}");
    }
    assert_eq!(j["pairs"], 3000);
    let acc = j["accuracy"].as_f64().unwrap();
    let tar = j["tar_at_far_1e-3"].as_f64().unwrap();
    assert!(acc >= 0.990, "{what}: accuracy {acc} < 99.0 %");
    assert!(tar >= 0.970, "{what}: TAR@FAR 0.1 % {tar} < 97 %");
}

/// The float32 pipeline meets the required figures, and what the SDK ships (the web weights, the
/// embedder's 1x1 convolutions in int8) stays within 0.1 point of it on accuracy and TAR.
#[test]
fn lfw_dev_accuracy_meets_the_required_figures() {
    let Some(float) = run_eval(&["--precision", "float32"]) else { return };
    check_required(&float, "float32 models");
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/models/web");
    let Some(shipped) = run_eval(&["--models", web, "--precision", "int8"]) else { return };
    check_required(&shipped, "shipped weights");
    for key in ["accuracy", "tar_at_far_1e-2", "tar_at_far_1e-3"] {
        let (a, b) = (float[key].as_f64().unwrap(), shipped[key].as_f64().unwrap());
        assert!((a - b).abs() <= 0.001 + 1e-9, "{key}: shipped {b} vs float32 {a}");
    }
}

//! Browser tests (`wasm-pack test --headless --chrome --release`): the wasm build gives the
//! native numbers, and bad input becomes a JS error with a `code`, never a panic.
#![cfg(target_arch = "wasm32")]

mod common;

use faceproof::image::RgbImage;
use faceproof::wasm_api::FaceEngine;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODELS: [(&str, &[u8]); 4] = [
    ("blazeface_front_128.onnx", include_bytes!("../models/blazeface_front_128.onnx")),
    ("blazeface_back_256.onnx", include_bytes!("../models/blazeface_back_256.onnx")),
    ("facemesh_468.onnx", include_bytes!("../models/facemesh_468.onnx")),
    ("mobilefacenet_192.onnx", include_bytes!("../models/mobilefacenet_192.onnx")),
];

fn portrait(name: &str) -> &'static [u8] {
    match name {
        "obama.jpg" => include_bytes!("data/portraits/obama.jpg"),
        "obama2.jpg" => include_bytes!("data/portraits/obama2.jpg"),
        "obama3.jpg" => include_bytes!("data/portraits/obama3.jpg"),
        "biden.jpg" => include_bytes!("data/portraits/biden.jpg"),
        _ => unreachable!(),
    }
}

/// The shipped models (the embedder's 1x1 convolutions run in int8).
const SHIPPED_MODELS: [(&str, &[u8]); 4] = [
    ("blazeface_front_128.onnx", include_bytes!("../models/web/blazeface_front_128.onnx")),
    ("blazeface_back_256.onnx", include_bytes!("../models/web/blazeface_back_256.onnx")),
    ("facemesh_468.onnx", include_bytes!("../models/web/facemesh_468.onnx")),
    ("mobilefacenet_192.onnx", include_bytes!("../models/web/mobilefacenet_192.onnx")),
];

/// The passive anti-spoofing models, as `FaceProof.create()` loads them.
const ANTISPOOF_MODELS: [(&str, &[u8]); 2] = [
    ("antispoof_2.7_80.onnx", include_bytes!("../models/web/antispoof_2.7_80.onnx")),
    ("antispoof_4.0_80.onnx", include_bytes!("../models/web/antispoof_4.0_80.onnx")),
];

fn engine() -> FaceEngine {
    engine_with(&MODELS)
}

fn engine_with(models: &[(&str, &[u8])]) -> FaceEngine {
    let mut e = FaceEngine::new();
    for (name, bytes) in models {
        e.load_model((*name).into(), u8s(bytes)).unwrap();
    }
    e
}

/// An image's RGBA pixels as the Uint8Array JavaScript passes.
fn rgba(img: &RgbImage) -> JsValue {
    u8s(&img.to_rgba8())
}

fn u8s(bytes: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(bytes).into()
}

fn n(x: u32) -> JsValue {
    JsValue::from(x)
}

fn code(err: JsValue) -> String {
    js_sys::Reflect::get(&err, &"code".into()).unwrap().as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn embeddings_equal_the_native_ones() {
    let recorded: serde_json::Value = serde_json::from_str(include_str!("data/native_embeddings.json")).unwrap();
    let (float, shipped) = (engine(), engine_with(&SHIPPED_MODELS));
    let settings = common::recorded_settings().map(|(s, _)| (s, &float));
    for (setting, e) in settings.into_iter().chain([(common::SHIPPED_SETTING, &shipped)]) {
        let opts = js_sys::Object::new();
        if setting == "reference" {
            js_sys::Reflect::set(&opts, &"reference".into(), &true.into()).unwrap();
        }
        for name in common::PORTRAITS {
            let img = RgbImage::decode(portrait(name)).unwrap();
            let emb = e.embed(rgba(&img), n(img.width), n(img.height), opts.clone().into()).unwrap();
            let want = recorded[setting][name]["embedding"].as_array().unwrap();
            let d = emb.iter().zip(want).map(|(a, b)| (*a as f64 - b.as_f64().unwrap()).abs()).fold(0.0, f64::max);
            let cosine: f64 = emb.iter().zip(want).map(|(a, b)| *a as f64 * b.as_f64().unwrap()).sum();
            web_sys::console::log_1(
                &format!("{setting}/{name}: max |wasm - native| = {d:.2e}, cosine {cosine:.6}").into(),
            );
            if setting == common::SHIPPED_SETTING {
                // The int8 kernels agree bit for bit (the test below); their inputs come from
                // float layers that differ by ~1e-6 between builds, which moves the odd value
                // across a quantization step.
                assert!(d <= 2e-2 && cosine >= 0.9995, "{setting}/{name}: {d}, cosine {cosine}");
            } else {
                assert!(d <= 1e-4, "{setting}/{name}: {d}");
            }
        }
    }
}

/// The int8 1x1 convolution of this build (plain or relaxed SIMD) equals its definition bit
/// for bit, as the native one does (`tests/engine_patches.rs`).
#[wasm_bindgen_test]
fn int8_convolution_equals_its_definition() {
    common::int8::check_against_definition();
}

/// The float convolutions that skip rten's GEMM (1x1 ones read in place, matrix-vector ones
/// to one output pixel, the first layers' from gathered strips; this build's wasm SIMD or
/// relaxed SIMD) equal that GEMM bit for bit.
#[wasm_bindgen_test]
fn direct_float_convolutions_equal_the_gemm() {
    common::f32_direct::check_pointwise_against_gemm();
    common::f32_direct::check_one_pixel_against_gemm();
    common::f32_direct::check_im2col_against_gemm();
}

/// 2x2 max pooling in this build's wasm SIMD equals rten's generic pooling bit for bit.
#[wasm_bindgen_test]
fn max_pool_2x2_equals_the_generic_pooling() {
    common::f32_direct::check_max_pool_against_generic();
}

/// The depthwise convolution of this build (wasm SIMD) equals its definition bit for bit, as
/// the native one does (`tests/engine_patches.rs`).
#[wasm_bindgen_test]
fn depthwise_convolution_equals_its_definition() {
    common::depthwise::check_fast_path_shapes();
    common::depthwise::check_generic_shapes();
}

/// Frames are wiped 16 bytes per volatile store in wasm SIMD builds: every byte of an unaligned
/// range, and nothing around it.
#[wasm_bindgen_test]
fn frames_are_wiped_to_the_last_byte() {
    for (start, end) in [(3, 61), (0, 64), (16, 48), (5, 9), (1, 4097)] {
        let mut v = vec![0xCD_u8; 4100];
        faceproof::image::wipe_slice(&mut v[start..end]);
        assert!(v[..start].iter().chain(&v[end..]).all(|&b| b == 0xCD), "{start}..{end}");
        assert!(v[start..end].iter().all(|&b| b == 0), "{start}..{end}");
    }
}

/// Frames are sampled in place with wasm SIMD: the same values as the scalar code's.
#[wasm_bindgen_test]
fn warp_of_a_frame_in_place_equals_the_float_image_warp() {
    common::check_warp_in_place();
}

#[wasm_bindgen_test]
fn bad_input_is_a_js_error_with_a_code() {
    let e = engine();
    // wrong buffer length
    assert_eq!(code(e.embed(u8s(&[0u8; 10]), n(4), n(4), JsValue::UNDEFINED).unwrap_err()), "BAD_IMAGE_SIZE");
    assert_eq!(code(e.detect(u8s(&[0u8; 10]), n(0), n(0), JsValue::UNDEFINED).unwrap_err()), "BAD_IMAGE_SIZE");
    // a blank frame has no face
    let blank = u8s(&vec![128u8; 320 * 240 * 4]);
    assert_eq!(code(e.embed(blank.clone(), n(320), n(240), JsValue::UNDEFINED).unwrap_err()), "NO_FACE");
    // unknown option values
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"detector".into(), &"sideways".into()).unwrap();
    assert_eq!(code(e.embed(blank.clone(), n(320), n(240), opts.into()).unwrap_err()), "INVALID_ARGUMENT");
    // corrupted and missing models
    let mut fresh = FaceEngine::new();
    assert_eq!(code(fresh.load_model("mobilefacenet_192.onnx".into(), u8s(&[1, 2, 3])).unwrap_err()), "MODEL_LOAD");
    let truncated = u8s(&MODELS[0].1[..1000]);
    assert_eq!(code(fresh.load_model("blazeface_front_128.onnx".into(), truncated).unwrap_err()), "MODEL_LOAD");
    assert_eq!(code(fresh.embed(blank.clone(), n(320), n(240), JsValue::UNDEFINED).unwrap_err()), "MODEL_NOT_LOADED");
    // the engine still works after all of that
    let img = RgbImage::decode(portrait("obama.jpg")).unwrap();
    assert_eq!(e.embed(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap().len(), 192);
}

#[wasm_bindgen_test]
fn two_faces_are_reported_and_refused_for_a_template() {
    // obama and biden side by side
    let a = RgbImage::decode(portrait("obama2.jpg")).unwrap();
    let b = RgbImage::decode(portrait("biden.jpg")).unwrap();
    let both = common::side_by_side(&a, &b);
    let e = engine();
    let faces = e.detect(rgba(&both), n(both.width), n(both.height), JsValue::UNDEFINED).unwrap();
    assert_eq!(js_sys::Array::from(&faces).length(), 2);
    assert_eq!(
        code(e.embed(rgba(&both), n(both.width), n(both.height), JsValue::UNDEFINED).unwrap_err()),
        "MULTIPLE_FACES"
    );
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

fn bytes(v: &JsValue, key: &str) -> Vec<u8> {
    js_sys::Uint8Array::new(&get(v, key)).to_vec()
}

#[wasm_bindgen_test]
fn enroll_prove_verify_in_the_browser() {
    use faceproof::wasm_api::{new_device_secret, RelyingParty};
    use faceproof::wasm_oprf::{evaluate_batch_js, new_oprf_key};
    let mut e = engine();
    let capture = |e: &mut FaceEngine, name: &str| {
        let img = RgbImage::decode(portrait(name)).unwrap();
        let c = e.capture(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap();
        assert_eq!(get(&c, "captured").as_bool(), Some(true), "{name}");
    };
    let secret = u8s(&new_device_secret().unwrap());
    // the relying party's OPRF key for this user
    let oprf_key = u8s(&new_oprf_key().unwrap());
    capture(&mut e, "obama.jpg");
    let blinded = e.enroll_start(secret.clone(), "bank.example".into(), n(1)).unwrap();
    assert!(!blinded.is_empty() && blinded.len() % 32 == 0);
    let evaluated = evaluate_batch_js(oprf_key.clone(), u8s(&blinded), JsValue::UNDEFINED).unwrap();
    let enrolled = e.enroll_finish(u8s(&evaluated)).unwrap();
    let (reference, public_key) = (bytes(&enrolled, "reference"), bytes(&enrolled, "publicKey"));
    assert_eq!(public_key.len(), 32);
    let (reference_js, public_key_js) = (u8s(&reference), u8s(&public_key));

    let mut rp = RelyingParty::new("bank.example".into(), JsValue::UNDEFINED).unwrap();
    let now = JsValue::from(1.8e12);
    let later = |ms: f64| JsValue::from(1.8e12 + ms);
    // One login: the relying party evaluates the blinded lock inputs once for the challenge.
    let login =
        |e: &mut FaceEngine, rp: &mut RelyingParty, secret: &JsValue, reference: &JsValue, challenge: &JsValue| {
            let blinded =
                e.prove_start(secret.clone(), reference.clone(), challenge.clone(), now.clone(), false.into())?;
            let evaluated = rp.evaluate(get(challenge, "nonce"), oprf_key.clone(), u8s(&blinded), now.clone())?;
            e.prove_finish(u8s(&evaluated))
        };
    // the same person, another photo: accepted once
    let challenge = rp.issue_challenge(now.clone()).unwrap();
    capture(&mut e, "obama2.jpg");
    let proof = u8s(&login(&mut e, &mut rp, &secret, &reference_js, &challenge).unwrap());
    let ok =
        rp.verify(proof.clone(), public_key_js.clone(), reference_js.clone(), later(1000.0), false.into()).unwrap();
    assert_eq!(get(&ok, "ok").as_bool(), Some(true));
    assert_eq!(
        code(rp.verify(proof, public_key_js.clone(), reference_js.clone(), later(2000.0), false.into()).unwrap_err()),
        "NONCE_REUSED_OR_UNKNOWN"
    );
    // without liveness the proof does not pass a verifier that requires it, nor one that
    // leaves the policy out
    let challenge = rp.issue_challenge(now.clone()).unwrap();
    capture(&mut e, "obama2.jpg");
    let proof = u8s(&login(&mut e, &mut rp, &secret, &reference_js, &challenge).unwrap());
    assert_eq!(
        code(
            rp.verify(proof, public_key_js.clone(), reference_js.clone(), now.clone(), JsValue::UNDEFINED).unwrap_err()
        ),
        "LIVENESS_FAILED"
    );
    // another person cannot prove
    let challenge = rp.issue_challenge(now.clone()).unwrap();
    capture(&mut e, "biden.jpg");
    assert_eq!(code(login(&mut e, &mut rp, &secret, &reference_js, &challenge).unwrap_err()), "FACE_MISMATCH");
    // the relying party evaluates once per challenge: a second batch for it is refused
    e.clear_captures();
    capture(&mut e, "obama2.jpg");
    assert_eq!(
        code(login(&mut e, &mut rp, &secret, &reference_js, &challenge).unwrap_err()),
        "NONCE_REUSED_OR_UNKNOWN"
    );
    // a wrong device secret cannot open the reference; a corrupted reference is refused
    let challenge = rp.issue_challenge(now.clone()).unwrap();
    let other = u8s(&new_device_secret().unwrap());
    assert_eq!(code(login(&mut e, &mut rp, &other, &reference_js, &challenge).unwrap_err()), "REFERENCE_DECRYPT");
    let cut = u8s(&reference[..reference.len() - 1]);
    assert_eq!(code(login(&mut e, &mut rp, &secret, &cut, &challenge).unwrap_err()), "MALFORMED_REFERENCE");
    // nothing captured: a clear error, not a panic
    e.clear_captures();
    assert_eq!(code(e.enroll_start(secret, "bank.example".into(), n(1)).unwrap_err()), "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
fn analyze_reports_quality_reasons() {
    let mut e = engine();
    let blank = u8s(&vec![10u8; 320 * 240 * 4]);
    let a = e.analyze(blank.clone(), n(320), n(240), JsValue::UNDEFINED).unwrap();
    let q = get(&a, "quality");
    assert_eq!(get(&q, "usable").as_bool(), Some(false));
    let reasons: Vec<String> = js_sys::Array::from(&get(&q, "reasons")).iter().filter_map(|r| r.as_string()).collect();
    assert_eq!(reasons, vec!["NO_FACE"]);
    let img = RgbImage::decode(portrait("obama.jpg")).unwrap();
    let a = e.analyze(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&get(&a, "quality"), "usable").as_bool(), Some(true));
    // tracked preview frames: the same face and verdict, from the second frame on without the detector
    let track = js_sys::Object::new();
    js_sys::Reflect::set(&track, &"track".into(), &true.into()).unwrap();
    let x0 = |a: &JsValue| {
        js_sys::Array::from(&get(&js_sys::Array::from(&get(a, "faces")).get(0), "box")).get(0).as_f64().unwrap()
    };
    for _ in 0..3 {
        let t = e.analyze(rgba(&img), n(img.width), n(img.height), track.clone().into()).unwrap();
        assert_eq!(get(&get(&t, "quality"), "usable").as_bool(), Some(true));
        assert!((x0(&t) - x0(&a)).abs() < 4.0, "{} vs {}", x0(&t), x0(&a));
    }
    // an unknown option is refused with a code
    let bad = js_sys::Object::new();
    js_sys::Reflect::set(&bad, &"track".into(), &"yes".into()).unwrap();
    assert_eq!(code(e.analyze(blank.clone(), n(320), n(240), bad.into()).unwrap_err()), "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
fn analyze_and_capture_carry_the_live_score() {
    let mut plain = engine();
    let mut e = engine_with(&[&MODELS[..], &ANTISPOOF_MODELS[..]].concat());
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let img = RgbImage::decode(portrait(name)).unwrap();
        let q = get(&e.analyze(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap(), "quality");
        let s = get(&q, "liveScore");
        let (score, threshold) = (get(&s, "score").as_f64().unwrap(), get(&s, "threshold").as_f64().unwrap());
        assert!(score > 0.95 && (threshold - 0.003).abs() < 1e-6, "{name}: {score} {threshold}");
        assert_eq!(get(&q, "usable").as_bool(), Some(true), "{name}");
        let c = e.capture(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap();
        assert_eq!(get(&c, "captured").as_bool(), Some(true), "{name}");
        let captured = get(&get(&get(&c, "quality"), "liveScore"), "score").as_f64().unwrap();
        assert!((captured - score).abs() < 1e-3, "{name}: {captured} vs {score}");
        // without the models: null, never a score
        let q0 = get(&plain.analyze(rgba(&img), n(img.width), n(img.height), JsValue::UNDEFINED).unwrap(), "quality");
        assert!(get(&q0, "liveScore").is_null(), "{name}");
    }
    // a liveness run reports the passive check's outcome from the start
    let challenge = js_sys::JSON::parse(&format!(
        r#"{{"rpId": "bank.example", "nonce": "{}", "expiresAt": 1800000000000}}"#,
        "ab".repeat(32)
    ))
    .unwrap();
    let p = e.start_liveness(challenge).unwrap();
    assert_eq!(get(&p, "passive").as_string().as_deref(), Some("notRun"));
}

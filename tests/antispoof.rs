//! Passive anti-spoofing on the real portraits: bona fide faces score live, the crops and the
//! networks match the Python reference (onnxruntime on OpenCV's crops, itself checked against
//! the original PyTorch network by `tools/antispoof_to_onnx.py --check`), and bad boxes are
//! coded errors.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use faceproof::align::Jitter;
use faceproof::antispoof::{self, AntiSpoof, DEFAULT_THRESHOLD};
use faceproof::detect::{Detection, Detector, DetectorKind, MIN_SCORE};
use faceproof::image::{RgbImage, RgbaFrame};
use faceproof::pipeline::{files, FacePipeline, Precision, TemplateOptions};
use faceproof::quality::{Limits, Quality, Reason};
use std::sync::OnceLock;

const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
const WEB_MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/web");

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        Detector::load(DetectorKind::Front128, std::fs::read(format!("{MODELS}/{}", files::DETECTOR_FRONT)).unwrap())
            .unwrap()
    })
}

fn float_models() -> &'static AntiSpoof {
    static M: OnceLock<AntiSpoof> = OnceLock::new();
    M.get_or_init(|| AntiSpoof::from_dir(MODELS, Precision::Float32).unwrap())
}

fn portrait(name: &str) -> RgbImage {
    RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn largest_face(img: &RgbImage) -> Detection {
    let faces = detector().detect(img, MIN_SCORE).unwrap();
    faces.into_iter().max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height()))).unwrap()
}

/// Each model's attack probability (classes 0 and 2) from `tools/antispoof_eval.py score`
/// (onnxruntime 1.32, OpenCV 4.14 crops of the box this detector gives, mapped by BOX_MAP).
const REFERENCE_ATTACK_PROBABILITY: [(&str, [f32; 2]); 4] = [
    ("biden.jpg", [2.20e-3, 9.87e-4]),
    ("obama.jpg", [9.70e-6, 1.03e-3]),
    ("obama2.jpg", [8.75e-3, 2.38e-2]),
    ("obama3.jpg", [1.08e-3, 6.41e-7]),
];

fn attack_probability(p: &[f32; 3]) -> f32 {
    p[0] + p[2]
}

#[test]
fn portraits_are_bona_fide_and_match_the_python_reference() {
    for (name, reference) in REFERENCE_ATTACK_PROBABILITY {
        let img = portrait(name);
        let s = float_models().score(&img, &largest_face(&img)).unwrap();
        println!("{name}: {s:?}");
        assert!(s.is_live(DEFAULT_THRESHOLD) && s.live > 0.95, "{name}: {s:?}");
        // The live probability saturates near 1: compare the attack probabilities on a log scale.
        // The decoders (image vs libjpeg) and OpenCV's 8-bit resize differ by a pixel level or so.
        for (m, (p, r)) in s.probabilities.iter().zip(reference).enumerate() {
            let d = (attack_probability(p) / r).ln();
            assert!(d.abs() < 0.2, "{name} model {m}: attack probability {} vs reference {r}", attack_probability(p));
        }
    }
}

#[test]
fn shipped_int8_weights_score_as_the_float_models() {
    let web = AntiSpoof::from_dir(WEB_MODELS, Precision::Float32).unwrap();
    for name in common::PORTRAITS {
        let img = portrait(name);
        let face = largest_face(&img);
        let (f, w) = (float_models().score(&img, &face).unwrap(), web.score(&img, &face).unwrap());
        println!("{name}: float {:.5} int8 weights {:.5}", f.live, w.live);
        assert!(w.is_live(DEFAULT_THRESHOLD) && w.live > 0.95, "{name}: {w:?}");
        for (pf, pw) in f.probabilities.iter().zip(&w.probabilities) {
            let d = (attack_probability(pw) / attack_probability(pf)).ln();
            assert!(d.abs() < 0.5, "{name}: {f:?} vs {w:?}");
        }
    }
}

#[test]
fn a_camera_frame_read_in_place_gives_the_same_crops_and_score() {
    let img = portrait("obama2.jpg");
    let face = largest_face(&img);
    let rgba = img.to_rgba8();
    let frame = RgbaFrame::new(&rgba, img.width, img.height).unwrap();
    let (a, b) = (antispoof::crops(&img, &face).unwrap(), antispoof::crops(&frame, &face).unwrap());
    for (x, y) in a.iter().zip(&b) {
        let diff = x.data.iter().zip(&y.data).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
        assert!(diff == 0.0, "crops differ by up to {diff}");
    }
    assert_eq!(float_models().score(&img, &face).unwrap(), float_models().score(&frame, &face).unwrap());
}

#[test]
fn faces_at_the_border_and_bad_boxes() {
    let img = portrait("obama.jpg");
    let mut face = largest_face(&img);
    // a box hanging over the top-left corner: the crops are shifted inside, still scored
    let (w, h) = (face.width(), face.height());
    face.bbox = [-w / 2.0, -h / 2.0, w / 2.0, h / 2.0];
    let s = float_models().score(&img, &face).unwrap();
    assert!((0.0..=1.0).contains(&s.live));
    // empty, inverted and non-finite boxes are refused with a code, not a panic
    for bbox in [[10.0, 10.0, 10.0, 50.0], [50.0, 10.0, 10.0, 50.0], [f32::NAN, 0.0, 10.0, 10.0]] {
        face.bbox = bbox;
        let e = float_models().score(&img, &face).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT", "{bbox:?}: {e}");
    }
    // a box entirely outside the image
    face.bbox = [5000.0, 5000.0, 5100.0, 5100.0];
    let e = float_models().score(&img, &face).unwrap_err();
    assert_eq!(e.code(), "INVALID_ARGUMENT");
}

// The check in the product: `FacePipeline` with the two shipped anti-spoofing models loaded by
// file name, as the browser loads them.

fn product() -> &'static FacePipeline {
    static P: OnceLock<FacePipeline> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = FacePipeline::from_dir(MODELS).unwrap();
        for name in [files::ANTISPOOF_2_7, files::ANTISPOOF_4_0] {
            p.load_model(name, std::fs::read(format!("{WEB_MODELS}/{name}")).unwrap()).unwrap();
        }
        p
    })
}

fn quality(p: &FacePipeline, img: &RgbImage) -> Quality {
    p.analyze(img, DetectorKind::Front128, &Limits::DEFAULT).unwrap().quality
}

#[test]
fn analyze_and_capture_report_the_live_score_and_pass_the_portraits() {
    let plain = FacePipeline::from_dir(MODELS).unwrap();
    for name in common::PORTRAITS {
        let img = portrait(name);
        let q = quality(product(), &img);
        let s = q.live_score.unwrap_or_else(|| panic!("{name}: the check did not run"));
        println!("{name}: {s:?} {:?}", q.reasons);
        assert_eq!(s.threshold, DEFAULT_THRESHOLD);
        assert!(s.is_live() && s.score > 0.95, "{name}: {s:?}");
        assert!(q.usable && !q.reasons.contains(&Reason::PresentationAttack), "{name}: {:?}", q.reasons);
        // what `capture` runs: the template and its views, then the frame's quality
        let (t, _) = product().views(&img, &TemplateOptions::default(), &Jitter::ENROLL).unwrap();
        let (c, _) = product().assess(&img, t.detection.clone(), t.faces_seen, &Limits::DEFAULT).unwrap();
        assert_eq!(c.live_score, q.live_score, "{name}");
        // without the models: the same verdict otherwise, and no score rather than a pass
        let q0 = quality(&plain, &img);
        assert_eq!(q0.live_score, None, "{name}");
        assert_eq!((q0.usable, &q0.reasons), (q.usable, &q.reasons), "{name}");
        // the same face reframed into a 640x480 camera frame (the liveness tests' frames)
        let framed = quality(product(), &common::camera_frame(product(), &img, 70.0));
        println!("{name} in a camera frame: {:?}", framed.live_score);
        assert!(framed.live_score.is_some_and(|s| s.is_live()), "{name}: {:?}", framed.reasons);
    }
    // one network alone does not run the check
    let mut half = FacePipeline::from_dir(MODELS).unwrap();
    let name = files::ANTISPOOF_4_0;
    half.load_model(name, std::fs::read(format!("{WEB_MODELS}/{name}")).unwrap()).unwrap();
    assert_eq!(quality(&half, &portrait("obama.jpg")).live_score, None);
    // no face: nothing to check
    let q = quality(product(), &RgbImage::new(320, 240));
    assert_eq!((q.live_score, q.reasons), (None, vec![Reason::NoFace]));
}

/// nuaa-dev (research use only, not in the repository; the test does nothing without it):
/// live webcam frames and printed photos of the same 9 people held up to the webcam.
const NUAA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/nuaa-dev");

/// `(label, file)` of every `step`-th frame of nuaa-dev, or `None` without the data.
pub fn nuaa_frames(step: usize) -> Option<Vec<(String, String)>> {
    let labels = std::fs::read_to_string(format!("{NUAA}/labels.tsv")).ok()?;
    let rows = labels.lines().skip(1).filter_map(|l| l.split_once('\t'));
    Some(rows.step_by(step).map(|(l, f)| (l.to_string(), format!("{NUAA}/images/{f}"))).collect())
}

#[test]
fn printed_photos_of_nuaa_are_presentation_attacks_and_its_live_frames_are_not() {
    let Some(frames) = nuaa_frames(4) else {
        println!("skipped: {NUAA} is absent");
        return;
    };
    let (mut prints, mut caught, mut live, mut rejected) = (0, 0, 0, 0);
    for (label, file) in &frames {
        let img = RgbImage::open(file).unwrap();
        let q = quality(product(), &img);
        let Some(s) = q.live_score else { continue }; // no face found
        let attack = q.reasons.contains(&Reason::PresentationAttack);
        assert_eq!(attack, !s.is_live(), "{file}");
        assert!(!(attack && q.usable), "{file}: an attack frame is never usable");
        if label == "live" {
            live += 1;
            rejected += attack as usize;
        } else {
            prints += 1;
            caught += attack as usize;
        }
    }
    println!(
        "nuaa-dev, every 4th frame: {caught}/{prints} printed photos caught, {rejected}/{live} live frames rejected"
    );
    assert!(prints > 100 && live > 100, "{prints} {live}");
    // all frames at 0.003: APCER 0.86 %, BPCER 0 (docs/anti-spoofing.md)
    assert!(caught as f64 >= 0.97 * prints as f64, "{caught}/{prints}");
    assert_eq!(rejected, 0);
}

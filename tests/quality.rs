//! Quality reasons on synthetic degradations of the real portraits: each fires when it should
//! and not on the originals.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::degrade;
use faceproof::detect::DetectorKind;
use faceproof::image::RgbImage;
use faceproof::pipeline::FacePipeline;
use faceproof::quality::{Limits, Quality, Reason};
use std::sync::OnceLock;

fn pipeline() -> &'static FacePipeline {
    static P: OnceLock<FacePipeline> = OnceLock::new();
    P.get_or_init(|| FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap())
}

fn portrait(name: &str) -> RgbImage {
    RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn quality(img: &RgbImage) -> Quality {
    let q = pipeline().analyze(img, DetectorKind::Front128, &Limits::DEFAULT).unwrap().quality;
    println!("{:?} {:?}", q.reasons, q.measures);
    q
}

#[test]
fn originals_are_usable() {
    for name in common::PORTRAITS {
        let q = quality(&portrait(name));
        assert!(q.usable, "{name}: {:?} {:?}", q.reasons, q.measures);
    }
}

#[test]
fn each_degradation_gives_its_reason() {
    let img = portrait("obama.jpg");
    let cases: Vec<(&str, RgbImage, Reason)> = vec![
        ("darkened", degrade::levels(&img, 0.25, 0.0), Reason::TooDark),
        ("brightened", degrade::levels(&img, 0.4, 175.0), Reason::TooBright),
        ("low contrast", degrade::levels(&img, 0.15, 100.0), Reason::LowContrast),
        ("blurred", degrade::blur(&img, 6), Reason::Blurred),
        ("downscaled", degrade::scale(&img, 0.2), Reason::FaceTooSmall),
        ("cropped through the face", degrade::crop(&img, 0, 0, img.width, 330), Reason::FaceCutOff),
        ("rotated 35 degrees", degrade::rotate(&img, 35.0), Reason::HeadTilted),
        ("two faces", common::side_by_side(&img, &portrait("biden.jpg")), Reason::MultipleFaces),
        ("blank", RgbImage::from_rgb(&vec![128; 640 * 480 * 3], 640, 480).unwrap(), Reason::NoFace),
    ];
    for (what, degraded, reason) in cases {
        let q = quality(&degraded);
        assert!(q.reasons.contains(&reason), "{what}: expected {reason:?}, got {:?} {:?}", q.reasons, q.measures);
        assert!(!q.usable, "{what}");
    }
}

#[test]
fn a_degraded_face_has_a_shorter_embedding() {
    let p = pipeline();
    let o = faceproof::pipeline::TemplateOptions::default();
    let img = portrait("obama.jpg");
    let sharp = p.template(&img, &o).unwrap().norm;
    let blurred = p.template(&degrade::blur(&img, 10), &o).unwrap().norm;
    let dark = p.template(&degrade::levels(&img, 0.12, 0.0), &o).unwrap().norm;
    println!("norm sharp {sharp}, blurred {blurred}, dark {dark}");
    assert!(sharp > Limits::DEFAULT.min_embedding_norm, "{sharp}");
    assert!(blurred < Limits::DEFAULT.min_embedding_norm && dark < sharp, "{blurred} {dark}");
}

#[test]
fn turned_heads_are_measured_with_the_right_sign() {
    // obama3 looks towards image-right, obama2 towards image-left (see the portraits)
    let right = quality(&portrait("obama3.jpg")).measures.yaw_deg;
    let left = quality(&portrait("obama2.jpg")).measures.yaw_deg;
    let front = quality(&portrait("obama.jpg")).measures.yaw_deg;
    assert!(right > 12.0 && left < -12.0 && front.abs() < 5.0, "{right} {left} {front}");
    // mirroring flips the sign
    let mirrored = quality(&portrait("obama3.jpg").flip_horizontal()).measures.yaw_deg;
    assert!((mirrored + right).abs() < 4.0, "{mirrored} vs {right}");
}

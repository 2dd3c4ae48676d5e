//! ID photo vs selfie: the portrait pasted small on a card-like document with text, compared
//! with a live photo of the same person and of another person.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, TemplateOptions};
use faceproof::DEFAULT_COSINE_THRESHOLD as T;

fn open(n: &str) -> RgbImage {
    RgbImage::open(format!("{}/tests/data/portraits/{n}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn document_face_matches_the_same_person_only() {
    let p = FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap();
    let obama_card = common::id_card(&p, &open("obama.jpg"), 32.0);
    let biden_card = common::id_card(&p, &open("biden.jpg"), 32.0);
    let (doc, selfie) = (TemplateOptions::id_document(), TemplateOptions::default());
    // the face on the card is small: the full-range detector finds it
    let t = p.template(&obama_card, &doc).unwrap();
    assert!(t.detection.width() < 120.0, "face on the card is small: {:?}", t.detection.bbox);
    let same = p.compare(&obama_card, &doc, &open("obama2.jpg"), &selfie).unwrap();
    let same3 = p.compare(&obama_card, &doc, &open("obama3.jpg"), &selfie).unwrap();
    let other = p.compare(&obama_card, &doc, &open("biden.jpg"), &selfie).unwrap();
    let other2 = p.compare(&biden_card, &doc, &open("obama2.jpg"), &selfie).unwrap();
    println!("same {same:.3} {same3:.3}, other {other:.3} {other2:.3}, threshold {T}");
    assert!(same > T && same3 > T, "same person: {same} {same3}");
    assert!(other < T && other2 < T, "other person: {other} {other2}");
}

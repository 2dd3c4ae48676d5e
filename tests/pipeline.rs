//! Native behaviour of the template pipeline on real faces.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use faceproof::detect::{DetectorKind, MIN_SCORE};
use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, Selection, TemplateOptions};
use faceproof::Error;

fn pipeline() -> FacePipeline {
    FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap()
}

fn portrait(name: &str) -> RgbImage {
    RgbImage::open(format!("{}/tests/data/portraits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn same_person_scores_high_and_different_people_low() {
    let p = pipeline();
    let o = TemplateOptions::default();
    let e: Vec<_> = common::PORTRAITS.iter().map(|n| p.template(&portrait(n), &o).unwrap().embedding).collect();
    let t = faceproof::DEFAULT_COSINE_THRESHOLD;
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert!(e[i].cosine(&e[j]) > t, "obama {i}-{j}: {}", e[i].cosine(&e[j]));
    }
    for i in 0..3 {
        assert!(e[i].cosine(&e[3]) < t - 0.2, "obama {i} vs biden: {}", e[i].cosine(&e[3]));
    }
}

#[test]
fn two_faces_are_seen_and_selected_by_policy() {
    let p = pipeline();
    let both = common::side_by_side(&portrait("obama2.jpg"), &portrait("biden.jpg"));
    for kind in [DetectorKind::Front128, DetectorKind::Back256] {
        let faces = p.detect(&both, kind, MIN_SCORE).unwrap();
        assert_eq!(faces.len(), 2, "{kind:?}");
    }
    let single = TemplateOptions::default();
    assert_eq!(p.template(&both, &single).unwrap_err(), Error::MultipleFaces { count: 2 });
    let central = TemplateOptions { selection: Selection::Central, ..single };
    let t = p.template(&both, &central).unwrap();
    assert_eq!(t.faces_seen, 2);
}

#[test]
fn blank_and_noise_frames_have_no_face() {
    let p = pipeline();
    let blank = RgbImage::from_rgb(&vec![90u8; 640 * 480 * 3], 640, 480).unwrap();
    assert_eq!(p.template(&blank, &TemplateOptions::default()).unwrap_err(), Error::NoFace);
    let mut seed = 7u32;
    let noise: Vec<u8> = (0..320 * 240 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 24) as u8
        })
        .collect();
    let noise = RgbImage::from_rgb(&noise, 320, 240).unwrap();
    assert_eq!(p.template(&noise, &TemplateOptions::default()).unwrap_err(), Error::NoFace);
}

#[test]
fn tiny_and_odd_shaped_frames_do_not_panic() {
    let p = pipeline();
    for (w, h) in [(1, 1), (1, 500), (500, 1), (3, 2)] {
        let img = RgbImage::from_rgb(&vec![200u8; w * h * 3], w as u32, h as u32).unwrap();
        let r = p.template(&img, &TemplateOptions::default());
        assert!(matches!(r, Err(Error::NoFace)), "{w}x{h}: {r:?}");
    }
}

#[test]
fn tracking_follows_a_moving_face_and_falls_back_to_detection() {
    use faceproof::geometry::{warp, Affine};
    use faceproof::pipeline::Tracker;
    use faceproof::quality::Limits;
    let p = pipeline();
    let f0 = common::camera_frame(&p, &portrait("obama.jpg"), 70.0);
    let f1 = warp(&f0, &Affine([1.0, 0.0, -15.0, 0.0, 1.0, -6.0]), 640, 480); // face moves right/down
    let mut tr = Tracker::new(4);
    let a0 = p.analyze_tracked(&f0, &mut tr, &Limits::DEFAULT).unwrap();
    let a1 = p.analyze_tracked(&f1, &mut tr, &Limits::DEFAULT).unwrap();
    let full = p.analyze(&f1, DetectorKind::Front128, &Limits::DEFAULT).unwrap();
    let (c0, c1) = (a0.faces[0].center(), a1.faces[0].center());
    assert!(((c1[0] - c0[0]) - 15.0).abs() < 3.0 && ((c1[1] - c0[1]) - 6.0).abs() < 3.0, "{c0:?} -> {c1:?}");
    let (t, u) = (&a1.quality.measures, &full.quality.measures);
    assert!((t.eye_distance_px - u.eye_distance_px).abs() < 2.0, "{t:?} vs {u:?}");
    assert!((t.yaw_deg - u.yaw_deg).abs() < 3.0, "{t:?} vs {u:?}");
    assert!(a1.quality.usable);
    // the face leaves: tracking fails over to the detector, which finds nothing
    let blank = RgbImage::from_rgb(&vec![90u8; 640 * 480 * 3], 640, 480).unwrap();
    let a2 = p.analyze_tracked(&blank, &mut tr, &Limits::DEFAULT).unwrap();
    assert_eq!(a2.quality.reasons, vec![faceproof::quality::Reason::NoFace]);
}

#[test]
fn warp_of_a_frame_in_place_equals_the_float_image_warp() {
    common::check_warp_in_place();
}

/// The browser path reads RGBA bytes in place (`RgbaFrame`); it must give exactly the template,
/// face and quality of the same frame converted to floats first.
#[test]
fn rgba_frames_read_in_place_give_the_same_results() {
    use faceproof::image::RgbaFrame;
    use faceproof::quality::Limits;
    let p = pipeline();
    let o = TemplateOptions::default();
    for name in common::PORTRAITS {
        let img = portrait(name);
        let rgba = img.to_rgba8();
        let frame = RgbaFrame::new(&rgba, img.width, img.height).unwrap();
        let floats = RgbImage::from_rgba(&rgba, img.width, img.height).unwrap();
        let (a, b) = (p.template(&frame, &o).unwrap(), p.template(&floats, &o).unwrap());
        assert_eq!(a.embedding.0, b.embedding.0, "{name}");
        assert_eq!(a.detection, b.detection, "{name}");
        let (qa, qb) = (
            p.analyze(&frame, DetectorKind::Front128, &Limits::DEFAULT).unwrap(),
            p.analyze(&floats, DetectorKind::Front128, &Limits::DEFAULT).unwrap(),
        );
        assert_eq!(format!("{:?}", qa.quality), format!("{:?}", qb.quality), "{name}");
    }
}

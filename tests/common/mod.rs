//! Shared by the native and the browser tests: fixtures and the expected native output.
#![allow(dead_code)]

use faceproof::pipeline::TemplateOptions;

#[cfg(feature = "inference")]
pub mod depthwise;
#[cfg(all(feature = "inference", target_arch = "wasm32"))]
pub mod f32_direct;
#[cfg(feature = "inference")]
pub mod int8;

pub const PORTRAITS: [&str; 4] = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"];

/// The two pipeline settings whose output is recorded in `tests/data/native_embeddings.json`
/// (float32 models, `models/`).
pub fn recorded_settings() -> [(&'static str, TemplateOptions); 2] {
    [("default", TemplateOptions::default()), ("reference", TemplateOptions::reference())]
}

/// Also recorded: the shipped models (`models/web`, the embedder's 1x1 convolutions in int8)
/// with the default options, so that the browser's int8 kernels are checked against native.
pub const SHIPPED_SETTING: &str = "shipped";

/// A frame's RGBA bytes sampled in place (`RgbaFrame`, wasm SIMD in the browser) warp to
/// exactly what the float image converted from them warps to: every byte value, a rotation and
/// scale that puts samples inside, across and beyond the borders.
pub fn check_warp_in_place() {
    use faceproof::geometry::{warp, Affine};
    use faceproof::image::{RgbImage, RgbaFrame};
    let (w, h) = (67, 41);
    let bytes: Vec<u8> = (0..w * h * 4).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(bytes.contains(&0) && bytes.contains(&255));
    let frame = RgbaFrame::new(&bytes, w, h).unwrap();
    let floats = RgbImage::from_rgba(&bytes, w, h).unwrap();
    let inv = Affine([0.74, -0.12, -3.0, 0.1, 0.72, -2.5]);
    let (a, b) = (warp(&frame, &inv, 90, 60), warp(&floats, &inv, 90, 60));
    assert_eq!(a.data, b.data);
    assert!(a.data.iter().filter(|&&v| v == 0.0).count() < a.data.len() / 2, "mostly inside");
}

/// Two images next to each other on a black canvas (a frame with two faces).
pub fn side_by_side(a: &faceproof::image::RgbImage, b: &faceproof::image::RgbImage) -> faceproof::image::RgbImage {
    use faceproof::image::RgbImage;
    let (w, h) = (a.width + b.width, a.height.max(b.height));
    let mut out = RgbImage::new(w, h);
    for (img, x0) in [(a, 0), (b, a.width)] {
        for y in 0..img.height as usize {
            let src = &img.data[y * img.width as usize * 3..(y + 1) * img.width as usize * 3];
            let dst = (y * w as usize + x0 as usize) * 3;
            out.data[dst..dst + src.len()].copy_from_slice(src);
        }
    }
    out
}

/// Synthetic degradations of a photo, for the quality tests.
pub mod degrade {
    use faceproof::geometry::{warp, Affine};
    use faceproof::image::RgbImage;

    /// `v -> gain * v + offset`, clamped to 0..=255.
    pub fn levels(img: &RgbImage, gain: f32, offset: f32) -> RgbImage {
        let mut out = img.clone();
        out.data.iter_mut().for_each(|v| *v = (*v * gain + offset).clamp(0.0, 255.0));
        out
    }

    /// Box blur of the given radius (three passes approximate a Gaussian).
    pub fn blur(img: &RgbImage, radius: usize) -> RgbImage {
        let mut out = img.clone();
        let (w, h) = (img.width as usize, img.height as usize);
        for _ in 0..3 {
            for (len, stride, count, step) in [(w, 3, h, w * 3), (h, w * 3, w, 3)] {
                let src = out.data.clone();
                for line in 0..count {
                    for c in 0..3 {
                        let at = |i: usize| src[line * step + i * stride + c];
                        let mut acc = 0.0;
                        let mut n = 0.0;
                        for i in 0..len.min(radius + 1) {
                            acc += at(i);
                            n += 1.0;
                        }
                        for i in 0..len {
                            out.data[line * step + i * stride + c] = acc / n;
                            if i + radius + 1 < len {
                                acc += at(i + radius + 1);
                                n += 1.0;
                            }
                            if i >= radius {
                                acc -= at(i - radius);
                                n -= 1.0;
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Resize by `s` (bilinear).
    pub fn scale(img: &RgbImage, s: f64) -> RgbImage {
        let (w, h) =
            (((img.width as f64) * s).round().max(1.0) as u32, ((img.height as f64) * s).round().max(1.0) as u32);
        warp(img, &Affine([1.0 / s, 0.0, 0.5 / s - 0.5, 0.0, 1.0 / s, 0.5 / s - 0.5]), w, h)
    }

    /// Rotate by `deg` about the image centre, same size (corners go black).
    pub fn rotate(img: &RgbImage, deg: f64) -> RgbImage {
        let (s, c) = deg.to_radians().sin_cos();
        let (cx, cy) = (img.width as f64 / 2.0, img.height as f64 / 2.0);
        // dst -> src: rotate by -deg about the centre
        let inv = Affine([c, s, cx - c * cx - s * cy, -s, c, cy + s * cx - c * cy]);
        warp(img, &inv, img.width, img.height)
    }

    /// Keep the rectangle [x0, x1) x [y0, y1).
    pub fn crop(img: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> RgbImage {
        warp(img, &Affine([1.0, 0.0, x0 as f64, 0.0, 1.0, y0 as f64]), x1 - x0, y1 - y0)
    }
}

/// A 640x480 "camera frame" showing the face of `img` centred, with the given distance between
/// the eyes (pixels): the same framing for photos of different sizes.
pub fn camera_frame(
    p: &faceproof::pipeline::FacePipeline,
    img: &faceproof::image::RgbImage,
    eye_distance: f64,
) -> faceproof::image::RgbImage {
    p.reframe(img, eye_distance, 640, 480).unwrap()
}

/// A document-like image: a light card with a coloured band, lines of dark "text" blocks and
/// the portrait's face pasted small on the left (eye distance `eye_px`).
pub fn id_card(
    p: &faceproof::pipeline::FacePipeline,
    portrait: &faceproof::image::RgbImage,
    eye_px: f64,
) -> faceproof::image::RgbImage {
    use faceproof::image::RgbImage;
    let (w, h) = (860u32, 540u32);
    let mut card = RgbImage::new(w, h);
    let mut seed = 17u32;
    let mut rnd = move || {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        seed >> 8
    };
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let band = y < 70;
            let base = if band { [40.0, 90.0, 160.0] } else { [236.0, 232.0, 220.0] };
            // faint guilloche-like pattern
            let wave = 6.0 * (((x as f32) * 0.07).sin() * ((y as f32) * 0.05).cos());
            card.data[i..i + 3].copy_from_slice(&[base[0] + wave, base[1] + wave, base[2] + wave]);
        }
    }
    // "text": rows of dark blocks right of the photo
    for row in 0..8u32 {
        let y0 = 110 + row * 45;
        let mut x = 330u32;
        while x < w - 40 {
            let len = 8 + rnd() % 40;
            for y in y0..y0 + 18 {
                for xx in x..(x + len).min(w - 40) {
                    let i = ((y * w + xx) * 3) as usize;
                    card.data[i..i + 3].copy_from_slice(&[30.0, 30.0, 40.0]);
                }
            }
            x += len + 6 + rnd() % 12;
        }
    }
    // the photo: a 240x320 window around the face
    let face = camera_frame(p, portrait, eye_px);
    let photo =
        faceproof::geometry::warp(&face, &faceproof::geometry::Affine([1.0, 0.0, 200.0, 0.0, 1.0, 100.0]), 240, 320);
    for y in 0..320u32 {
        for x in 0..240u32 {
            let s = ((y * 240 + x) * 3) as usize;
            let d = (((y + 120) * w + x + 50) * 3) as usize;
            card.data[d..d + 3].copy_from_slice(&photo.data[s..s + 3]);
        }
    }
    card
}

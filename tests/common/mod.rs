//! Shared by the native and the browser tests: fixtures and the expected native output.
#![allow(dead_code)]

use faceproof::pipeline::TemplateOptions;

pub const PORTRAITS: [&str; 4] = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"];

/// The two pipeline settings whose output is recorded in `tests/data/native_embeddings.json`.
pub fn recorded_settings() -> [(&'static str, TemplateOptions); 2] {
    [("default", TemplateOptions::default()), ("reference", TemplateOptions::reference())]
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

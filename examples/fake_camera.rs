//! Fake camera videos (y4m) and an ID-card image from the portraits, for the end-to-end
//! browser tests (Chromium's `--use-file-for-fake-video-capture`).
//!
//! ```text
//! cargo run --release --example fake_camera -- video OUT.y4m STRAIGHT.jpg TURNED.jpg POSES
//!     POSES: comma-separated straight|left|right|closer, each held 1.2 s at 10 fps;
//!     TURNED.jpg shows the face turned to the image-left (the subject's right)
//! cargo run --release --example fake_camera -- card OUT.png PORTRAIT.jpg
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use faceproof::image::RgbImage;
use faceproof::pipeline::FacePipeline;
use std::io::Write;

const W: u32 = 640;
const H: u32 = 480;
const FPS: usize = 10;
const HOLD_FRAMES: usize = 12;

fn yuv420(img: &RgbImage) -> Vec<u8> {
    let (w, h) = (img.width as usize, img.height as usize);
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (img.data[i], img.data[i + 1], img.data[i + 2])
    };
    let mut out = Vec::with_capacity(w * h * 3 / 2);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            out.push((0.299 * r + 0.587 * g + 0.114 * b).round().clamp(0.0, 255.0) as u8);
        }
    }
    for plane in 0..2 {
        for y in (0..h).step_by(2) {
            for x in (0..w).step_by(2) {
                let (r, g, b) = px(x, y);
                let v = if plane == 0 {
                    128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b
                } else {
                    128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b
                };
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let p = FacePipeline::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).expect("models");
    match args.first().map(String::as_str) {
        Some("video") if args.len() == 5 => {
            let straight = RgbImage::open(&args[2]).expect("straight photo");
            let turned = RgbImage::open(&args[3]).expect("turned photo");
            let frame = |pose: &str| {
                match pose {
                    "straight" => p.reframe(&straight, 70.0, W, H),
                    "right" => p.reframe(&turned, 70.0, W, H),
                    "left" => p.reframe(&turned.flip_horizontal(), 70.0, W, H),
                    "closer" => p.reframe(&straight, 100.0, W, H),
                    other => panic!("unknown pose {other}"),
                }
                .expect("a face in the photo")
            };
            let mut f = std::io::BufWriter::new(std::fs::File::create(&args[1]).expect("output"));
            writeln!(f, "YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg").unwrap();
            for pose in args[4].split(',') {
                let yuv = yuv420(&frame(pose));
                for _ in 0..HOLD_FRAMES {
                    f.write_all(b"FRAME\n").unwrap();
                    f.write_all(&yuv).unwrap();
                }
            }
        }
        Some("card") if args.len() == 3 => {
            let portrait = RgbImage::open(&args[2]).expect("portrait");
            let card = common::id_card(&p, &portrait, 32.0);
            image::save_buffer(&args[1], &card.to_rgba8(), card.width, card.height, image::ColorType::Rgba8)
                .expect("write png");
        }
        _ => {
            eprintln!("usage: fake_camera video OUT.y4m STRAIGHT.jpg TURNED.jpg POSES | fake_camera card OUT.png PORTRAIT.jpg");
            std::process::exit(2);
        }
    }
}

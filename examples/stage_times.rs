//! Native per-stage timings (median of N runs), e.g. to compare model variants:
//! `RTEN_NUM_THREADS=1 cargo run --release --example stage_times -- models/web 50`
//! (also the passive anti-spoofing stage, when its two models are in the directory)
use faceproof::antispoof::AntiSpoof;
use faceproof::image::RgbImage;
use faceproof::pipeline::{FacePipeline, Precision, TemplateOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().map_or("models", String::as_str);
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(30);
    let t0 = std::time::Instant::now();
    let p = FacePipeline::from_dir(dir).expect("models");
    println!("{dir}: models loaded in {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let img = RgbImage::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/portraits/obama.jpg")).expect("image");
    let mut t: Vec<[f64; 4]> = (0..runs)
        .map(|_| {
            let s = p.template(&img, &TemplateOptions::default()).expect("template").times;
            [s.detect, s.landmarks, s.align, s.embed]
        })
        .collect();
    let med = |i: usize, t: &mut Vec<[f64; 4]>| {
        t.sort_by(|a, b| a[i].total_cmp(&b[i]));
        t[t.len() / 2][i]
    };
    println!(
        "{dir}: detect {:.2} ms, landmarks {:.2} ms, align {:.2} ms, embed {:.2} ms (median of {runs})",
        med(0, &mut t),
        med(1, &mut t),
        med(2, &mut t),
        med(3, &mut t)
    );
    if let Ok(spoof) = AntiSpoof::from_dir(dir, Precision::Float32) {
        let face = p.template(&img, &TemplateOptions::default()).expect("template").detection;
        let mut ms: Vec<f64> = (0..runs)
            .map(|_| {
                let t = std::time::Instant::now();
                spoof.score(&img, &face).expect("antispoof");
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!("{dir}: antispoof (2 crops, 2 models) {:.2} ms (median of {runs})", ms[ms.len() / 2]);
    }
}

//! `faceproof`: the native command line (accuracy harness, server-side scripts).
//!
//! ```text
//! faceproof embed IMAGE [--reference] [--json]
//! faceproof compare A B [--threshold T] [--json]
//! faceproof eval --pairs PAIRS.tsv --images DIR [--json] [--limit N] [--quality] [--protected]
//! faceproof enroll --secret HEX --rp RP_ID [--epoch N] --out REFERENCE IMAGE...
//! faceproof prove --secret HEX --reference REFERENCE --challenge JSON IMAGE...
//! faceproof verify --public-key HEX --reference REFERENCE --challenge JSON --proof BASE64 [--no-liveness]
//! ```
//! Pipeline options: `--reference` (exactly reference_pipeline.py), `--no-flip`,
//! `--blazeface-align`, `--detector front|back`, `--selection central|strongest`.
//! Common options: `--models DIR` (default: `$FACEPROOF_MODELS` or the crate's `models/`).

use faceproof::detect::DetectorKind;
use faceproof::eval::{metrics, ScoredPair};
use faceproof::image::RgbImage;
use faceproof::pipeline::{Alignment, FacePipeline, Precision, Selection, StageTimes, Template, TemplateOptions};
use faceproof::quality::{Limits, Quality, Reason};
use faceproof::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default decision threshold on the cosine score, chosen on lfw-dev (see README).
const DEFAULT_THRESHOLD: f64 = faceproof::DEFAULT_COSINE_THRESHOLD as f64;

pub(crate) struct Args {
    positional: Vec<String>,
    flags: HashMap<String, Option<String>>,
}

impl Args {
    fn parse(raw: impl Iterator<Item = String>, with_value: &[&str]) -> Result<Args, String> {
        let mut positional = vec![];
        let mut flags = HashMap::new();
        let mut it = raw.peekable();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                if with_value.contains(&name) {
                    let v = it.next().ok_or(format!("--{name} needs a value"))?;
                    flags.insert(name.to_string(), Some(v));
                } else {
                    flags.insert(name.to_string(), None);
                }
            } else {
                positional.push(a);
            }
        }
        Ok(Args { positional, flags })
    }
    pub(crate) fn has(&self, f: &str) -> bool {
        self.flags.contains_key(f)
    }
    pub(crate) fn value(&self, f: &str) -> Option<&str> {
        self.flags.get(f).and_then(|v| v.as_deref())
    }
}

pub(crate) fn models_dir(args: &Args) -> PathBuf {
    args.value("models")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("FACEPROOF_MODELS").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// The four models from `--models`, the embedder in `--precision` (`int8`, what the SDK runs,
/// or `float32`, the reference).
pub(crate) fn pipeline(args: &Args) -> Result<FacePipeline, Error> {
    FacePipeline::from_dir_with(models_dir(args), precision(args)?)
}

pub(crate) fn precision(args: &Args) -> Result<Precision, Error> {
    match args.value("precision") {
        None | Some("int8") => Ok(Precision::Int8Pointwise),
        Some("float32") => Ok(Precision::Float32),
        Some(other) => Err(Error::InvalidArgument(format!("--precision is int8 or float32, not {other:?}"))),
    }
}

pub(crate) fn options(args: &Args) -> TemplateOptions {
    let mut o = if args.has("reference") { TemplateOptions::reference() } else { TemplateOptions::default() };
    if args.has("no-flip") {
        o.flip = false;
    }
    if args.has("flip") {
        o.flip = true;
    }
    if args.has("blazeface-align") {
        o.alignment = Alignment::Reference;
    }
    match args.value("selection") {
        Some("strongest") => o.selection = Selection::Strongest,
        Some("central") => o.selection = Selection::Central,
        _ => {}
    }
    match args.value("detector") {
        Some("back") => o.detector = DetectorKind::Back256,
        Some("front") => o.detector = DetectorKind::Front128,
        _ => {}
    }
    o
}

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  faceproof embed IMAGE [--reference] [--json]\n  faceproof compare A B [--threshold T] [--json]\n  \
         faceproof eval --pairs PAIRS.tsv --images DIR [--json] [--limit N] [--quality] [--protected]\n  \
         faceproof enroll --secret HEX --rp RP_ID [--epoch N] --out REFERENCE IMAGE...\n  \
         faceproof prove --secret HEX --reference REFERENCE --challenge JSON IMAGE...\n  \
         faceproof verify --public-key HEX --reference REFERENCE --challenge JSON --proof BASE64 [--no-liveness] [--now MS]\n\
         options: --models DIR  --precision int8|float32  --reference (reference_pipeline.py)  --no-flip\n         \
         --blazeface-align  --detector front|back  --selection central|strongest"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    let Some(cmd) = raw.next() else { return usage() };
    let args = match Args::parse(
        raw,
        &[
            "models",
            "precision",
            "threshold",
            "pairs",
            "images",
            "limit",
            "selection",
            "detector",
            "cache",
            "draws",
            "secret",
            "rp",
            "epoch",
            "out",
            "reference",
            "challenge",
            "public-key",
            "proof",
            "now",
        ],
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return usage();
        }
    };
    let result = match cmd.as_str() {
        "embed" => cmd_embed(&args),
        "compare" => cmd_compare(&args),
        "eval" => cmd_eval(&args),
        "enroll" => keys_cli::enroll(&args),
        "prove" => keys_cli::prove(&args),
        "verify" => keys_cli::verify(&args),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn cmd_embed(args: &Args) -> Result<(), Error> {
    let [path] = args.positional.as_slice() else {
        return Err(Error::InvalidArgument("embed takes one image".into()));
    };
    let p = pipeline(args)?;
    let t = p.template(&RgbImage::open(path)?, &options(args))?;
    if args.has("json") {
        let d = &t.detection;
        println!(
            "{}",
            serde_json::json!({
                "image": path, "score": d.score, "box": d.bbox, "keypoints": d.keypoints,
                "embedding": t.embedding.0, "times_ms": t.times,
            })
        );
    } else {
        println!("{path}: score={:.4} box={:?}", t.detection.score, t.detection.bbox);
        println!("{}", t.embedding.0.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(" "));
    }
    Ok(())
}

fn cmd_compare(args: &Args) -> Result<(), Error> {
    let [a, b] = args.positional.as_slice() else {
        return Err(Error::InvalidArgument("compare takes two images".into()));
    };
    let threshold = match args.value("threshold") {
        Some(t) => t.parse().map_err(|_| Error::InvalidArgument(format!("bad threshold {t:?}")))?,
        None => DEFAULT_THRESHOLD,
    };
    let p = pipeline(args)?;
    let o = options(args);
    let ta = p.template(&RgbImage::open(a)?, &o)?;
    let tb = p.template(&RgbImage::open(b)?, &o)?;
    let score = ta.embedding.cosine(&tb.embedding) as f64;
    let same = score > threshold;
    if args.has("json") {
        println!("{}", serde_json::json!({"score": score, "threshold": threshold, "same_person": same}));
    } else {
        println!(
            "score {score:.4}  threshold {threshold:.4}  {}",
            if same { "SAME PERSON" } else { "DIFFERENT PEOPLE" }
        );
    }
    Ok(())
}

pub(crate) struct PairRow {
    pub(crate) fold: u32,
    pub(crate) same: bool,
    pub(crate) a: String,
    pub(crate) b: String,
}

pub(crate) fn read_pairs(path: &str) -> Result<Vec<PairRow>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidArgument(format!("{path}: {e}")))?;
    let mut rows = vec![];
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if n == 0 && cols.first() == Some(&"fold") {
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let bad = || Error::InvalidArgument(format!("{path}:{}: expected fold, same, file1, file2", n + 1));
        if cols.len() != 4 {
            return Err(bad());
        }
        rows.push(PairRow {
            fold: cols[0].parse().map_err(|_| bad())?,
            same: cols[1] == "1",
            a: cols[2].to_string(),
            b: cols[3].to_string(),
        });
    }
    Ok(rows)
}

/// How one evaluation image was handled: `fallback` is set when no face passed the
/// detector threshold and the strongest anchor was used instead.
pub(crate) struct EvalImage {
    pub(crate) template: Template,
    pub(crate) fallback: bool,
}

pub(crate) fn template_for_eval(p: &FacePipeline, img: &RgbImage, o: &TemplateOptions) -> Result<EvalImage, Error> {
    let mut o = *o;
    if o.selection == Selection::Single {
        o.selection = Selection::Central; // LFW protocol: the subject is the central face
    }
    match p.template(img, &o) {
        Ok(template) => Ok(EvalImage { template, fallback: false }),
        Err(Error::NoFace) => {
            // Counted and reported as `no_face`: the image keeps a template from the
            // strongest anchor, as the reference pipeline always does.
            let mut f = o;
            f.selection = Selection::Strongest;
            f.min_score = 0.0;
            Ok(EvalImage { template: p.template(img, &f)?, fallback: true })
        }
        Err(e) => Err(e),
    }
}

fn cmd_eval(args: &Args) -> Result<(), Error> {
    if args.has("protected") {
        return protected_eval::run(args);
    }
    let pairs_path = args.value("pairs").ok_or(Error::InvalidArgument("--pairs is required".into()))?;
    let images = PathBuf::from(args.value("images").ok_or(Error::InvalidArgument("--images is required".into()))?);
    let mut rows = read_pairs(pairs_path)?;
    if let Some(l) = args.value("limit") {
        rows.truncate(l.parse().map_err(|_| Error::InvalidArgument("bad --limit".into()))?);
    }
    let p = pipeline(args)?;
    // Photos, not selfies: the full-range detector unless told otherwise (README: Accuracy).
    let o = if args.has("reference") || args.value("detector").is_some() {
        options(args)
    } else {
        TemplateOptions { detector: DetectorKind::Back256, ..options(args) }
    };
    let mut cache: HashMap<String, EvalImage> = HashMap::new();
    let mut qualities: HashMap<String, Quality> = HashMap::new();
    let mut norms: HashMap<String, f32> = HashMap::new();
    let mut decode_ms = 0.0;
    let mut times = StageTimes::default();
    let names: Vec<String> = {
        let mut v: Vec<String> = rows.iter().flat_map(|r| [r.a.clone(), r.b.clone()]).collect();
        v.sort();
        v.dedup();
        v
    };
    for (i, name) in names.iter().enumerate() {
        let t0 = faceproof::clock::now_ms();
        let img = RgbImage::open(images.join(name))?;
        decode_ms += faceproof::clock::now_ms() - t0;
        let e = template_for_eval(&p, &img, &o)?;
        if args.has("quality") {
            let (q, _) =
                p.assess(&img, e.template.detection.clone(), e.template.faces_seen.max(1), &Limits::DEFAULT)?;
            qualities.insert(name.clone(), q.with_embedding_norm(e.template.norm, &Limits::DEFAULT));
            norms.insert(name.clone(), e.template.norm);
        }
        times.detect += e.template.times.detect;
        times.landmarks += e.template.times.landmarks;
        times.align += e.template.times.align;
        times.embed += e.template.times.embed;
        cache.insert(name.clone(), e);
        if !args.has("json") && (i + 1) % 500 == 0 {
            eprintln!("  {} / {} images", i + 1, names.len());
        }
    }
    let scored: Vec<ScoredPair> = rows
        .iter()
        .map(|r| ScoredPair {
            fold: r.fold,
            same: r.same,
            score: cache[&r.a].template.embedding.cosine(&cache[&r.b].template.embedding) as f64,
        })
        .collect();
    let m = metrics(&scored);
    let no_face = cache.values().filter(|e| e.fallback).count();
    let several = cache.values().filter(|e| e.template.faces_seen > 1).count();
    let n = names.len().max(1) as f64;
    let per_image = serde_json::json!({
        "decode": decode_ms / n, "detect": times.detect / n, "landmarks": times.landmarks / n,
        "align": times.align / n, "embed": times.embed / n,
    });
    if args.has("json") {
        let mut j = serde_json::to_value(&m).unwrap_or_default();
        if let Some(obj) = j.as_object_mut() {
            obj.insert("images".into(), names.len().into());
            obj.insert("no_face".into(), no_face.into());
            obj.insert("no_face_handling".into(), "strongest detector anchor used (as the reference pipeline)".into());
            obj.insert("several_faces".into(), several.into());
            obj.insert("ms_per_image".into(), per_image);
            obj.insert("alignment".into(), format!("{:?}", o.alignment).into());
            obj.insert("flip".into(), o.flip.into());
            obj.insert("detector".into(), format!("{:?}", o.detector).into());
            obj.insert("precision".into(), format!("{:?}", p.precision).into());
            if args.has("quality") {
                obj.insert(
                    "quality".into(),
                    quality_study(&rows, &scored, &qualities, &norms, m.threshold_at_far_1e_3),
                );
            }
        }
        println!("{j}");
    } else {
        println!("pairs {}  images {}", m.pairs, names.len());
        println!(
            "accuracy {:.2} % ± {:.2}  (folds: {})",
            m.accuracy * 100.0,
            m.accuracy_std * 100.0,
            m.fold_accuracy.iter().map(|a| format!("{:.2}", a * 100.0)).collect::<Vec<_>>().join(" ")
        );
        println!("EER {:.2} %", m.eer * 100.0);
        println!(
            "TAR {:.2} % at FAR 1 %;  {:.2} % at FAR 0.1 % (threshold {:.4})",
            m.tar_at_far_1e_2 * 100.0,
            m.tar_at_far_1e_3 * 100.0,
            m.threshold_at_far_1e_3
        );
        println!("accuracy threshold (mean over folds) {:.4}", m.threshold);
        println!("no face above threshold: {no_face} images (strongest anchor used); several faces: {several} images (central one used)");
        println!("ms per image: {per_image}");
        if args.has("quality") {
            println!(
                "quality: {}",
                serde_json::to_string_pretty(&quality_study(
                    &rows,
                    &scored,
                    &qualities,
                    &norms,
                    m.threshold_at_far_1e_3
                ))
                .unwrap_or_default()
            );
        }
    }
    Ok(())
}

mod keys_cli;
mod protected_eval;

/// Does rejecting low-quality images lower the error of the pairs kept? (error-versus-discard,
/// in the spirit of ISO/IEC 29794-5): false non-match rate at a fixed threshold (FAR 0.1 %
/// over all pairs) and false matches, for all pairs, for pairs whose two images are usable,
/// per reason, and when discarding the pairs with the lowest of each continuous measure.
fn quality_study(
    rows: &[PairRow],
    scored: &[ScoredPair],
    q: &HashMap<String, Quality>,
    norms: &HashMap<String, f32>,
    threshold: f64,
) -> serde_json::Value {
    let errors = |keep: &dyn Fn(usize) -> bool| {
        let (mut g, mut fnm, mut i, mut fm, mut kept) = (0, 0, 0, 0, 0);
        for (k, s) in scored.iter().enumerate() {
            if !keep(k) {
                continue;
            }
            kept += 1;
            if s.same {
                g += 1;
                fnm += (s.score <= threshold) as usize;
            } else {
                i += 1;
                fm += (s.score > threshold) as usize;
            }
        }
        serde_json::json!({
            "pairs_kept": kept, "discarded": 1.0 - kept as f64 / scored.len().max(1) as f64,
            "fnmr": fnm as f64 / g.max(1) as f64, "false_non_matches": fnm, "false_matches": fm, "impostor_pairs": i,
        })
    };
    let pair_q = |k: usize| (&q[&rows[k].a], &q[&rows[k].b]);
    let mut per_reason = serde_json::Map::new();
    let reasons = [
        Reason::FaceTooSmall,
        Reason::FaceCutOff,
        Reason::TooDark,
        Reason::TooBright,
        Reason::LowContrast,
        Reason::Blurred,
        Reason::HeadTurned,
        Reason::HeadTilted,
        Reason::LowConfidence,
        Reason::MultipleFaces,
        Reason::FaceUnclear,
    ];
    for r in reasons {
        let images = q.values().filter(|x| x.reasons.contains(&r)).count();
        let keep = |k: usize| {
            let (a, b) = pair_q(k);
            !a.reasons.contains(&r) && !b.reasons.contains(&r)
        };
        let mut v = errors(&keep);
        v["images_flagged"] = images.into();
        per_reason
            .insert(serde_json::to_value(r).ok().and_then(|x| x.as_str().map(String::from)).unwrap_or_default(), v);
    }
    // error versus discard for each continuous measure (pair quality = the worse image)
    let mut edc = serde_json::Map::new();
    let discards = [0.0, 0.01, 0.02, 0.05, 0.10, 0.20];
    let edc_of = |pair_value: &dyn Fn(usize) -> f64| -> serde_json::Value {
        let mut order: Vec<(f64, usize)> = (0..scored.len()).map(|k| (pair_value(k), k)).collect();
        order.sort_by(|x, y| x.0.total_cmp(&y.0));
        discards
            .iter()
            .map(|&frac| {
                let cut = (frac * scored.len() as f64).round() as usize;
                let dropped: std::collections::HashSet<usize> = order[..cut].iter().map(|x| x.1).collect();
                errors(&|k| !dropped.contains(&k))
            })
            .collect::<Vec<_>>()
            .into()
    };
    edc.insert("embedding_norm".into(), edc_of(&|k| norms[&rows[k].a].min(norms[&rows[k].b]) as f64));
    type Measure = (&'static str, fn(&Quality) -> f64);
    let measures: [Measure; 5] = [
        ("sharpness", |x| x.measures.sharpness as f64),
        ("eye_distance_px", |x| x.measures.eye_distance_px as f64),
        ("detector_score", |x| x.measures.score as f64),
        ("frontal (minus |yaw|)", |x| -(x.measures.yaw_deg.abs() as f64)),
        ("contrast", |x| x.measures.contrast as f64),
    ];
    for (name, f) in measures {
        edc.insert(
            name.into(),
            edc_of(&|k| {
                let (a, b) = pair_q(k);
                f(a).min(f(b))
            }),
        );
    }
    let mut sorted: Vec<f32> = norms.values().copied().collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let at = |f: f64| sorted.get(((sorted.len() as f64 - 1.0) * f) as usize).copied().unwrap_or(0.0);
    let norm_quantiles =
        serde_json::json!({"p01": at(0.01), "p02": at(0.02), "p05": at(0.05), "p10": at(0.1), "p50": at(0.5)});
    serde_json::json!({
        "threshold": threshold,
        "limits": Limits::DEFAULT,
        "all_pairs": errors(&|_| true),
        "usable_pairs": errors(&|k| { let (a, b) = pair_q(k); a.usable && b.usable }),
        "images_unusable": q.values().filter(|x| !x.usable).count(),
        "embedding_norm_quantiles": norm_quantiles,
        "per_reason": per_reason,
        "error_vs_discard": edc,
    })
}

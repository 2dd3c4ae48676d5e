//! `faceproof`: the native command line (accuracy harness, server-side scripts).
//!
//! ```text
//! faceproof embed IMAGE [--json]
//! faceproof compare A B [--threshold T] [--json]
//! faceproof eval --pairs PAIRS.tsv --images DIR [--json] [--limit N] [--quality] [--protected]
//! faceproof enroll --secret HEX --rp RP_ID [--epoch N] --oprf-key HEX --out REFERENCE IMAGE...
//! faceproof prove --secret HEX --reference REFERENCE --challenge JSON --oprf-key HEX IMAGE...
//! faceproof verify --public-key HEX --reference REFERENCE --challenge JSON --proof BASE64
//! faceproof oprf-key
//! faceproof spoof IMAGE... | --labels LABELS.tsv --root DIR | --bona-fide-dir DIR [--scores OUT.jsonl] [--json]
//! ```
//! `faceproof help SUBCOMMAND` (or `--help`) lists every option.

mod keys_cli;
mod metrics;
mod protected;
mod protected_eval;
mod spoof;

use clap::{Parser, Subcommand, ValueEnum};
use faceproof::detect::DetectorKind;
use faceproof::image::RgbImage;
use faceproof::pipeline::{Alignment, FacePipeline, Precision, Selection, StageTimes, Template, TemplateOptions};
use faceproof::quality::{Limits, Quality, Reason};
use faceproof::Error;
use metrics::{metrics, ScoredPair};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default decision threshold on the cosine score, chosen on lfw-dev (docs/accuracy.md).
const DEFAULT_THRESHOLD: f64 = faceproof::DEFAULT_COSINE_THRESHOLD as f64;

#[derive(Parser)]
#[command(
    name = "faceproof",
    version,
    about = "Face templates, comparisons, protected enrollment and proofs, and the accuracy harness."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find the one face of an image and print its embedding.
    Embed(EmbedArgs),
    /// Cosine score and same-person decision between the faces of two images.
    Compare(CompareArgs),
    /// Accuracy on a pairs protocol (LFW style): k-fold accuracy, EER, TAR at fixed FAR.
    Eval(EvalArgs),
    /// Enroll the faces of images: write the sealed reference, print the public key (JSON).
    Enroll(keys_cli::EnrollArgs),
    /// Answer a relying party's challenge with the faces of images: print the proof (base64).
    Prove(keys_cli::ProveArgs),
    /// Verify a proof as the relying party: print OK, or fail with the rejection code.
    Verify(keys_cli::VerifyArgs),
    /// Print a fresh relying-party OPRF key (64 hex digits), as a relying party draws per user.
    OprfKey,
    /// Passive anti-spoofing: the live score of images, or APCER/BPCER on a labelled set.
    Spoof(spoof::SpoofArgs),
}

/// Which models, and the embedder's precision.
#[derive(clap::Args, Debug)]
pub(crate) struct ModelArgs {
    /// Directory of the ONNX models [default: the repository's models/]
    #[arg(long, env = "FACEPROOF_MODELS")]
    models: Option<PathBuf>,
    /// Embedder precision: int8 (what the SDK runs) or float32 (the reference)
    #[arg(long, value_enum, default_value_t = PrecisionArg::Int8)]
    precision: PrecisionArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GridArg {
    /// every parameter combination of the trade-off curve
    Full,
    /// the shipped parameters only
    Shipped,
    /// the candidates near the operating point, each also under the dictionary attack, and
    /// the cross-validated choice (TAR on held-out folds, dictionary FAR on held-out references)
    Dictionary,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum PrecisionArg {
    Int8,
    Float32,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DetectorArg {
    /// BlazeFace front-128 (selfies)
    Front,
    /// BlazeFace back-256 (photos, ID documents, small faces)
    Back,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum SelectionArg {
    Single,
    Central,
    Largest,
    Strongest,
}

/// How a face becomes a template.
#[derive(clap::Args, Debug)]
pub(crate) struct TemplateArgs {
    /// Exactly the Python reference pipeline (strongest anchor, 4 BlazeFace keypoints)
    #[arg(long)]
    reference: bool,
    /// Embed the face only, not also its mirror image
    #[arg(long, conflicts_with = "flip")]
    no_flip: bool,
    /// Embed the face and its mirror image (the default)
    #[arg(long)]
    flip: bool,
    /// Align with BlazeFace's keypoints instead of FaceMesh's
    #[arg(long)]
    blazeface_align: bool,
    /// Face detector [default: front; eval: back]
    #[arg(long, value_enum)]
    detector: Option<DetectorArg>,
    /// Which face when there are several [default: single, an error; eval: central]
    #[arg(long, value_enum)]
    selection: Option<SelectionArg>,
}

#[derive(clap::Args, Debug)]
struct EmbedArgs {
    image: PathBuf,
    /// One JSON object instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    template: TemplateArgs,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(clap::Args, Debug)]
struct CompareArgs {
    a: PathBuf,
    b: PathBuf,
    /// Cosine score above which the faces are the same person
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
    /// One JSON object instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    template: TemplateArgs,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    /// Pairs file: tab-separated fold, same (0/1), image A, image B (a header line is skipped)
    #[arg(long)]
    pairs: PathBuf,
    /// Directory the pairs' image paths are relative to
    #[arg(long)]
    images: PathBuf,
    /// One JSON object instead of text
    #[arg(long)]
    json: bool,
    /// Evaluate only the first N pairs
    #[arg(long)]
    limit: Option<usize>,
    /// Also the error-versus-discard study of the quality reasons
    #[arg(long)]
    quality: bool,
    /// The protected scheme instead: face-bound keys per pair, trade-off sweep, attacks
    #[arg(long)]
    protected: bool,
    /// (--protected) file that keeps the computed face views for reruns
    #[arg(long)]
    cache: Option<PathBuf>,
    /// (--protected) random lock layouts per pair in the sweep
    #[arg(long, default_value_t = 4)]
    draws: usize,
    /// (--protected) the parameter sweep only
    #[arg(long)]
    sweep_only: bool,
    /// (--protected) the sweep's grid
    #[arg(long, value_enum, default_value_t = GridArg::Full)]
    grid: GridArg,
    #[command(flatten)]
    template: TemplateArgs,
    #[command(flatten)]
    model: ModelArgs,
}

pub(crate) fn models_dir(m: &ModelArgs) -> PathBuf {
    m.models.clone().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The models from `--models`, the embedder in `--precision`.
pub(crate) fn pipeline(m: &ModelArgs) -> Result<FacePipeline, Error> {
    let precision = match m.precision {
        PrecisionArg::Int8 => Precision::Int8Pointwise,
        PrecisionArg::Float32 => Precision::Float32,
    };
    FacePipeline::from_dir_with(models_dir(m), precision)
}

pub(crate) fn options(t: &TemplateArgs) -> TemplateOptions {
    let mut o = if t.reference { TemplateOptions::reference() } else { TemplateOptions::default() };
    if t.no_flip {
        o.flip = false;
    }
    if t.flip {
        o.flip = true;
    }
    if t.blazeface_align {
        o.alignment = Alignment::Reference;
    }
    if let Some(s) = t.selection {
        o.selection = match s {
            SelectionArg::Single => Selection::Single,
            SelectionArg::Central => Selection::Central,
            SelectionArg::Largest => Selection::Largest,
            SelectionArg::Strongest => Selection::Strongest,
        };
    }
    if let Some(d) = t.detector {
        o.detector = match d {
            DetectorArg::Front => DetectorKind::Front128,
            DetectorArg::Back => DetectorKind::Back256,
        };
    }
    o
}

/// Photos, not selfies: the evaluation's default is the full-range detector (docs/accuracy.md).
pub(crate) fn eval_options(t: &TemplateArgs) -> TemplateOptions {
    if t.reference || t.detector.is_some() {
        options(t)
    } else {
        TemplateOptions { detector: DetectorKind::Back256, ..options(t) }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Embed(a) => cmd_embed(a),
        Command::Compare(a) => cmd_compare(a),
        Command::Eval(a) if a.protected => protected_eval::run(a),
        Command::Eval(a) => cmd_eval(a),
        Command::Enroll(a) => keys_cli::enroll(a),
        Command::Prove(a) => keys_cli::prove(a),
        Command::Verify(a) => keys_cli::verify(a),
        Command::OprfKey => keys_cli::new_oprf_key(),
        Command::Spoof(a) => spoof::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn cmd_embed(args: &EmbedArgs) -> Result<(), Error> {
    let path = args.image.display().to_string();
    let p = pipeline(&args.model)?;
    let t = p.template(&RgbImage::open(&args.image)?, &options(&args.template))?;
    if args.json {
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

fn cmd_compare(args: &CompareArgs) -> Result<(), Error> {
    let threshold = args.threshold;
    let p = pipeline(&args.model)?;
    let o = options(&args.template);
    let ta = p.template(&RgbImage::open(&args.a)?, &o)?;
    let tb = p.template(&RgbImage::open(&args.b)?, &o)?;
    let score = ta.embedding.cosine(&tb.embedding) as f64;
    let same = score > threshold;
    if args.json {
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

pub(crate) fn read_pairs(path: &Path) -> Result<Vec<PairRow>, Error> {
    let path = path.display();
    let text = std::fs::read_to_string(path.to_string()).map_err(|e| Error::InvalidArgument(format!("{path}: {e}")))?;
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

fn cmd_eval(args: &EvalArgs) -> Result<(), Error> {
    let images = &args.images;
    let mut rows = read_pairs(&args.pairs)?;
    if let Some(l) = args.limit {
        rows.truncate(l);
    }
    let p = pipeline(&args.model)?;
    let o = eval_options(&args.template);
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
        if args.quality {
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
        if !args.json && (i + 1) % 500 == 0 {
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
    if args.json {
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
            if args.quality {
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
        if args.quality {
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
